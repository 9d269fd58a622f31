"""Serializer fields shared by the objects that run on workers (datasets, scoring runs, jobs): who holds the
work, its last heartbeat, and what it is waiting for (the database or the broker) while infrastructure is down."""
from __future__ import annotations

from rest_framework import serializers

from arena.permissions import worker_identity_can_view
from arena.resilience import waiting_message

FINISHED = {"ready", "succeeded", "failed", "cancelled"}
LEASE_FIELDS = ["worker", "heartbeat_at", "waiting"]


class LeaseFieldsMixin(serializers.Serializer):
    worker = serializers.SerializerMethodField(help_text="the worker running this now or last (staff only: it "
                                                         "names internal hosts)")
    heartbeat_at = serializers.DateTimeField(read_only=True, allow_null=True,
                                             help_text="the worker's last heartbeat; null when nobody holds it")
    waiting = serializers.SerializerMethodField(help_text='e.g. "waiting for the database (attempt 3 of 10): ..."')

    def get_worker(self, obj) -> str:
        request = self.context.get("request")
        return obj.worker if request is not None and worker_identity_can_view(user=request.user) else ""

    def get_waiting(self, obj) -> str:
        return "" if obj.status in FINISHED else waiting_message(obj)

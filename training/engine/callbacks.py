"""Arena's job semantics as a ``transformers.TrainerCallback``: progress, loss, tokens/s and MFU written to the
Job row through a JobReporter, cancellation at the next optimizer step, and the crash-test fault hook.

Only the main process reports; every process takes part in the cancel decision (an all-reduce), so all
ranks of a multi-GPU run stop at the same step.
"""
from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

from transformers import TrainerCallback

from training.flops import mfu

CANCEL_POLL_S = 1.0


def any_rank(flag: bool) -> bool:
    """True on every process when ``flag`` is true on any (a no-op outside torch.distributed)."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return flag
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
    tensor = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return bool(tensor.item())


class JobCallback(TrainerCallback):
    """Report a job's training to its row; stop when ``should_stop()`` says so (read on the main process)."""

    def __init__(
        self,
        *,
        reporter,
        should_stop: Callable[[], bool],
        train_share: float,
        metrics: dict,
        parameters: int,
        peak_flops: float | None = None,
        world_size: int = 1,
        kill_at_step: int | None = None,
        poll_interval: float = CANCEL_POLL_S,
    ) -> None:
        self.reporter = reporter
        self.should_stop = should_stop
        self.train_share = train_share
        self.metrics = metrics  # shared with the job runner: live values land in the row's metrics
        self.parameters = parameters
        self.peak_flops = peak_flops
        self.world_size = world_size
        self.kill_at_step = kill_at_step
        self.poll_interval = poll_interval
        self.cancelled = False
        self.resumed_from_step: int | None = None
        self._started = 0.0
        self._tokens_at_start = 0
        self._last_poll = 0.0

    # --- engine events ---------------------------------------------------------------------------
    def on_train_begin(self, args, state, control, **kwargs):
        self._started = time.perf_counter()
        self._tokens_at_start = state.num_input_tokens_seen or 0
        if state.global_step:
            self.resumed_from_step = state.global_step
            self.reporter.log(f"resumed from checkpoint at step {state.global_step}")
        self.metrics.update(train_steps=state.max_steps, resumed_from_step=self.resumed_from_step)
        self.reporter.update(force=True, stage=f"training step {state.global_step}/{state.max_steps}",
                             metrics=dict(self.metrics))

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or "loss" not in logs:
            return
        step, total = state.global_step, state.max_steps
        self.metrics["train_loss_last"] = logs["loss"]
        self.metrics.setdefault("train_loss_first", logs["loss"])
        if step == 1 or step % 10 == 0 or step == total:
            self.reporter.log(f"step {step}/{total} loss {logs['loss']:.4f}")

    def on_step_end(self, args, state, control, **kwargs):
        step, total = state.global_step, state.max_steps
        seconds = time.perf_counter() - self._started
        tokens = (state.num_input_tokens_seen or 0) - self._tokens_at_start
        rate = tokens / seconds if seconds > 0 else 0.0
        self.metrics.update(train_tokens_this_attempt=int(tokens), train_seconds_this_attempt=round(seconds, 3),
                            train_tokens_per_s=round(rate, 1))
        if self.peak_flops and rate:
            per_device = rate / self.world_size
            self.metrics["mfu"] = round(mfu(parameters=self.parameters, tokens_per_s=per_device,
                                            peak_flops=self.peak_flops), 4)
        self.reporter.update(progress=round(self.train_share * step / max(total, 1), 4),
                             stage=f"training step {step}/{total}", metrics=dict(self.metrics))
        if self.kill_at_step is not None and step == self.kill_at_step:
            self.reporter.flush()
            os.kill(os.getpid(), signal.SIGKILL)  # the crash tests' fault: die as an OOM-killed worker would
        if step < total and any_rank(self._poll_cancel()):
            self.cancelled = True
            control.should_training_stop = True
            control.should_save = False

    def on_save(self, args, state, control, **kwargs):
        self.reporter.log(f"checkpoint at step {state.global_step}")
        self.metrics["checkpoint_step"] = state.global_step
        self.reporter.update(force=True, metrics=dict(self.metrics))

    # --- helpers ---------------------------------------------------------------------------------
    def _poll_cancel(self) -> bool:
        now = time.monotonic()
        if self._last_poll and now - self._last_poll < self.poll_interval:
            return False
        self._last_poll = now
        return bool(self.should_stop())

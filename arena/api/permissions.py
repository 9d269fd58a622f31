from rest_framework.permissions import SAFE_METHODS, BasePermission


class IsOwnerOrReadOnly(BasePermission):
    """Anyone who can see an object may read it; only its owner may change it."""

    message = "only the owner may change this dataset"

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        owner_id = getattr(obj, "owner_id", None)
        return request.user.is_authenticated and (owner_id == request.user.pk or request.user.is_staff)

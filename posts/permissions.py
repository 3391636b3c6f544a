"""Who may do what with a post (docs/api.md, "Routes")."""

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from api.errors import NOT_AUTHORIZED
from posts.models import Post


class IsOwnerOrReadOnly(BasePermission):
    """Anyone who can see a post may read it; only its owner may replace, change or delete it.
    Anyone else gets 403 with the contract's "Not authorized to perform requested action".

    An object permission (DRF tutorial's): ``get_object()`` checks it once the post is found,
    so a post the caller cannot see is a 404 first."""

    message = NOT_AUTHORIZED

    def has_object_permission(self, request: Request, view: object, obj: Post) -> bool:
        """True for a read, or for the post's owner."""
        return request.method in SAFE_METHODS or obj.owner_id == request.user.pk

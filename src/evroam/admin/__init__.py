"""The back office: how a node's own back office feeds it its data (the API under `/admin/api`, bulk loads)."""

from evroam.admin.api import router

__all__ = ["router"]

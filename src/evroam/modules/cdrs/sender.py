"""HTTP handlers of the CDRs Sender interface (CPO): the list of the caller's CDRs."""

from fastapi import APIRouter

from evroam.modules.senders import owned_list
from evroam.types import ModuleID, Role

__all__ = ["router"]

router: APIRouter = APIRouter()
owned_list(router, ModuleID.CDRS, (Role.CPO,), by_holder=True)

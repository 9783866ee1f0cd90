"""HTTP handlers of the Sessions Sender interface (CPO): the list, with the required `date_from`."""

from fastapi import APIRouter

from evroam.modules.senders import owned_list
from evroam.types import ModuleID, Role

__all__ = ["router"]

router: APIRouter = APIRouter()
# mod_sessions_cpo_get_method: date_from is required; only sessions of the caller's tokens are listed.
owned_list(router, ModuleID.SESSIONS, (Role.CPO,), by_holder=True, require_date_from=True)

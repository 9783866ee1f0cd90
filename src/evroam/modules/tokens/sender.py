"""HTTP handlers of the Tokens Sender interface (eMSP): the list of our tokens."""

from fastapi import APIRouter

from evroam.modules.senders import owned_list
from evroam.types import ModuleID, Role

__all__ = ["router"]

router: APIRouter = APIRouter()
owned_list(router, ModuleID.TOKENS, (Role.EMSP,))

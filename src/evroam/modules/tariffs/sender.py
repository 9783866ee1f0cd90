"""HTTP handlers of the Tariffs Sender interface (CPO): the list of our tariffs."""

from fastapi import APIRouter

from evroam.modules.senders import owned_list
from evroam.types import ModuleID, Role

__all__ = ["router"]

router: APIRouter = APIRouter()
owned_list(router, ModuleID.TARIFFS, (Role.CPO,))

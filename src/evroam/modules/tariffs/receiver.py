"""HTTP handlers of the Tariffs Receiver interface (eMSP, NSP): GET, PUT, DELETE."""

from fastapi import APIRouter

from evroam.modules.receivers import client_owned_receiver
from evroam.modules.tariffs.service import TARIFFS
from evroam.types import Role

__all__ = ["router"]

router: APIRouter = client_owned_receiver(TARIFFS, Role.EMSP, delete=True)

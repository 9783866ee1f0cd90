"""HTTP handlers of the Sessions Receiver interface (eMSP, SCSP): GET, PUT, PATCH."""

from fastapi import APIRouter

from evroam.modules.receivers import client_owned_receiver
from evroam.modules.sessions.service import SESSIONS
from evroam.types import Role

__all__ = ["router"]

router: APIRouter = client_owned_receiver(SESSIONS, Role.EMSP, patch=True)

"""HTTP handlers of the Tokens Receiver interface (CPO): GET, PUT, PATCH with `?type=` (RFID by default)."""

from fastapi import APIRouter

from evroam.modules.receivers import client_owned_receiver
from evroam.modules.tokens.service import TOKENS
from evroam.types import Role

__all__ = ["router"]

router: APIRouter = client_owned_receiver(TOKENS, Role.CPO, patch=True)

"""HTTP handlers of the versions module: the versions list and version details (both require a token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from evroam.errors import NotFoundError
from evroam.node import SUPPORTED_VERSIONS
from evroam.parties.auth import Caller, node_of, registration_caller
from evroam.transport.envelope import OcpiResponse

__all__ = ["router"]

router: APIRouter = APIRouter()

AnyCaller = Annotated[Caller, Depends(registration_caller)]


@router.get("/ocpi/versions")
async def get_versions(request: Request, caller: AnyCaller) -> OcpiResponse:
    return OcpiResponse(node_of(request).versions())


@router.get("/ocpi/{version}")
async def get_version_details(request: Request, version: str, caller: AnyCaller) -> OcpiResponse:
    if version not in SUPPORTED_VERSIONS:
        raise NotFoundError(f"version {version[:20]!r} is not supported (supported: {', '.join(SUPPORTED_VERSIONS)})")
    return OcpiResponse(node_of(request).version_details(version))

"""HTTP handlers of the credentials module, served for each version (credentials.asciidoc)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from evroam.errors import NotFoundError
from evroam.modules.credentials.models import Credentials
from evroam.node import SUPPORTED_VERSIONS
from evroam.parties.auth import Caller, node_of, registration_caller
from evroam.parties.serve import own_credentials, serve_register, serve_unregister, serve_update
from evroam.transport.envelope import OcpiResponse
from evroam.transport.validation import read_json, validate_model

__all__ = ["router"]

router: APIRouter = APIRouter()

AnyCaller = Annotated[Caller, Depends(registration_caller)]


def _version(version: str) -> str:
    if version not in SUPPORTED_VERSIONS:
        raise NotFoundError(f"version {version[:20]!r} is not supported")
    return version


async def _body(request: Request) -> Credentials:
    return validate_model(Credentials, await read_json(request, node_of(request).settings.max_body_bytes))


@router.get("/ocpi/{version}/credentials")
async def get_credentials(request: Request, version: str, caller: AnyCaller) -> OcpiResponse:
    _version(version)
    return OcpiResponse(own_credentials(node_of(request), caller.token))


@router.post("/ocpi/{version}/credentials")
async def post_credentials(request: Request, version: str, caller: AnyCaller) -> OcpiResponse:
    version = _version(version)
    creds = await _body(request)
    return OcpiResponse(await serve_register(node_of(request), caller, creds, version))


@router.put("/ocpi/{version}/credentials")
async def put_credentials(request: Request, version: str, caller: AnyCaller) -> OcpiResponse:
    version = _version(version)
    creds = await _body(request)
    return OcpiResponse(await serve_update(node_of(request), caller, creds, version))


@router.delete("/ocpi/{version}/credentials")
async def delete_credentials(request: Request, version: str, caller: AnyCaller) -> OcpiResponse:
    _version(version)
    await serve_unregister(node_of(request), caller)
    return OcpiResponse()

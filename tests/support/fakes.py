"""Hand-written fake OCPI peers for the paths a real evroam node never takes (odd versions, gaps)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def envelope(data: Any, status_code: int = 1000) -> dict[str, Any]:
    return {"data": data, "status_code": status_code, "timestamp": "2026-01-01T00:00:00Z"}


def fake_peer(host: str, versions: dict[str, list[dict[str, str]]]) -> tuple[FastAPI, list[Request]]:
    """A peer offering `versions` (version -> endpoints) and accepting any token; records requests."""
    app = FastAPI()
    seen: list[Request] = []

    @app.get("/versions")
    async def get_versions(request: Request) -> JSONResponse:
        seen.append(request)
        return JSONResponse(envelope([{"version": v, "url": f"http://{host}/{v}"} for v in versions]))

    @app.get("/{version}")
    async def get_details(request: Request, version: str) -> JSONResponse:
        seen.append(request)
        return JSONResponse(envelope({"version": version, "endpoints": versions[version]}))

    return app, seen


def credentials_endpoint(host: str, version: str) -> dict[str, str]:
    return {"identifier": "credentials", "role": "SENDER", "url": f"http://{host}/{version}/credentials"}

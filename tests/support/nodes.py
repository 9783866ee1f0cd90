"""In-process nodes: each an app on its own fake host, all sharing one routing ASGI transport."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from evroam.app import create_app
from evroam.config import Settings
from evroam.node import Node


class RoutingTransport(httpx.AsyncBaseTransport):
    """Dispatch each request to the ASGI app registered for its host."""

    def __init__(self) -> None:
        self.apps: dict[str, httpx.ASGITransport] = {}
        self.requests: list[httpx.Request] = []

    def add(self, host: str, app: FastAPI) -> None:
        self.apps[host] = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        transport = self.apps.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError(f"no route to host {request.url.host}", request=request)
        return await transport.handle_async_request(request)


class InProcessNetwork:
    """Nodes named by host (`cpo.test`, `emsp.test`), each with its own SQLite file."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.transport = RoutingTransport()
        self.nodes: dict[str, Node] = {}
        self.apps: dict[str, FastAPI] = {}

    async def add(self, host: str, *parties: str, **settings: object) -> Node:
        options: dict[str, object] = {
            "database_url": f"sqlite+aiosqlite:///{self.tmp_path / host}.db",
            "base_url": f"http://{host}",
            "parties": list(parties),
            "dev_mode": True,
            **settings,
        }
        config = Settings.model_validate(options)
        node = await Node.open(config, save_identity=True, transport=self.transport)
        app = create_app(node=node)
        self.transport.add(host, app)
        self.nodes[host] = node
        self.apps[host] = app
        return node

    def client(self, host: str) -> httpx.AsyncClient:
        """A plain HTTP client talking to one node (for black-box requests)."""
        return httpx.AsyncClient(transport=self.transport, base_url=f"http://{host}")

    async def close(self) -> None:
        for node in self.nodes.values():
            await node.close()

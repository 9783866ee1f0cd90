"""In-process nodes: each an app on its own fake host, all sharing one routing ASGI transport."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from evroam.app import create_app
from evroam.config import Settings
from evroam.node import Node
from evroam.parties.initiate import issue_registration_token, register_with
from evroam.store import SqlStore
from evroam.store.interface import Peer, PeerEndpoint
from evroam.store.tables import objects


class RoutingTransport(httpx.AsyncBaseTransport):
    """Dispatch each request to the ASGI app registered for its host."""

    def __init__(self) -> None:
        self.apps: dict[str, httpx.ASGITransport] = {}
        self.down: dict[str, httpx.ASGITransport] = {}
        self.requests: list[httpx.Request] = []

    def add(self, host: str, app: FastAPI) -> None:
        self.apps[host] = httpx.ASGITransport(app=app)

    def take_down(self, host: str) -> None:
        """Make `host` unreachable (connection errors) until `bring_up`."""
        self.down[host] = self.apps.pop(host)

    def bring_up(self, host: str) -> None:
        if host in self.down:
            self.apps[host] = self.down.pop(host)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        transport = self.apps.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError(f"no route to host {request.url.host}", request=request)
        return await transport.handle_async_request(request)


@dataclass(frozen=True)
class Backend:
    """The database every node of a network gets: its own SQLite file, or its own schema in one
    PostgreSQL database (`dsn`, a plain `postgresql://` URL), dropped when the network closes."""

    name: str = "sqlite"
    dsn: str | None = None

    def __post_init__(self) -> None:
        if self.name not in ("sqlite", "postgres"):
            raise ValueError(f"unknown backend {self.name!r}")
        if self.name == "postgres" and not self.dsn:
            raise ValueError("the postgres backend needs a dsn")

    @property
    def sqlalchemy_url(self) -> str:
        assert self.dsn is not None
        return make_url(self.dsn).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)

    @property
    def asyncpg_dsn(self) -> str:
        assert self.dsn is not None
        return make_url(self.dsn).set(drivername="postgresql").render_as_string(hide_password=False)


SQLITE = Backend()


class InProcessNetwork:
    """Nodes named by host (`cpo.test`, `emsp.test`), each with its own SQLite file (default) or its own
    PostgreSQL schema."""

    def __init__(self, tmp_path: Path, backend: Backend = SQLITE) -> None:
        self.tmp_path = tmp_path
        self.backend = backend
        self.transport = RoutingTransport()
        self.nodes: dict[str, Node] = {}
        self.apps: dict[str, FastAPI] = {}
        self.schemas: list[str] = []
        self.clients: list[httpx.AsyncClient] = []

    async def _database(self) -> dict[str, object]:
        if self.backend.name == "sqlite":
            return {}
        schema = f"evroam_it_{uuid4().hex[:12]}"
        conn = await asyncpg.connect(self.backend.asyncpg_dsn)
        try:
            await conn.execute(f'CREATE SCHEMA "{schema}"')
        finally:
            await conn.close()
        self.schemas.append(schema)
        return {"database_url": self.backend.sqlalchemy_url, "database_schema": schema}

    async def add(self, host: str, *parties: str, **settings: object) -> Node:
        options: dict[str, object] = {
            "database_url": f"sqlite+aiosqlite:///{self.tmp_path / host}.db",
            "base_url": f"http://{host}",
            "parties": list(parties),
            "dev_mode": True,
            # Pushing changes and resyncing on their own are switched on by the tests about them.
            "deliveries": False,
            "resync": False,
            **await self._database(),
            **settings,
        }
        config = Settings.model_validate(options)
        node = await Node.open(config, save_identity=True, transport=self.transport)
        await node.start()
        app = create_app(node=node)
        self.transport.add(host, app)
        self.nodes[host] = node
        self.apps[host] = app
        return node

    async def restart(self, host: str) -> Node:
        """Stop the node at `host` and start it again on the same database (what a process restart keeps)."""
        old = self.nodes[host]
        await old.close()
        node = await Node.open(old.settings, save_identity=True, transport=self.transport)
        await node.start()
        app = create_app(node=node)
        self.transport.add(host, app)
        self.nodes[host] = node
        self.apps[host] = app
        return node

    def client(self, host: str) -> httpx.AsyncClient:
        """A plain HTTP client talking to one node (for black-box requests); closed with the network."""
        client = httpx.AsyncClient(transport=self.transport, base_url=f"http://{host}")
        self.clients.append(client)
        return client

    def api(self, host: str, token: str | None) -> Api:
        """A client of one node that authenticates with `token` and checks every answer's envelope."""
        return Api(self.client(host), token)

    async def register(self, client: Node, server: Node) -> Link:
        """`client` registers with `server` (token A issued by the server). Returns the connection as
        both sides see it: `link.to_server` is the token the client calls the server with, and
        `link.to_client` the one the server calls the client with."""
        _, token_a = await issue_registration_token(server, client.base_url)
        server_seen_by_client = await register_with(client, server.versions_url, token_a)
        client_seen_by_server = next(
            p for p in await server.store.list_peers() if p.versions_url == client.versions_url
        )
        return Link(client, server, server_seen_by_client, client_seen_by_server)

    async def clear_objects(self) -> None:
        """Forget every module object (locations, sessions, CDRs, tariffs, tokens) on every node; peers and
        their credentials stay."""
        for node in self.nodes.values():
            assert isinstance(node.store, SqlStore)
            async with node.store.engine.begin() as conn:
                await conn.execute(objects.delete())
            node.store.changes.bump_all()  # written past the store, which would otherwise learn it only later

    async def close(self) -> None:
        try:
            for client in self.clients:
                await client.aclose()
            for node in self.nodes.values():
                await node.close()
        finally:
            if self.schemas:
                conn = await asyncpg.connect(self.backend.asyncpg_dsn)
                try:
                    for schema in self.schemas:
                        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                finally:
                    await conn.close()
                self.schemas.clear()


@dataclass(frozen=True)
class Link:
    """A registered connection between two nodes."""

    client: Node
    server: Node
    server_peer: Peer  # the server, as the client stored it
    client_peer: Peer  # the client, as the server stored it

    @property
    def to_server(self) -> str:
        assert self.server_peer.token_out
        return self.server_peer.token_out

    @property
    def to_client(self) -> str:
        assert self.client_peer.token_out
        return self.client_peer.token_out


def token_header(token: str) -> dict[str, str]:
    """`Authorization: Token <Base64(token)>` (OCPI 2.2.1 transport_and_format_authorization_header)."""
    return {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}


_NO_BODY: Any = object()

Expected = int | tuple[int, ...]
"""The HTTP status a call expects, or the ones it accepts."""


@dataclass
class Api:
    """Black-box requests to one node: each call states the HTTP status and OCPI status_code it expects
    and checks the envelope (JSON object, int status_code, timestamp) of every answer."""

    http: httpx.AsyncClient
    token: str | None

    async def call(
        self,
        method: str,
        url: str,
        *,
        status: Expected,
        ocpi: int = 1000,
        body: Any = _NO_BODY,
        content: bytes | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = token_header(self.token) if self.token is not None else {}
        sent.update(headers or {})
        if body is not _NO_BODY:
            content = json.dumps(body).encode()
        if content is not None:
            sent.setdefault("Content-Type", "application/json")
        response = await self.http.request(method, url, params=params, headers=sent, content=content)
        what = f"{method} {url} -> {response.status_code} {response.text[:600]}"
        assert response.status_code in (status if isinstance(status, tuple) else (status,)), what
        assert response.headers["content-type"] == "application/json", what
        envelope = response.json()
        assert isinstance(envelope, dict), what
        assert type(envelope["status_code"]) is int, what
        assert envelope["status_code"] == ocpi, what
        assert isinstance(envelope["timestamp"], str), what
        return response

    async def get(self, url: str, *, status: Expected = 200, ocpi: int = 1000, **kw: Any) -> httpx.Response:
        return await self.call("GET", url, status=status, ocpi=ocpi, **kw)

    async def put(self, url: str, body: Any, *, status: Expected = 200, ocpi: int = 1000, **kw: Any) -> httpx.Response:
        return await self.call("PUT", url, status=status, ocpi=ocpi, body=body, **kw)

    async def patch(
        self, url: str, body: Any, *, status: Expected = 200, ocpi: int = 1000, **kw: Any
    ) -> httpx.Response:
        return await self.call("PATCH", url, status=status, ocpi=ocpi, body=body, **kw)

    async def post(self, url: str, body: Any, *, status: Expected = 200, ocpi: int = 1000, **kw: Any) -> httpx.Response:
        return await self.call("POST", url, status=status, ocpi=ocpi, body=body, **kw)

    async def delete(self, url: str, *, status: Expected = 200, ocpi: int = 1000, **kw: Any) -> httpx.Response:
        return await self.call("DELETE", url, status=status, ocpi=ocpi, **kw)

    async def data(self, url: str, **kw: Any) -> Any:
        """GET `url` expecting 200/1000 and return its `data`."""
        return (await self.get(url, **kw)).json()["data"]


@dataclass(frozen=True)
class Roaming:
    """A CPO node and an eMSP node registered with it, and a client of each as the other party calls it:
    `at_cpo` carries the token the eMSP uses, `at_emsp` the token the CPO uses."""

    network: InProcessNetwork
    cpo: Node
    emsp: Node
    link: Link
    at_cpo: Api
    at_emsp: Api


async def connect_cpo_and_emsp(
    network: InProcessNetwork,
    *,
    cpo_host: str = "cpo.test",
    cpo_party: str = "NL-CPO-CPO",
    emsp_host: str = "emsp.test",
    emsp_party: str = "NL-EMS-EMSP",
    cpo: Node | None = None,
    emsp_settings: dict[str, object] | None = None,
    **cpo_settings: object,
) -> Roaming:
    """Start an eMSP (and a CPO, unless given) and register the eMSP with the CPO."""
    if cpo is None:
        cpo = await network.add(cpo_host, cpo_party, **cpo_settings)
    emsp = await network.add(emsp_host, emsp_party, **(emsp_settings or {}))
    link = await network.register(emsp, cpo)
    cpo_host = cpo.base_url.removeprefix("http://")
    return Roaming(
        network, cpo, emsp, link, network.api(cpo_host, link.to_server), network.api(emsp_host, link.to_client)
    )


async def set_endpoint(node: Node, peer: Peer, module: str, url: str | None) -> None:
    """Make `node` call `peer`'s `module` Receiver at `url` (e.g. a fake of the test's own), or, with None,
    forget that the peer offers it."""
    kept = tuple(e for e in peer.endpoints if e.identifier != module)
    endpoints = (*kept, PeerEndpoint(module, "RECEIVER", url)) if url is not None else kept
    await node.save_peer(replace(peer, endpoints=endpoints))


# -- sample OCPI 2.2.1 objects (minimal valid ones; keyword arguments add or replace fields) ----------------


def at(minute: int, hour: int = 10) -> str:
    """A DateTime on 2024-03-01, in the canonical form the nodes answer with."""
    return f"2024-03-01T{hour:02d}:{minute:02d}:00Z"


def connector_body(connector_id: str = "1", *, last_updated: str = at(0), **fields: Any) -> dict[str, Any]:
    return {
        "id": connector_id,
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 32,
        "last_updated": last_updated,
        **fields,
    }


def evse_body(uid: str = "EVSE1", *, last_updated: str = at(0), **fields: Any) -> dict[str, Any]:
    return {
        "uid": uid,
        "evse_id": f"NL*CPO*E{uid}",
        "status": "AVAILABLE",
        "connectors": [connector_body(last_updated=last_updated)],
        "last_updated": last_updated,
        **fields,
    }


def location_body(
    location_id: str = "LOC1", *, cc: str = "NL", pid: str = "CPO", last_updated: str = at(0), **fields: Any
) -> dict[str, Any]:
    return {
        "country_code": cc,
        "party_id": pid,
        "id": location_id,
        "publish": True,
        "address": "Stationsplein 1",
        "city": "Utrecht",
        "country": "NLD",
        "coordinates": {"latitude": "52.089444", "longitude": "5.110278"},
        "evses": [evse_body(last_updated=last_updated)],
        "time_zone": "Europe/Amsterdam",
        "last_updated": last_updated,
        **fields,
    }


def cdr_token_body(cc: str = "NL", pid: str = "EMS", uid: str = "012345678") -> dict[str, Any]:
    return {"country_code": cc, "party_id": pid, "uid": uid, "type": "RFID", "contract_id": f"{cc}-{pid}-C{uid}"}


def session_body(
    session_id: str = "S1",
    *,
    cc: str = "NL",
    pid: str = "CPO",
    token: dict[str, Any] | None = None,
    last_updated: str = at(0),
    **fields: Any,
) -> dict[str, Any]:
    return {
        "country_code": cc,
        "party_id": pid,
        "id": session_id,
        "start_date_time": at(0, hour=9),
        "kwh": 0,
        "cdr_token": token or cdr_token_body(),
        "auth_method": "WHITELIST",
        "location_id": "LOC1",
        "evse_uid": "EVSE1",
        "connector_id": "1",
        "currency": "EUR",
        "status": "ACTIVE",
        "last_updated": last_updated,
        **fields,
    }


def period_body(start: str, kwh: float = 1.5) -> dict[str, Any]:
    return {"start_date_time": start, "dimensions": [{"type": "ENERGY", "volume": kwh}]}


def cdr_body(
    cdr_id: str = "CDR1",
    *,
    cc: str = "NL",
    pid: str = "CPO",
    token: dict[str, Any] | None = None,
    last_updated: str = at(0),
    **fields: Any,
) -> dict[str, Any]:
    return {
        "country_code": cc,
        "party_id": pid,
        "id": cdr_id,
        "start_date_time": at(0, hour=8),
        "end_date_time": at(30, hour=9),
        "cdr_token": token or cdr_token_body(),
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": "LOC1",
            "address": "Stationsplein 1",
            "city": "Utrecht",
            "country": "NLD",
            "coordinates": {"latitude": "52.089444", "longitude": "5.110278"},
            "evse_uid": "EVSE1",
            "evse_id": "NL*CPO*EEVSE1",
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": "EUR",
        "charging_periods": [period_body(at(0, hour=8), 12.5)],
        "total_cost": {"excl_vat": 4.25, "incl_vat": 5.14},
        "total_energy": 12.5,
        "total_time": 1.5,
        "last_updated": last_updated,
        **fields,
    }


def tariff_body(
    tariff_id: str = "T1", *, cc: str = "NL", pid: str = "CPO", last_updated: str = at(0), **fields: Any
) -> dict[str, Any]:
    return {
        "country_code": cc,
        "party_id": pid,
        "id": tariff_id,
        "currency": "EUR",
        "elements": [{"price_components": [{"type": "ENERGY", "price": 0.25, "vat": 21, "step_size": 1}]}],
        "last_updated": last_updated,
        **fields,
    }


def token_body(
    uid: str = "012345678",
    *,
    cc: str = "NL",
    pid: str = "EMS",
    type_: str = "RFID",
    last_updated: str = at(0),
    **fields: Any,
) -> dict[str, Any]:
    return {
        "country_code": cc,
        "party_id": pid,
        "uid": uid,
        "type": type_,
        "contract_id": f"{cc}-{pid}-C{uid}"[:36],
        "issuer": "Test eMSP",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": last_updated,
        **fields,
    }

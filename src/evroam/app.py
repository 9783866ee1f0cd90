"""`create_app(settings)`: the ASGI app of a node, mounting what its roles table says."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import APIRouter, FastAPI
from starlette.types import Receive, Scope, Send

from evroam import __version__
from evroam.admin import router as admin_router
from evroam.config import Settings
from evroam.modules.cdrs import receiver as cdrs_receiver
from evroam.modules.cdrs import sender as cdrs_sender
from evroam.modules.chargingprofiles import receiver as chargingprofiles_receiver
from evroam.modules.chargingprofiles import sender as chargingprofiles_sender
from evroam.modules.commands import receiver as commands_receiver
from evroam.modules.commands import sender as commands_sender
from evroam.modules.credentials.handlers import router as credentials_router
from evroam.modules.direct import direct_route, serve_direct
from evroam.modules.listcache import remembered_reply
from evroam.modules.locations import receiver as locations_receiver
from evroam.modules.locations import sender as locations_sender
from evroam.modules.senders import LIST_SOURCES
from evroam.modules.sessions import receiver as sessions_receiver
from evroam.modules.sessions import sender as sessions_sender
from evroam.modules.tariffs import receiver as tariffs_receiver
from evroam.modules.tariffs import sender as tariffs_sender
from evroam.modules.tokens import receiver as tokens_receiver
from evroam.modules.tokens import sender as tokens_sender
from evroam.modules.versions.handlers import router as versions_router
from evroam.node import SUPPORTED_VERSIONS, Node
from evroam.parties.roles import interfaces_for
from evroam.store.changes import PEERS_CHANGED
from evroam.transport.errors import install_error_handlers
from evroam.transport.headers import RequestIdMiddleware
from evroam.types import InterfaceRole, ModuleID

__all__ = ["INTERFACE_ROUTERS", "EvroamApp", "create_app"]

log = logging.getLogger("evroam")

# Implemented module interfaces. A role's interface is mounted (and listed in version details) only
# once it is implemented here; the roles table says which a node's roles want.
_S, _R = InterfaceRole.SENDER, InterfaceRole.RECEIVER
INTERFACE_ROUTERS: dict[tuple[ModuleID, InterfaceRole], APIRouter] = {
    (ModuleID.LOCATIONS, _S): locations_sender.router,
    (ModuleID.LOCATIONS, _R): locations_receiver.router,
    (ModuleID.SESSIONS, _S): sessions_sender.router,
    (ModuleID.SESSIONS, _R): sessions_receiver.router,
    (ModuleID.CDRS, _S): cdrs_sender.router,
    (ModuleID.CDRS, _R): cdrs_receiver.router,
    (ModuleID.TARIFFS, _S): tariffs_sender.router,
    (ModuleID.TARIFFS, _R): tariffs_receiver.router,
    (ModuleID.TOKENS, _S): tokens_sender.router,
    (ModuleID.TOKENS, _R): tokens_receiver.router,
    (ModuleID.COMMANDS, _S): commands_sender.router,
    (ModuleID.COMMANDS, _R): commands_receiver.router,
    (ModuleID.CHARGINGPROFILES, _S): chargingprofiles_sender.router,
    (ModuleID.CHARGINGPROFILES, _R): chargingprofiles_receiver.router,
}


class EvroamApp(FastAPI):
    """The node's app. A Sender list page it remembers is sent before anything else runs (middleware,
    routing, dependencies: a current page needs none of them); see `evroam.modules.listcache`. Locations
    pushes skip the framework too (`evroam.modules.direct`)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        node: Node | None = getattr(self.state, "node", None)
        if node is not None:
            if scope["type"] == "http":
                send = node.traffic.counting(scope["path"], scope["method"], send)
            try:
                reply = remembered_reply(node, scope)
            except Exception:
                # A bug here must not cost the answer: the request goes the usual way.
                log.exception("answering %s from memory failed", scope.get("path"))
                reply = None
            if reply is not None:
                for message in reply:
                    await send(message)
                return
            if direct_route(node, scope):
                scope["app"] = self
                await RequestIdMiddleware(partial(serve_direct, node))(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, *, node: Node | None = None) -> FastAPI:
    """Build the app. Given a `node` (tests, embedding) it is used as is; otherwise the app opens its own
    node from `settings` at startup and closes it at shutdown."""
    if settings is None and node is None:
        raise ValueError("create_app needs settings or a node")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if node is not None:
            yield
            return
        assert settings is not None
        opened = await Node.open(settings, save_identity=True)
        _mount(app, opened)
        opened.watch_changes()
        await opened.start()
        log.info("evroam %s serving %s at %s", __version__, _describe(opened), opened.versions_url)
        try:
            yield
        finally:
            await opened.close()

    app = EvroamApp(title="evroam", version=__version__, lifespan=lifespan, openapi_url="/openapi.json")
    install_error_handlers(app)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(versions_router)
    app.include_router(credentials_router)
    app.include_router(admin_router)
    if node is not None:
        _mount(app, node)
    return app


def _mount(app: FastAPI, node: Node) -> None:
    wanted = interfaces_for(p.role for p in node.parties)
    node.mounted = [entry for entry in wanted if entry in INTERFACE_ROUTERS]
    for entry in node.mounted:
        app.include_router(INTERFACE_ROUTERS[entry])
    node.list_sources = {
        f"/ocpi/{version}/sender/{module.value}": (*LIST_SOURCES[module], PEERS_CHANGED)
        for module, interface in node.mounted
        if interface == InterfaceRole.SENDER and module in LIST_SOURCES
        for version in SUPPORTED_VERSIONS
    }
    app.state.node = node


def _describe(node: Node) -> str:
    return ", ".join(f"{p.country_code}-{p.party_id} ({p.role.value})" for p in node.parties)

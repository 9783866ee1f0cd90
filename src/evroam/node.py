"""A running node: its settings, store, outbound client and identity (the parties it hosts)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from evroam.chargepoints import ChargePoints, load_charge_points
from evroam.client import OcpiClient, UrlPolicy
from evroam.config import Settings
from evroam.delivery.outbox import OwnChanges
from evroam.modules.credentials.models import CredentialsRole
from evroam.modules.listcache import PageCache
from evroam.modules.tokens.authorization import AuthorizationPolicy, DefaultPolicy
from evroam.modules.versions.models import Endpoint, Version, VersionDetails
from evroam.parties.auth import Authenticator
from evroam.store import open_store
from evroam.store.interface import CredentialsTokenRecord, NodeIdentity, PartyRecord, Peer, Store
from evroam.transport.traffic import Traffic
from evroam.types import BusinessDetails, InterfaceRole, ModuleID, utcnow

if TYPE_CHECKING:
    from evroam.delivery.push import Pusher

_STOP_GRACE = 10.0  # seconds background work that stops itself may take to do so when the node closes

__all__ = ["SUPPORTED_VERSIONS", "Node", "NodeConfigError"]

log = logging.getLogger("evroam")

# Highest first. 2.1.1 and 2.3.0 join as their converters land.
SUPPORTED_VERSIONS: tuple[str, ...] = ("2.2.1",)


class NodeConfigError(Exception):
    """The node cannot start or act as configured; the message says what to do."""


@dataclass
class Node:
    """Everything a request handler or a command needs, built once at the edge."""

    settings: Settings
    store: Store
    client: OcpiClient
    base_url: str
    parties: tuple[PartyRecord, ...]
    mounted: list[tuple[ModuleID, InterfaceRole]] = field(default_factory=list)
    auth: Authenticator = field(init=False)
    pages: PageCache = field(init=False)
    authorization_policy: AuthorizationPolicy = field(default_factory=DefaultPolicy)
    """How our eMSP parties answer real-time authorizations of their tokens."""
    list_sources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Path of each mounted Sender list → the store counters its pages depend on (see `PageCache`)."""

    traffic: Traffic = field(default_factory=Traffic, init=False)
    """The OCPI requests this node answered since it started (`GET /admin/api/traffic`)."""
    charge_points: ChargePoints | None = None
    """What carries out commands and profile requests on our CPO parties' Charge Points (see `start`)."""
    callbacks_due: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    """Set when a callback owed to a peer was added, waking the delivery worker."""

    _watcher: asyncio.Task[None] | None = field(default=None, init=False, repr=False)
    stopping: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    """Set when the node closes: background loops that watch it finish what they are doing and end."""

    _tasks: set[asyncio.Task[Any]] = field(default_factory=set, init=False, repr=False)
    _stops_itself: set[asyncio.Task[Any]] = field(default_factory=set, init=False, repr=False)
    _wakers: list[Callable[[], None]] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self.auth = Authenticator(self.store)
        self.pages = PageCache(self.settings.page_cache_bytes)

    async def start(self, *, serving: bool = True, pusher: Pusher | None = None) -> None:
        """Start the node's own work: push our changes to the peers entitled to them (unless switched off),
        deliver the callbacks owed to peers, and, when `serving`, resync from peers, drive the Charge
        Points and take up the requests for them a previous run accepted but did not finish. A delivery
        worker (`serving=False`) does only the deliveries; `pusher` is the one to run (a new one if None)."""
        from evroam.chargepoints.requests import resume
        from evroam.delivery.callbacks import run_callbacks
        from evroam.delivery.push import Pusher
        from evroam.delivery.resync import run_resync

        self.background(run_callbacks(self), stops_itself=True)
        if self.settings.deliveries or not serving:
            self.background((pusher or Pusher(self)).run(), stops_itself=True)
        if not serving:
            return
        if self.settings.resync:
            self.background(run_resync(self), stops_itself=True)
        if self.charge_points is None:
            self.charge_points = load_charge_points(self)
        runner = getattr(self.charge_points, "run", None)
        if runner is not None:
            self.background(runner())
        await resume(self)

    def background(self, work: Coroutine[Any, Any, Any], *, stops_itself: bool = False) -> None:
        """Run `work` alongside requests, until it ends or the node closes (an error is logged). Work that
        `stops_itself` ends on its own once `stopping` is set (and its waker, see `on_stop`, is called);
        other work is cancelled."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        if stops_itself:
            self._stops_itself.add(task)
        task.add_done_callback(self._finished)

    def on_stop(self, wake: Callable[[], None]) -> None:
        """Call `wake` when the node closes (to wake a loop that then sees `stopping`)."""
        self._wakers.append(wake)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._stops_itself.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work failed", exc_info=task.exception())

    async def save_peer(
        self,
        peer: Peer,
        *,
        add_tokens: tuple[CredentialsTokenRecord, ...] = (),
        revoke_token_hashes: tuple[str, ...] = (),
        revoke_all_tokens: bool = False,
    ) -> None:
        """`Store.save_peer`, and no cached caller outlives the change."""
        await self.store.save_peer(
            peer, add_tokens=add_tokens, revoke_token_hashes=revoke_token_hashes, revoke_all_tokens=revoke_all_tokens
        )
        self.auth.forget()

    async def delete_peer(self, peer_id: str) -> None:
        await self.store.delete_peer(peer_id)
        self.auth.forget()

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        save_identity: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> Node:
        """Open storage (migrating it) and settle the node's identity.

        Parties and base URL come from the settings; when absent (a command run against an existing
        database) they come from what `serve` saved there.
        """
        connect_args = None
        if settings.database_schema and settings.database_url.startswith("postgresql"):
            connect_args = {"server_settings": {"search_path": settings.database_schema}}
        store = await open_store(settings.database_url, connect_args=connect_args)
        try:
            parties = settings.party_records()
            saved = await store.get_node_identity()
            if not parties and saved is not None:
                parties = saved.parties
            base_url = settings.base_url.rstrip("/")
            if not base_url:
                # A command run without options acts for the node `serve` saved; else the listening address.
                from_saved = saved is not None and not settings.parties
                base_url = saved.base_url if saved is not None and from_saved else settings.effective_base_url
            if not parties:
                raise NodeConfigError(
                    "this node hosts no party yet: pass --party COUNTRY-PARTY-ROLE (e.g. --party NL-EVR-CPO) "
                    "or set EVROAM_PARTIES"
                )
            if save_identity:
                await store.save_node_identity(NodeIdentity(base_url, parties, utcnow()))
        except BaseException:
            await store.close()
            raise
        store.recorder = OwnChanges(parties)
        policy = UrlPolicy(
            allow_http=settings.dev_mode,
            allow_private=settings.dev_mode or settings.allow_private_urls,
        )
        client = OcpiClient(
            policy,
            timeout=settings.request_timeout,
            transport=transport,
            connections=max(20, settings.delivery_concurrency),
        )
        return cls(settings=settings, store=store, client=client, base_url=base_url, parties=parties)

    def watch_changes(self) -> None:
        """Follow writes of other processes to the same database (a serving node does), which lets it
        serve list pages from memory (`pages`)."""
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.get_running_loop().create_task(self.store.watch_changes())

    async def close(self) -> None:
        # Loops that stop themselves are let finish their database work: cancelled in the middle of it, the
        # SQLite driver can be left waiting forever for a connection to close.
        self.stopping.set()
        for wake in self._wakers:
            wake()
        if self._stops_itself:
            await asyncio.wait(list(self._stops_itself), timeout=_STOP_GRACE)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        await self.client.aclose()
        await self.store.close()

    # -- what we publish ------------------------------------------------------------------------------
    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/ocpi/versions"

    def version_url(self, version: str) -> str:
        return f"{self.base_url}/ocpi/{version}"

    def endpoint_url(self, version: str, module: ModuleID, interface: InterfaceRole | None) -> str:
        if module == ModuleID.CREDENTIALS or interface is None:
            return f"{self.base_url}/ocpi/{version}/{module.value}"
        return f"{self.base_url}/ocpi/{version}/{interface.value.lower()}/{module.value}"

    def versions(self) -> list[Version]:
        return [Version(version=v, url=self.version_url(v)) for v in SUPPORTED_VERSIONS]

    def version_details(self, version: str) -> VersionDetails:
        # 2.3.0 advises SENDER for credentials (the role is meaningless there); 2.2.1 accepts either.
        endpoints = [
            Endpoint(
                identifier=ModuleID.CREDENTIALS.value,
                role=InterfaceRole.SENDER,
                url=self.endpoint_url(version, ModuleID.CREDENTIALS, None),
            )
        ]
        endpoints += [
            Endpoint(identifier=module.value, role=interface, url=self.endpoint_url(version, module, interface))
            for module, interface in self.mounted
        ]
        return VersionDetails(version=version, endpoints=endpoints)

    def credentials_roles(self) -> list[CredentialsRole]:
        return [
            CredentialsRole(
                role=p.role,
                business_details=BusinessDetails(name=p.name, website=p.website),
                party_id=p.party_id,
                country_code=p.country_code,
            )
            for p in self.parties
        ]

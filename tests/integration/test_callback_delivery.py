"""Delivering the calls a node owes its peers (command results, ActiveChargingProfiles...) from its
`callbacks` table: sent once with the peer's credentials and routing headers, retried while the peer is
unreachable or failing on its side, given up when the peer refuses the call or the callback expires, and
taken up again by a restarted node.

The CPO node owes the callbacks to the registered eMSP; the URLs point at a small fake (`hook.test`)
answering as told. Each test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast
from uuid import uuid4

import pytest
import pytest_asyncio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import delete, update

from evroam.delivery.callbacks import deliver_due, run_callbacks
from evroam.node import Node
from evroam.store import SqlStore
from evroam.store.interface import Callback
from evroam.store.sql import SQLITE_BEGIN_OPTION
from evroam.store.tables import callbacks
from evroam.types import utcnow

from support.fakes import envelope
from support.nodes import InProcessNetwork, Roaming, connect_cpo_and_emsp, token_header

pytestmark = pytest.mark.asyncio(loop_scope="module")

CPO_HOST = "cpo.test"
HOOK = "hook.test"
ROUTING = ("NL", "CPO", "NL", "EMS")


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeHook:
    """Where the eMSP wants its callbacks: answers each path as told (200 with status 1000 by default)
    and records what it receives."""

    app: FastAPI = field(default_factory=FastAPI)
    received: list[Received] = field(default_factory=list)
    answers: dict[str, tuple[int, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        @self.app.api_route("/hooks/{name}", methods=["POST", "PUT"])
        async def receive(request: Request, name: str) -> Response:
            self.received.append(
                Received(request.method, request.url.path, dict(request.headers), json.loads(await request.body()))
            )
            status, content = self.answers.get(name, (200, envelope(None)))
            if isinstance(content, str):
                return PlainTextResponse(content, status_code=status)
            return JSONResponse(content, status_code=status)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


@dataclass
class Setup:
    network: InProcessNetwork
    roaming: Roaming
    hook: FakeHook

    @property
    def cpo(self) -> Node:
        """The CPO node as running now (a test may have restarted it)."""
        return self.network.nodes[CPO_HOST]

    @property
    def emsp_id(self) -> str:
        """The eMSP as the CPO stored it when the eMSP registered."""
        return self.roaming.link.client_peer.id

    def new_path(self) -> tuple[str, str]:
        """A fresh path on the fake (so tests never see each other's calls) and its URL."""
        name = uuid4().hex[:12]
        return name, f"http://{HOOK}/hooks/{name}"

    def attempts_at(self, url: str) -> int:
        """How many requests any node sent to `url`, reachable or not."""
        return sum(1 for r in self.network.transport.requests if str(r.url) == url)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def connected(module_network: InProcessNetwork) -> Setup:
    roaming = await connect_cpo_and_emsp(module_network)
    hook = FakeHook()
    module_network.transport.add(HOOK, hook.app)
    return Setup(module_network, roaming, hook)


@pytest_asyncio.fixture(loop_scope="module")
async def setup(connected: Setup) -> AsyncIterator[Setup]:
    connected.network.transport.bring_up(HOOK)
    connected.hook.answers.clear()
    yield connected
    connected.network.transport.bring_up(HOOK)
    async with writer(connected.cpo).begin() as conn:
        await conn.execute(delete(callbacks))


def writer(node: Node) -> Any:
    store = node.store
    assert isinstance(store, SqlStore)
    return store.engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})


async def owe(
    setup: Setup,
    url: str,
    body: Any,
    *,
    expires_in: timedelta = timedelta(hours=1),
    next_attempt_at: datetime | None = None,
    attempts: int = 0,
    wake: bool = True,
) -> int:
    """Store a callback to the eMSP on the CPO (as a settled request would) and wake its worker."""
    now = utcnow()
    callback = Callback(
        peer_id=setup.emsp_id,
        method="POST",
        url=url,
        body=json.dumps(body),
        created_at=now,
        expires_at=now + expires_in,
        routing=ROUTING,
        attempts=attempts,
        next_attempt_at=next_attempt_at,
    )
    callback_id = await setup.cpo.store.add_callback(callback)
    if wake:
        setup.cpo.callbacks_due.set()
    return callback_id


async def after_attempt(node: Node, callback_id: int, attempts: int) -> Callback:
    """The callback once its `attempts`-th attempt is recorded (by the node's worker or `deliver_due`)."""
    for _ in range(1000):
        stored = await node.store.get_callback(callback_id)
        assert stored is not None
        if stored.attempts >= attempts:
            return stored
        node.callbacks_due.set()
        await asyncio.sleep(0.01)
    raise AssertionError(f"callback {callback_id} never reached {attempts} attempts: {stored}")


async def settled(node: Node, callback_id: int) -> Callback:
    """The callback once the node recorded it as delivered (or given up)."""
    for _ in range(1000):
        stored = await node.store.get_callback(callback_id)
        assert stored is not None
        if stored.delivered_at is not None or stored.failed_at is not None:
            return stored
        node.callbacks_due.set()
        await asyncio.sleep(0.01)
    raise AssertionError(f"callback {callback_id} was never settled: {stored}")


async def make_due(node: Node, callback_id: int) -> None:
    """Move time on for one owed callback: its retry falls due now. A callback a worker has claimed (its
    lease runs a minute) is left alone; that worker sends it anyway."""
    now = utcnow()
    async with writer(node).begin() as conn:
        await conn.execute(
            update(callbacks)
            .where(callbacks.c.id == callback_id, callbacks.c.next_attempt_at < now + timedelta(seconds=30))
            .values(next_attempt_at=now - timedelta(seconds=1))
        )


def assert_owed(stored: Callback) -> None:
    assert stored.delivered_at is None
    assert stored.failed_at is None
    assert stored.next_attempt_at is not None
    assert stored.last_error


def assert_given_up(stored: Callback) -> None:
    assert stored.delivered_at is None
    assert stored.failed_at is not None
    assert stored.next_attempt_at is None
    assert stored.last_error


# -- delivery ------------------------------------------------------------------------------------------------


async def test_a_callback_is_posted_once_with_the_peers_credentials_routing_headers_and_body(setup: Setup) -> None:
    path_name, url = setup.new_path()
    body = {"result": "ACCEPTED", "nested": {"n": 1}}
    callback_id = await owe(setup, url, body)

    stored = await settled(setup.cpo, callback_id)
    assert stored.delivered_at is not None
    assert stored.failed_at is None
    assert stored.attempts == 1
    assert stored.last_error is None
    assert stored.next_attempt_at is None

    (request,) = setup.hook.at(f"/hooks/{path_name}")
    assert request.method == "POST"
    assert request.body == body
    assert request.headers["content-type"] == "application/json"
    # The token the eMSP gave the CPO when it registered, Base64-encoded as 2.2.1 wants it.
    assert request.headers["authorization"] == token_header(setup.roaming.link.to_client)["Authorization"]
    caller = await setup.roaming.emsp.auth.caller(request.headers["authorization"], registration_allowed=False)
    assert caller.registered
    assert caller.peer.versions_url == setup.cpo.versions_url
    assert (
        request.headers["ocpi-from-country-code"],
        request.headers["ocpi-from-party-id"],
        request.headers["ocpi-to-country-code"],
        request.headers["ocpi-to-party-id"],
    ) == ROUTING
    assert request.headers["x-request-id"]
    assert request.headers["x-correlation-id"]

    # Nothing more is owed: another round sends nothing.
    await deliver_due(setup.cpo)
    assert len(setup.hook.at(f"/hooks/{path_name}")) == 1
    assert (await setup.cpo.store.get_callback(callback_id)).attempts == 1  # type: ignore[union-attr]


async def test_callbacks_due_together_are_each_delivered_once(setup: Setup) -> None:
    paths = [setup.new_path() for _ in range(25)]  # more than one batch
    ids = [await owe(setup, url, {"n": n}, wake=False) for n, (_, url) in enumerate(paths)]
    setup.cpo.callbacks_due.set()
    await deliver_due(setup.cpo)
    for callback_id in ids:
        assert (await settled(setup.cpo, callback_id)).attempts == 1
    for n, (name, _) in enumerate(paths):
        assert [r.body for r in setup.hook.at(f"/hooks/{name}")] == [{"n": n}]


async def test_a_callback_not_yet_due_waits(setup: Setup) -> None:
    name, url = setup.new_path()
    callback_id = await owe(setup, url, {}, next_attempt_at=utcnow() + timedelta(hours=1))
    await deliver_due(setup.cpo)
    stored = await setup.cpo.store.get_callback(callback_id)
    assert stored is not None
    assert (stored.attempts, stored.delivered_at) == (0, None)
    assert setup.hook.at(f"/hooks/{name}") == []


# -- retries -------------------------------------------------------------------------------------------------


async def test_an_unreachable_peer_is_retried_until_it_is_back(setup: Setup) -> None:
    name, url = setup.new_path()
    setup.network.transport.take_down(HOOK)
    callback_id = await owe(setup, url, {"result": "ACCEPTED"})

    first = await after_attempt(setup.cpo, callback_id, 1)
    assert_owed(first)
    assert first.next_attempt_at is not None
    assert first.next_attempt_at > first.created_at
    assert HOOK in (first.last_error or "")

    await make_due(setup.cpo, callback_id)
    await deliver_due(setup.cpo)
    second = await after_attempt(setup.cpo, callback_id, first.attempts + 1)
    assert_owed(second)
    assert second.attempts > first.attempts

    setup.network.transport.bring_up(HOOK)
    await make_due(setup.cpo, callback_id)
    await deliver_due(setup.cpo)
    done = await settled(setup.cpo, callback_id)
    assert done.delivered_at is not None
    assert done.failed_at is None
    assert done.last_error is None
    assert done.attempts > second.attempts
    assert done.attempts == setup.attempts_at(url)  # one request per attempt
    assert [r.body for r in setup.hook.at(f"/hooks/{name}")] == [{"result": "ACCEPTED"}]


@pytest.mark.parametrize(("attempts", "backoff"), [(0, 1), (1, 2), (3, 8), (9, 60), (20, 60)])
async def test_the_wait_before_a_retry_doubles_with_each_attempt_up_to_a_minute(
    setup: Setup, attempts: int, backoff: int
) -> None:
    _, url = setup.new_path()
    setup.network.transport.take_down(HOOK)
    before = utcnow()
    callback_id = await owe(setup, url, {}, attempts=attempts, next_attempt_at=utcnow() - timedelta(minutes=5))
    await deliver_due(setup.cpo)
    stored = await after_attempt(setup.cpo, callback_id, attempts + 1)
    after = utcnow()
    assert_owed(stored)
    assert stored.next_attempt_at is not None
    wait = timedelta(seconds=backoff)
    assert before + wait <= stored.next_attempt_at <= after + wait


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param((503, "Service Unavailable"), id="http-503-without-envelope"),
        pytest.param((503, envelope(None, 3000)), id="http-503-ocpi-3000"),
        pytest.param((200, envelope(None, 3000)), id="http-200-ocpi-3000"),
        pytest.param((500, envelope(None, 3001)), id="http-500-ocpi-3001"),
    ],
)
async def test_a_peer_failing_on_its_side_is_retried(setup: Setup, answer: tuple[int, Any]) -> None:
    name, url = setup.new_path()
    setup.hook.answers[name] = answer
    callback_id = await owe(setup, url, {"result": "ACCEPTED"})
    stored = await after_attempt(setup.cpo, callback_id, 1)
    assert_owed(stored)
    assert len(setup.hook.at(f"/hooks/{name}")) == 1

    del setup.hook.answers[name]
    await make_due(setup.cpo, callback_id)
    await deliver_due(setup.cpo)
    done = await settled(setup.cpo, callback_id)
    assert done.delivered_at is not None
    assert done.attempts == len(setup.hook.at(f"/hooks/{name}")) >= 2


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param((404, envelope(None, 2001)), id="http-404-ocpi-2001"),
        pytest.param((400, envelope(None, 2001)), id="http-400-ocpi-2001"),
        pytest.param((200, envelope(None, 2001)), id="http-200-ocpi-2001"),
        pytest.param((404, "Not Found"), id="http-404-without-envelope"),
    ],
)
async def test_a_peer_refusing_the_call_makes_it_fail_for_good(setup: Setup, answer: tuple[int, Any]) -> None:
    name, url = setup.new_path()
    setup.hook.answers[name] = answer
    callback_id = await owe(setup, url, {"result": "ACCEPTED"})
    stored = await settled(setup.cpo, callback_id)
    assert_given_up(stored)
    assert stored.attempts == 1

    # Never tried again, however often the worker looks.
    del setup.hook.answers[name]
    await make_due(setup.cpo, callback_id)
    await deliver_due(setup.cpo)
    again = await setup.cpo.store.get_callback(callback_id)
    assert again == stored
    assert len(setup.hook.at(f"/hooks/{name}")) == 1


# -- expiry --------------------------------------------------------------------------------------------------


async def test_an_expired_callback_that_fails_is_given_up(setup: Setup) -> None:
    _, url = setup.new_path()
    setup.network.transport.take_down(HOOK)
    past = utcnow() - timedelta(minutes=1)
    callback_id = await owe(setup, url, {}, expires_in=timedelta(minutes=-1), next_attempt_at=past)
    stored = await settled(setup.cpo, callback_id)
    assert_given_up(stored)
    assert stored.attempts == 1
    assert setup.attempts_at(url) == 1


async def test_a_peer_failing_past_the_expiry_is_given_up(setup: Setup) -> None:
    name, url = setup.new_path()
    setup.hook.answers[name] = (503, "Service Unavailable")
    callback_id = await owe(setup, url, {}, expires_in=timedelta(seconds=-1))
    assert_given_up(await settled(setup.cpo, callback_id))


async def test_a_retry_is_not_planned_past_the_expiry(setup: Setup) -> None:
    _, url = setup.new_path()
    setup.network.transport.take_down(HOOK)
    # The 6th attempt would wait 32 s; the callback expires in 20.
    callback_id = await owe(setup, url, {}, attempts=5, expires_in=timedelta(seconds=20))
    stored = await after_attempt(setup.cpo, callback_id, 6)
    assert_owed(stored)
    assert stored.next_attempt_at == stored.expires_at


# -- restarts ------------------------------------------------------------------------------------------------


async def test_a_callback_owed_when_the_node_restarts_is_delivered_by_the_restarted_node(setup: Setup) -> None:
    name, url = setup.new_path()
    setup.network.transport.take_down(HOOK)
    callback_id = await owe(setup, url, {"result": "ACCEPTED"})
    assert_owed(await after_attempt(setup.cpo, callback_id, 1))
    old = setup.cpo

    restarted = await setup.network.restart(CPO_HOST)
    assert restarted is not old
    assert setup.cpo is restarted
    setup.network.transport.bring_up(HOOK)
    await make_due(restarted, callback_id)
    restarted.callbacks_due.set()  # its own worker, not a direct `deliver_due`

    done = await settled(restarted, callback_id)
    assert done.delivered_at is not None
    assert done.attempts == setup.attempts_at(url)
    (request,) = setup.hook.at(f"/hooks/{name}")
    assert request.body == {"result": "ACCEPTED"}
    assert request.headers["authorization"] == token_header(setup.roaming.link.to_client)["Authorization"]


class IdleStore:
    """A store owing nothing, telling when a worker has looked for its next callback (and is about to wait)."""

    def __init__(self) -> None:
        self.idle = asyncio.Event()

    async def claim_callbacks(self, now: datetime, limit: int, lease: float) -> list[Callback]:
        return []

    async def next_callback_at(self) -> datetime | None:
        self.idle.set()
        return None


async def test_a_worker_stops_when_cancelled_even_as_a_callback_is_added() -> None:
    # What `Node.close` does while a request handler adds a callback: were the cancellation lost, close
    # would wait for the worker forever.
    store = IdleStore()
    node = SimpleNamespace(store=store, callbacks_due=asyncio.Event(), stopping=asyncio.Event(), on_stop=lambda _: None)
    worker = asyncio.create_task(run_callbacks(cast(Node, node)))
    try:
        await store.idle.wait()
        node.callbacks_due.set()
        worker.cancel()
        for _ in range(5):
            await asyncio.sleep(0)
        assert worker.cancelled()
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)

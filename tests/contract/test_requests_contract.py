"""The store contract for requests received for Charge Points, the callbacks owed, and charge-point state."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

from test_store_contract import make_peer

from evroam.store import SqlStore
from evroam.store.interface import Callback, ReceivedRequest

T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)


def request(request_id: str = "req-1", at: datetime = T0) -> ReceivedRequest:
    return ReceivedRequest(
        id=request_id,
        peer_id="peer-1",
        kind="START_SESSION",
        sender_country_code="NL",
        sender_party_id="XYZ",
        cpo_country_code="DE",
        cpo_party_id="ABC",
        request='{"location_id": "LOC1"}',
        response_url="https://peer-1.example.com/result/1",
        received_at=at,
        due_at=at + timedelta(seconds=30),
    )


def callback(url: str = "https://peer-1.example.com/result/1", at: datetime = T0) -> Callback:
    return Callback(
        peer_id="peer-1",
        method="POST",
        url=url,
        body='{"result": "ACCEPTED"}',
        created_at=at,
        expires_at=at + timedelta(hours=1),
        routing=("DE", "ABC", "NL", "XYZ"),
    )


async def test_received_request_round_trips_and_is_unsettled_until_its_result(store: SqlStore) -> None:
    await store.save_peer(make_peer())
    await store.save_received_request(request("req-2", T0 + timedelta(seconds=1)))
    await store.save_received_request(request("req-1"))
    assert await store.get_received_request("req-1") == request("req-1")
    assert await store.get_received_request("nope") is None
    assert [r.id for r in await store.unsettled_requests()] == ["req-1", "req-2"]

    assert await store.settle_request("req-1", '{"result": "ACCEPTED"}', T0 + timedelta(seconds=5), callback())
    settled = await store.get_received_request("req-1")
    assert settled is not None
    assert settled.result == '{"result": "ACCEPTED"}'
    assert settled.result_at == T0 + timedelta(seconds=5)
    assert [r.id for r in await store.unsettled_requests()] == ["req-2"]


async def test_a_request_is_settled_once_and_owes_one_callback(store: SqlStore) -> None:
    await store.save_peer(make_peer())
    await store.save_received_request(request())
    assert await store.settle_request("req-1", '{"result": "ACCEPTED"}', T0, callback())
    assert not await store.settle_request("req-1", '{"result": "FAILED"}', T0, callback())
    assert not await store.settle_request("unknown", '{"result": "FAILED"}', T0, callback())
    claimed = await store.claim_callbacks(T0 + timedelta(seconds=1), 10, 30)
    assert [(c.body, c.routing) for c in claimed] == [('{"result": "ACCEPTED"}', ("DE", "ABC", "NL", "XYZ"))]
    stored = await store.get_received_request("req-1")
    assert stored is not None
    assert stored.result == '{"result": "ACCEPTED"}'


async def test_claimed_callbacks_are_hidden_until_their_lease_ends(store: SqlStore) -> None:
    await store.save_peer(make_peer())
    first = await store.add_callback(callback("https://peer-1.example.com/a"))
    second = await store.add_callback(callback("https://peer-1.example.com/b", T0 + timedelta(seconds=1)))
    assert await store.next_callback_at() == T0
    claimed = await store.claim_callbacks(T0 + timedelta(seconds=2), 1, 30)
    assert [c.id for c in claimed] == [first]
    assert [c.id for c in await store.claim_callbacks(T0 + timedelta(seconds=2), 10, 30)] == [second]
    assert await store.claim_callbacks(T0 + timedelta(seconds=3), 10, 30) == []
    assert [c.id for c in await store.claim_callbacks(T0 + timedelta(seconds=40), 10, 30)] == [first, second]


async def test_concurrent_claims_never_share_a_callback(store: SqlStore) -> None:
    await store.save_peer(make_peer())
    ids = {await store.add_callback(callback(f"https://peer-1.example.com/{n}")) for n in range(20)}
    batches = await asyncio.gather(*(store.claim_callbacks(T0 + timedelta(seconds=1), 5, 30) for _ in range(6)))
    claimed = [c.id for batch in batches for c in batch]
    assert len(claimed) == len(set(claimed)) == 20
    assert set(claimed) == ids


async def test_callback_attempts_deliver_retry_or_fail(store: SqlStore) -> None:
    await store.save_peer(make_peer())
    delivered = await store.add_callback(callback("https://peer-1.example.com/a"))
    retried = await store.add_callback(callback("https://peer-1.example.com/b"))
    failed = await store.add_callback(callback("https://peer-1.example.com/c"))
    later = T0 + timedelta(seconds=5)
    await store.callback_sent(delivered, later)
    await store.callback_sent(retried, later, error="connection refused", retry_at=T0 + timedelta(seconds=7))
    await store.callback_sent(failed, later, error="HTTP 404, OCPI 2001: unknown")

    got = {i: await store.get_callback(i) for i in (delivered, retried, failed)}
    assert all(c is not None for c in got.values())
    assert dataclasses.astuple(got[delivered])[-5:] == (1, None, later, None, None)  # type: ignore[arg-type]
    assert got[retried] is not None
    assert got[retried].next_attempt_at == T0 + timedelta(seconds=7)
    assert got[retried].last_error == "connection refused"
    assert got[retried].attempts == 1
    assert got[failed] is not None
    assert got[failed].failed_at == later
    assert got[failed].next_attempt_at is None
    assert await store.next_callback_at() == T0 + timedelta(seconds=7)
    assert [c.id for c in await store.claim_callbacks(T0 + timedelta(seconds=10), 10, 30)] == [retried]
    await store.callback_sent(retried, T0 + timedelta(seconds=10))
    assert await store.next_callback_at() is None


async def test_callbacks_go_with_their_peer(store: SqlStore) -> None:
    await store.save_peer(make_peer())
    callback_id = await store.add_callback(callback())
    await store.delete_peer("peer-1")
    assert await store.get_callback(callback_id) is None


async def test_charge_point_state_by_kind_and_key(store: SqlStore) -> None:
    await store.put_state("reservations", "DE/ABC/NL/XYZ/R1", '{"n": 1}', T0)
    await store.put_state("reservations", "DE/ABC/NL/XYZ/R1", '{"n": 2}', T0)
    await store.put_state("reservations", "DE/ABC/BE/QQQ/R1", '{"n": 3}', T0)
    await store.put_state("profiles", "DE/ABC/R1", '{"p": 1}', T0)
    assert await store.get_state("reservations", "DE/ABC/NL/XYZ/R1") == '{"n": 2}'
    assert await store.get_state("reservations", "missing") is None
    assert await store.list_state("reservations") == [
        ("DE/ABC/BE/QQQ/R1", '{"n": 3}'),
        ("DE/ABC/NL/XYZ/R1", '{"n": 2}'),
    ]
    assert await store.delete_state("reservations", "DE/ABC/BE/QQQ/R1")
    assert not await store.delete_state("reservations", "DE/ABC/BE/QQQ/R1")
    assert await store.list_state("profiles") == [("DE/ABC/R1", '{"p": 1}')]

"""The store contract for push delivery: the outbox written with each change of an object we own, the
deliveries waiting per peer (queued once, merged, claimed under a lease, settled), per-peer delivery health
and the delivery ledger."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from evroam.delivery.deltas import Delta
from evroam.delivery.outbox import OwnChanges
from evroam.store import SqlStore
from evroam.store.interface import (
    Delivery,
    DeliveryAttempt,
    DeliveryFate,
    DeliveryOrder,
    DeliveryOutcome,
    ObjectKey,
    PartyRecord,
    Peer,
    PeerDeliveryState,
    PeerStatus,
    PutOutcome,
    StoredObject,
)
from evroam.types import Role

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
SEC = timedelta(seconds=1)
LOCATIONS = "locations"
LEASE = 30.0


def peer(peer_id: str) -> Peer:
    return Peer(
        id=peer_id,
        name=f"Platform {peer_id}",
        status=PeerStatus.REGISTERED,
        created_at=T0,
        updated_at=T0,
        versions_url=f"https://{peer_id}.example.com/ocpi/versions",
        version="2.2.1",
        token_out=f"token-out-{peer_id}",
    )


async def with_peers(store: SqlStore, *peer_ids: str) -> None:
    for peer_id in peer_ids or ("peer-1",):
        await store.save_peer(peer(peer_id))


def key(object_id: str = "LOC1", country_code: str = "NL", party_id: str = "TNM") -> ObjectKey:
    return ObjectKey(country_code, party_id, object_id)


def stored_key(k: ObjectKey) -> ObjectKey:
    """How the store hands keys back: upper-cased."""
    return ObjectKey(k.country_code.upper(), k.party_id.upper(), k.id.upper(), k.type.upper())


def obj(object_id: str = "LOC1", version: int = 1, **changes: str) -> StoredObject:
    """An object whose data names its version; its last_updated moves with it."""
    data = json.dumps({"id": object_id, "v": version}).encode()
    return StoredObject(key(object_id, **changes), T0 + version * SEC, data)


def version_of(stored: StoredObject | None) -> int | None:
    return None if stored is None else int(json.loads(stored.data)["v"])


def bump(before: StoredObject | None) -> StoredObject | None:
    """A read-modify-write step: the next version of the object."""
    assert before is not None
    following = (version_of(before) or 0) + 1
    data = json.dumps({"id": json.loads(before.data)["id"], "v": following}).encode()
    return dataclasses.replace(before, data=data, last_updated=T0 + following * SEC)


class Recorder:
    """Records the locations and tokens of party NL/TNM; a hint names the versions it goes between."""

    def records(self, module: str, key: ObjectKey) -> bool:
        return module in (LOCATIONS, "tokens") and (key.country_code.upper(), key.party_id.upper()) == ("NL", "TNM")

    def hint(self, module: str, before: StoredObject, after: StoredObject) -> str | None:
        return f"{version_of(before)}->{version_of(after)}"


def order(
    peer_id: str = "peer-1",
    object_id: str = "LOC1",
    hint: str | None = None,
    seq: int | None = None,
    queued_at: datetime = T0,
) -> DeliveryOrder:
    return DeliveryOrder(peer_id, LOCATIONS, key(object_id), hint, queued_at, seq)


def chain(first: str | None, then: str | None) -> str | None:
    """A merge that shows what was merged, in which order (None: the whole object, as with real hints)."""
    return None if first is None or then is None else f"{first}+{then}"


async def queue(store: SqlStore, *orders: DeliveryOrder, taking: tuple[int, ...] = ()) -> int:
    return await store.queue_deliveries(list(orders), chain, taking=list(taking))


async def claim(store: SqlStore, now: datetime = T0, limit: int = 100) -> list[Delivery]:
    return await store.claim_deliveries(now, limit, LEASE)


def outcome(
    d: Delivery, fate: DeliveryFate, retry_at: datetime | None = None, error: str | None = None
) -> DeliveryOutcome:
    return DeliveryOutcome(d.id, d.version, fate, retry_at, error)


async def settle(store: SqlStore, now: datetime, *outcomes: DeliveryOutcome) -> None:
    await store.settle_deliveries(list(outcomes), [], [], now)


def attempt(at: datetime, peer_id: str = "peer-1", result: str = "DELIVERED", **changes: object) -> DeliveryAttempt:
    entry = DeliveryAttempt(
        at=at,
        peer_id=peer_id,
        module=LOCATIONS,
        object="NL/TNM/LOC1",
        method="PUT",
        url=f"https://{peer_id}.example.com/ocpi/2.2.1/locations/NL/TNM/LOC1",
        request_id=f"req-{peer_id}-{at:%H%M%S}",
        outcome=result,
        http_status=200,
        ocpi_status=1000,
        latency_ms=12.5,
    )
    return dataclasses.replace(entry, **changes)  # type: ignore[arg-type]


def logged(entries: list[DeliveryAttempt]) -> list[DeliveryAttempt]:
    return [dataclasses.replace(e, id=None) for e in entries]


# -- the outbox ----------------------------------------------------------------------------------------------


async def test_writes_of_a_recorded_object_enter_the_outbox_with_the_recorders_hint(store: SqlStore) -> None:
    store.recorder = Recorder()
    assert await store.put_object(LOCATIONS, obj("loc1")) == PutOutcome.CREATED
    await store.mutate_object(LOCATIONS, key("loc1"), bump)
    assert await store.delete_object(LOCATIONS, key("loc1"))

    changes = await store.pending_changes(10)
    assert [(c.module, c.key, c.hint) for c in changes] == [
        (LOCATIONS, key("LOC1"), None),
        (LOCATIONS, key("LOC1"), "1->2"),
        (LOCATIONS, key("LOC1"), None),
    ]
    assert [c.seq for c in changes] == sorted(c.seq for c in changes)
    assert len({c.seq for c in changes}) == 3
    assert all(c.created_at.tzinfo is not None for c in changes)


async def test_a_mutate_creating_an_object_enters_the_outbox_without_a_hint(store: SqlStore) -> None:
    store.recorder = Recorder()
    await store.mutate_object(LOCATIONS, key(), lambda _: obj())
    [change] = await store.pending_changes(10)
    assert change.hint is None
    assert version_of(change.current) == 1


async def test_pending_changes_are_oldest_first_with_the_object_as_stored_now(store: SqlStore) -> None:
    store.recorder = Recorder()
    await store.put_object(LOCATIONS, obj("LOC1"))
    await store.put_object(LOCATIONS, obj("LOC2"))
    await store.mutate_object(LOCATIONS, key("LOC1"), bump)
    await store.put_object(LOCATIONS, obj("LOC3"))
    await store.delete_object(LOCATIONS, key("LOC3"))

    changes = await store.pending_changes(10)
    assert [(c.key.id, version_of(c.current)) for c in changes] == [
        ("LOC1", 2),
        ("LOC2", 1),
        ("LOC1", 2),
        ("LOC3", None),
        ("LOC3", None),
    ]
    assert changes[0].current == await store.get_object(LOCATIONS, key("LOC1"))
    assert [c.seq for c in await store.pending_changes(2)] == [c.seq for c in changes[:2]]


async def test_a_mutate_leaving_the_data_as_it_was_enters_no_outbox_row(store: SqlStore) -> None:
    await store.put_object(LOCATIONS, obj())
    store.recorder = Recorder()
    await store.mutate_object(LOCATIONS, key(), lambda before: before and dataclasses.replace(before, last_updated=T0))
    await store.mutate_object(LOCATIONS, key(), lambda _: None)
    assert await store.pending_changes(10) == []


async def test_writes_of_objects_not_recorded_enter_no_outbox_row(store: SqlStore) -> None:
    store.recorder = Recorder()
    theirs = obj("LOC9", country_code="DE", party_id="ABC")
    await store.put_object(LOCATIONS, theirs)
    await store.mutate_object(LOCATIONS, theirs.key, bump)
    await store.delete_object(LOCATIONS, theirs.key)
    await store.put_object("sessions", obj("S1"))
    await store.mutate_object("sessions", key("S1"), bump)
    assert await store.pending_changes(10) == []


async def test_writes_without_a_recorder_enter_no_outbox_row(store: SqlStore) -> None:
    store.recorder = None
    await store.put_objects(LOCATIONS, [obj("LOC1"), obj("LOC2")])
    await store.mutate_object(LOCATIONS, key("LOC1"), bump)
    await store.delete_object(LOCATIONS, key("LOC2"))
    assert await store.pending_changes(10) == []


async def test_stale_and_existing_writes_enter_no_outbox_row(store: SqlStore) -> None:
    await store.put_object(LOCATIONS, obj("LOC1", 5))
    store.recorder = Recorder()
    assert await store.put_object(LOCATIONS, obj("LOC1", 3)) == PutOutcome.STALE
    assert await store.put_object(LOCATIONS, obj("LOC1", 6), insert_only=True) == PutOutcome.EXISTS
    assert not await store.delete_object(LOCATIONS, key("NOPE"))
    assert await store.pending_changes(10) == []

    outcomes = await store.put_objects(LOCATIONS, [obj("LOC1", 4), obj("LOC2", 1), obj("LOC1", 7)])
    assert outcomes == [PutOutcome.STALE, PutOutcome.CREATED, PutOutcome.UPDATED]
    changes = await store.pending_changes(10)
    assert sorted((c.key.id, c.hint, version_of(c.current)) for c in changes) == [
        ("LOC1", None, 7),
        ("LOC2", None, 1),
    ]


async def test_a_failing_mutate_leaves_no_outbox_row(store: SqlStore) -> None:
    await store.put_object(LOCATIONS, obj())
    store.recorder = Recorder()

    def broken(before: StoredObject | None) -> StoredObject | None:
        raise RuntimeError("rejected")

    with pytest.raises(RuntimeError, match="rejected"):
        await store.mutate_object(LOCATIONS, key(), broken)
    assert await store.pending_changes(10) == []
    assert version_of(await store.get_object(LOCATIONS, key())) == 1


class AskedRecorder(Recorder):
    """`Recorder`, noting which writes it was asked for a hint of."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def hint(self, module: str, before: StoredObject, after: StoredObject) -> str | None:
        self.asked.append((module, after.key.id))
        return super().hint(module, before, after)


async def test_the_recorder_is_asked_for_hints_only_of_writes_it_records(store: SqlStore) -> None:
    theirs = obj("LOC9", country_code="DE", party_id="ABC")
    await store.put_object(LOCATIONS, theirs)
    await store.put_object("sessions", obj("S1"))
    recorder = AskedRecorder()
    store.recorder = recorder
    await store.mutate_object(LOCATIONS, theirs.key, bump)
    await store.mutate_object("sessions", key("S1"), bump)
    assert recorder.asked == []


async def test_the_node_recorder_hints_an_evse_status_change_of_its_own_location(store: SqlStore) -> None:
    store.recorder = OwnChanges([PartyRecord("NL", "TNM", Role.CPO, "TNM Charging")])
    evse = {"uid": "E1", "status": "AVAILABLE", "connectors": [{"id": "1"}], "last_updated": "2024-03-01T12:00:00Z"}
    doc = {"id": "LOC1", "evses": [evse], "last_updated": "2024-03-01T12:00:00Z"}
    await store.put_object(LOCATIONS, StoredObject(key(), T0, json.dumps(doc).encode()))

    def charging(before: StoredObject | None) -> StoredObject | None:
        assert before is not None
        changed = json.loads(before.data)
        changed["evses"][0].update(status="CHARGING", last_updated="2024-03-01T12:05:00Z")
        changed["last_updated"] = "2024-03-01T12:05:00Z"
        return dataclasses.replace(before, data=json.dumps(changed).encode(), last_updated=T0 + 300 * SEC)

    await store.mutate_object(LOCATIONS, key(), charging)
    hints = [c.hint for c in await store.pending_changes(10)]
    assert hints == [None, Delta(("E1",), ("last_updated", "status")).to_json()]


# -- queueing ------------------------------------------------------------------------------------------------


async def test_queueing_takes_each_change_once(store: SqlStore) -> None:
    await with_peers(store, "peer-1", "peer-2")
    store.recorder = Recorder()
    await store.put_object(LOCATIONS, obj("LOC1"))
    await store.put_object(LOCATIONS, obj("LOC2"))
    first, second = (c.seq for c in await store.pending_changes(10))
    orders = [
        order("peer-1", "LOC1", seq=first),
        order("peer-2", "LOC1", seq=first),
        order("peer-1", "LOC2", seq=second),
    ]

    assert await queue(store, *orders, taking=(first, second)) == 2
    assert await store.pending_changes(10) == []
    assert await store.pending_delivery_counts() == {"peer-1": 2, "peer-2": 1}

    assert await queue(store, *orders, taking=(first, second)) == 0
    assert await store.pending_delivery_counts() == {"peer-1": 2, "peer-2": 1}
    assert {d.version for d in await claim(store)} == {1}


async def test_orders_of_changes_not_taken_are_not_queued(store: SqlStore) -> None:
    await with_peers(store)
    store.recorder = Recorder()
    await store.put_object(LOCATIONS, obj("LOC1"))
    await store.put_object(LOCATIONS, obj("LOC2"))
    first, second = (c.seq for c in await store.pending_changes(10))
    assert (
        await queue(store, order(object_id="LOC1", seq=first), order(object_id="LOC2", seq=second), taking=(first,))
        == 1
    )
    assert [d.key.id for d in await claim(store)] == ["LOC1"]
    assert [c.seq for c in await store.pending_changes(10)] == [second]


async def test_orders_for_the_same_peer_and_object_merge_into_one_delivery(store: SqlStore) -> None:
    await with_peers(store)
    await queue(store, order(object_id="loc1", hint="a"), order(object_id="LOC1", hint="b"))
    [queued] = await claim(store, limit=10)
    assert (queued.key, queued.hint, queued.version) == (key("LOC1"), "a+b", 1)

    await queue(store, order(hint="c"))
    await settle(store, T0, outcome(queued, DeliveryFate.RELEASE))
    [merged] = await claim(store)
    assert (merged.id, merged.hint, merged.version) == (queued.id, "a+b+c", 2)

    await queue(store, order(hint=None))
    await settle(store, T0, outcome(merged, DeliveryFate.RELEASE))
    [whole] = await claim(store)
    assert (whole.hint, whole.version) == (None, 3)


async def test_catch_up_orders_are_always_queued(store: SqlStore) -> None:
    await with_peers(store)
    assert await queue(store, order(object_id="LOC1"), order(object_id="LOC2")) == 0
    assert await queue(store, order(object_id="LOC1")) == 0
    assert await store.pending_delivery_counts() == {"peer-1": 2}
    assert sorted((d.key.id, d.version) for d in await claim(store)) == [("LOC1", 2), ("LOC2", 1)]


async def test_concurrent_routing_takes_each_change_once(store: SqlStore) -> None:
    await with_peers(store, "peer-1", "peer-2")
    store.recorder = Recorder()
    await store.put_objects(LOCATIONS, [obj(f"LOC{n}") for n in range(12)])
    changes = await store.pending_changes(100)
    orders = [order(p, c.key.id, seq=c.seq) for c in changes for p in ("peer-1", "peer-2")]
    seqs = tuple(c.seq for c in changes)

    taken = await asyncio.gather(*(queue(store, *orders, taking=seqs) for _ in range(4)))
    assert sum(taken) == 12
    assert await store.pending_delivery_counts() == {"peer-1": 12, "peer-2": 12}
    assert {d.version for d in await claim(store)} == {1}


# -- claiming ------------------------------------------------------------------------------------------------


async def test_claims_return_due_deliveries_oldest_first_with_the_object_as_stored(store: SqlStore) -> None:
    await with_peers(store)
    await store.put_object(LOCATIONS, obj("LOC1", 3))
    await queue(
        store,
        order(object_id="LOC3", queued_at=T0 + 5 * SEC),
        order(object_id="LOC2", hint="h", queued_at=T0 + SEC),
        order(object_id="loc1", queued_at=T0),
    )
    claimed = await claim(store, T0 + 2 * SEC)
    assert [d.key for d in claimed] == [key("LOC1"), key("LOC2")]
    first, second = claimed
    assert (first.peer_id, first.module, first.hint, first.version, first.attempts) == ("peer-1", LOCATIONS, None, 1, 0)
    assert first.queued_at == T0
    assert first.current == await store.get_object(LOCATIONS, key("LOC1"))
    assert (second.hint, second.current) == ("h", None)
    assert [d.key.id for d in await claim(store, T0 + 5 * SEC)] == ["LOC3"]


async def test_claims_take_at_most_their_limit(store: SqlStore) -> None:
    await with_peers(store)
    await queue(store, *(order(object_id=f"LOC{n}", queued_at=T0 + n * SEC) for n in range(5)))
    assert [d.key.id for d in await claim(store, T0 + 10 * SEC, limit=2)] == ["LOC0", "LOC1"]
    assert [d.key.id for d in await claim(store, T0 + 10 * SEC, limit=2)] == ["LOC2", "LOC3"]


async def test_a_claimed_delivery_is_hidden_until_its_lease_ends(store: SqlStore) -> None:
    await with_peers(store)
    await queue(store, order())
    [claimed] = await claim(store, T0)
    assert await claim(store, T0) == []
    assert await claim(store, T0 + (LEASE - 1) * SEC) == []
    [again] = await claim(store, T0 + (LEASE + 1) * SEC)
    assert (again.id, again.version, again.attempts) == (claimed.id, 1, 0)


async def test_claims_skip_a_paused_peer_until_its_pause_ends(store: SqlStore) -> None:
    await with_peers(store, "peer-1", "peer-2")
    await queue(store, order("peer-1"), order("peer-2"))
    await store.peer_delivery_failed("peer-1", T0, "connection refused", T0 + 10 * SEC, window=3600)
    assert [d.peer_id for d in await claim(store, T0 + SEC)] == ["peer-2"]
    assert await claim(store, T0 + 9 * SEC) == []
    assert [d.peer_id for d in await claim(store, T0 + 10 * SEC)] == ["peer-1"]


async def test_claims_skip_a_peer_out_of_sync_until_it_is_resumed(store: SqlStore) -> None:
    await with_peers(store)
    state = await store.peer_delivery_failed("peer-1", T0, "connection refused", T0 + SEC, window=0)
    assert state.out_of_sync_at == T0
    await queue(store, order())  # a change routed while it is out of sync
    assert await claim(store, T0 + 3600 * SEC) == []
    await store.resume_peer_delivery("peer-1", T0 + 3600 * SEC)
    assert [d.key.id for d in await claim(store, T0 + 3600 * SEC)] == ["LOC1"]


async def test_concurrent_claims_never_share_a_delivery(store: SqlStore) -> None:
    await with_peers(store, "peer-1", "peer-2")
    await queue(store, *(order(p, f"LOC{n}", queued_at=T0 + n * SEC) for n in range(10) for p in ("peer-1", "peer-2")))
    batches = await asyncio.gather(*(claim(store, T0 + 20 * SEC, limit=5) for _ in range(6)))
    claimed = [d.id for batch in batches for d in batch]
    assert len(claimed) == len(set(claimed)) == 20


# -- settling ------------------------------------------------------------------------------------------------


async def test_a_delivery_done_is_gone(store: SqlStore) -> None:
    await with_peers(store)
    await queue(store, order(hint="a"))
    [claimed] = await claim(store)
    await settle(store, T0 + SEC, outcome(claimed, DeliveryFate.DONE))
    assert await store.pending_delivery_counts() == {}
    assert await claim(store, T0 + 3600 * SEC) == []


async def test_a_delivery_queued_again_while_in_flight_stays_after_it_is_done(store: SqlStore) -> None:
    await with_peers(store)
    await queue(store, order(hint="a"))
    [claimed] = await claim(store)
    await queue(store, order(hint="b", queued_at=T0 + SEC))
    await settle(store, T0 + 2 * SEC, outcome(claimed, DeliveryFate.DONE))
    assert await store.pending_delivery_counts() == {"peer-1": 1}

    [again] = await claim(store, T0 + 2 * SEC)
    assert (again.id, again.hint, again.version) == (claimed.id, "a+b", 2)
    await settle(store, T0 + 3 * SEC, outcome(again, DeliveryFate.DONE))
    assert await store.pending_delivery_counts() == {}


async def test_a_retried_delivery_waits_until_its_retry_time(store: SqlStore) -> None:
    await with_peers(store)
    await queue(store, order(hint="a"))
    [claimed] = await claim(store)
    await settle(store, T0 + SEC, outcome(claimed, DeliveryFate.RETRY, T0 + 30 * SEC, "HTTP 503"))
    assert await claim(store, T0 + 29 * SEC) == []
    [again] = await claim(store, T0 + 30 * SEC)
    assert (again.id, again.hint, again.version, again.attempts) == (claimed.id, "a", 1, 1)

    await settle(store, T0 + 31 * SEC, outcome(again, DeliveryFate.RETRY, T0 + 40 * SEC, "HTTP 503"))
    [third] = await claim(store, T0 + 40 * SEC)
    assert third.attempts == 2


async def test_a_refused_patch_is_sent_whole_at_once(store: SqlStore) -> None:
    await with_peers(store)
    await queue(store, order(hint="a"))
    [claimed] = await claim(store)
    await settle(store, T0 + SEC, outcome(claimed, DeliveryFate.WHOLE, error="OCPI 2003: unknown EVSE"))
    [again] = await claim(store, T0 + SEC)
    assert (again.id, again.hint, again.attempts) == (claimed.id, None, 1)


async def test_a_released_delivery_is_claimable_again_as_it_was(store: SqlStore) -> None:
    await with_peers(store)
    await queue(store, order(hint="a"))
    [claimed] = await claim(store)
    await settle(store, T0 + SEC, outcome(claimed, DeliveryFate.RELEASE))
    [again] = await claim(store, T0 + SEC)
    assert dataclasses.replace(again, queued_at=claimed.queued_at) == claimed


async def test_settling_many_deliveries_at_once_gives_each_its_fate(store: SqlStore) -> None:
    await with_peers(store)
    await queue(store, *(order(object_id=f"LOC{n}", hint="a", queued_at=T0 + n * SEC) for n in range(4)))
    done, retried, whole, released = await claim(store, T0 + 10 * SEC)
    await settle(
        store,
        T0 + 11 * SEC,
        outcome(done, DeliveryFate.DONE),
        outcome(retried, DeliveryFate.RETRY, T0 + 60 * SEC),
        outcome(whole, DeliveryFate.WHOLE),
        outcome(released, DeliveryFate.RELEASE),
    )
    now = await claim(store, T0 + 11 * SEC)
    assert sorted((d.key.id, d.hint, d.attempts) for d in now) == [("LOC2", None, 1), ("LOC3", "a", 0)]
    await settle(store, T0 + 12 * SEC, *(outcome(d, DeliveryFate.DONE) for d in now))
    assert await claim(store, T0 + 59 * SEC) == []
    assert [(d.key.id, d.attempts) for d in await claim(store, T0 + 60 * SEC)] == [("LOC1", 1)]


# -- the ledger ------------------------------------------------------------------------------------------------


async def test_attempts_enter_the_ledger_newest_first(store: SqlStore) -> None:
    await with_peers(store, "peer-1", "peer-2")
    first = [attempt(T0), attempt(T0 + SEC, "peer-2", "RETRY", http_status=503, ocpi_status=None, error="HTTP 503")]
    then = [
        attempt(T0 + 2 * SEC, result="REFUSED", http_status=404, ocpi_status=2003, error="unknown location"),
        attempt(T0 + 3 * SEC, "peer-2", latency_ms=None),
    ]
    await store.settle_deliveries([], first, [], T0)
    await store.settle_deliveries([], then, [], T0 + 3 * SEC)

    log = await store.delivery_log()
    assert logged(log) == [*reversed(then), *reversed(first)]
    assert all(entry.id is not None for entry in log)
    assert logged(await store.delivery_log(limit=2)) == list(reversed(then))
    assert logged(await store.delivery_log(peer_id="peer-2")) == [then[1], first[1]]
    assert logged(await store.delivery_log(failed_only=True)) == [then[0], first[1]]
    assert logged(await store.delivery_log(since=T0 + SEC)) == [then[1], then[0], first[1]]
    assert logged(await store.delivery_log(peer_id="peer-1", failed_only=True, since=T0 + SEC)) == [then[0]]


async def test_pruning_the_ledger_removes_attempts_before_a_time(store: SqlStore) -> None:
    await with_peers(store)
    entries = [attempt(T0), attempt(T0 + 3600 * SEC), attempt(T0 + 7200 * SEC)]
    await store.settle_deliveries([], entries, [], T0)
    assert await store.prune_delivery_log(T0 + 3600 * SEC) == 1
    assert logged(await store.delivery_log()) == [entries[2], entries[1]]
    assert await store.prune_delivery_log(T0) == 0


# -- peer health -----------------------------------------------------------------------------------------------


async def test_failures_of_a_peer_accumulate_from_the_first(store: SqlStore) -> None:
    await with_peers(store, "peer-1", "peer-2")
    await store.peer_delivery_failed("peer-1", T0, "connection refused", T0 + 2 * SEC, window=3600)
    state = await store.peer_delivery_failed("peer-1", T0 + 10 * SEC, "HTTP 503", T0 + 14 * SEC, window=3600)
    assert state == PeerDeliveryState(
        "peer-1", failures=2, failing_since=T0, retry_at=T0 + 14 * SEC, out_of_sync_at=None, last_error="HTTP 503"
    )
    assert await store.peer_delivery_states() == [state]


async def test_a_peer_failing_for_the_window_is_out_of_sync_and_its_deliveries_wait(store: SqlStore) -> None:
    await with_peers(store, "peer-1", "peer-2")
    await queue(store, order("peer-1", "LOC1"), order("peer-1", "LOC2"), order("peer-2", "LOC1"))
    await store.peer_delivery_failed("peer-1", T0, "connection refused", T0 + SEC, window=60)
    state = await store.peer_delivery_failed("peer-1", T0 + 59 * SEC, "connection refused", T0 + 61 * SEC, window=60)
    assert state.out_of_sync_at is None
    assert await store.pending_delivery_counts() == {"peer-1": 2, "peer-2": 1}

    state = await store.peer_delivery_failed("peer-1", T0 + 60 * SEC, "connection refused", T0 + 62 * SEC, window=60)
    assert (state.failures, state.failing_since, state.out_of_sync_at) == (3, T0, T0 + 60 * SEC)
    # Nothing is sent to it any more, but what changed stays (one row per object) for when it is back.
    assert await store.pending_delivery_counts() == {"peer-1": 2, "peer-2": 1}
    assert [d.peer_id for d in await claim(store, T0 + 3600 * SEC)] == ["peer-2"]

    later = await store.peer_delivery_failed("peer-1", T0 + 90 * SEC, "timed out", T0 + 95 * SEC, window=60)
    assert (later.failures, later.out_of_sync_at, later.last_error) == (4, T0 + 60 * SEC, "timed out")


async def test_a_delivery_to_a_peer_ends_its_failures(store: SqlStore) -> None:
    await with_peers(store, "peer-1", "peer-2")
    await store.peer_delivery_failed("peer-1", T0, "connection refused", T0 + 2 * SEC, window=3600)
    await store.peer_delivery_failed("peer-1", T0 + 2 * SEC, "connection refused", T0 + 6 * SEC, window=3600)
    await store.settle_deliveries([], [attempt(T0 + 7 * SEC)], ["peer-1", "peer-1", "peer-2"], T0 + 7 * SEC)
    states = await store.peer_delivery_states()
    assert states == [
        PeerDeliveryState("peer-1", last_success_at=T0 + 7 * SEC),
        PeerDeliveryState("peer-2", last_success_at=T0 + 7 * SEC),
    ]
    assert await store.resume_peer_delivery("peer-1", T0 + 8 * SEC) is None


async def test_resuming_a_paused_peer_ends_its_pause_and_returns_the_state_it_ended(store: SqlStore) -> None:
    await with_peers(store)
    paused = await store.peer_delivery_failed("peer-1", T0, "connection refused", T0 + 5 * SEC, window=3600)
    assert await store.resume_peer_delivery("peer-1", T0 + SEC) == paused
    [state] = await store.peer_delivery_states()
    assert (state.failures, state.failing_since, state.retry_at, state.out_of_sync_at) == (0, None, None, None)
    assert await store.resume_peer_delivery("peer-1", T0 + 2 * SEC) is None


async def test_resuming_a_peer_out_of_sync_returns_when_it_went_out_of_sync(store: SqlStore) -> None:
    await with_peers(store)
    await store.peer_delivery_failed("peer-1", T0, "connection refused", T0 + SEC, window=10)
    gone = await store.peer_delivery_failed("peer-1", T0 + 10 * SEC, "connection refused", T0 + 11 * SEC, window=10)
    resumed = await store.resume_peer_delivery("peer-1", T0 + 100 * SEC)
    assert resumed == gone
    assert resumed is not None
    assert (resumed.failing_since, resumed.out_of_sync_at) == (T0, T0 + 10 * SEC)
    [state] = await store.peer_delivery_states()
    assert state.out_of_sync_at is None


async def test_resuming_a_peer_that_never_failed_returns_none(store: SqlStore) -> None:
    await with_peers(store)
    assert await store.resume_peer_delivery("peer-1", T0) is None
    assert await store.resume_peer_delivery("peer-unknown", T0) is None
    assert await store.peer_delivery_states() == []


async def test_pending_delivery_counts_are_per_peer(store: SqlStore) -> None:
    await with_peers(store, "peer-1", "peer-2", "peer-3")
    assert await store.pending_delivery_counts() == {}
    await queue(
        store, order("peer-1", "LOC1"), order("peer-1", "LOC2"), order("peer-2", "LOC1"), order("peer-1", "LOC1")
    )
    assert await store.pending_delivery_counts() == {"peer-1": 2, "peer-2": 1}


async def test_deleting_a_peer_removes_its_deliveries_and_delivery_state(store: SqlStore) -> None:
    await with_peers(store, "peer-1", "peer-2")
    await queue(store, order("peer-1"), order("peer-2"))
    await store.peer_delivery_failed("peer-1", T0, "connection refused", T0 + SEC, window=3600)
    await store.peer_delivery_failed("peer-2", T0, "connection refused", T0 + SEC, window=3600)
    await store.delete_peer("peer-1")
    assert await store.pending_delivery_counts() == {"peer-2": 1}
    assert [s.peer_id for s in await store.peer_delivery_states()] == ["peer-2"]

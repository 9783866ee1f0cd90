"""When a receiver pulls each (peer, module) again: at once when first seen, on its interval after a success,
with a capped backoff after failures, and at once when a peer whose pulls failed calls again."""

from __future__ import annotations

import math
import random

from evroam.delivery.resync import ResyncSchedule

HOUR = 3600.0
T0 = 1000.0  # any monotonic time


def schedule(interval: float = HOUR, splay: float = 0.0, seed: int = 7) -> ResyncSchedule:
    return ResyncSchedule(interval, splay, rng=random.Random(seed))


def pull_and_fail(s: ResyncSchedule, peer: str, module: str, now: float) -> float:
    s.begin(peer, module)
    return s.failed(peer, module, now)


def pull_and_succeed(s: ResyncSchedule, peer: str, module: str, now: float) -> float:
    s.begin(peer, module)
    return s.succeeded(peer, module, now)


def test_a_pair_first_seen_is_due_at_once_in_the_order_given() -> None:
    s = schedule()
    s.track([("cpo", "locations"), ("cpo", "cdrs"), ("hub", "tariffs")], T0)
    assert s.due(T0) == [("cpo", "locations"), ("cpo", "cdrs"), ("hub", "tariffs")]
    assert s.next_due() == T0


def test_nothing_tracked_is_never_due() -> None:
    s = schedule()
    assert s.due(T0) == []
    assert s.next_due() is None


def test_tracking_again_keeps_the_schedule_of_known_pairs() -> None:
    s = schedule()
    s.track([("cpo", "locations")], T0)
    pull_and_succeed(s, "cpo", "locations", T0)
    s.track([("cpo", "locations"), ("cpo", "cdrs")], T0 + 10)
    assert s.due(T0 + 10) == [("cpo", "cdrs")]  # only the new one
    assert s.due_at("cpo", "locations") == T0 + HOUR


def test_after_a_success_the_pair_is_due_again_within_the_interval_and_its_splay() -> None:
    s = schedule(interval=HOUR, splay=0.2)
    nexts = []
    for _ in range(200):
        s.track([("cpo", "locations")], T0)
        nexts.append(pull_and_succeed(s, "cpo", "locations", T0) - T0)
    assert all(0.8 * HOUR <= n <= 1.2 * HOUR for n in nexts)
    assert max(nexts) - min(nexts) > 0.2 * HOUR  # spread, not one fixed delay
    assert s.due(T0 + 0.79 * HOUR) == []


def test_without_splay_the_next_pull_is_exactly_one_interval_later() -> None:
    s = schedule(interval=60.0)
    s.track([("cpo", "tariffs")], T0)
    assert pull_and_succeed(s, "cpo", "tariffs", T0 + 5) == T0 + 65
    assert s.next_due() == T0 + 65


def test_a_full_splay_never_makes_the_next_pull_immediate() -> None:
    s = schedule(interval=100.0, splay=1.0)
    s.track([("cpo", "tariffs")], T0)
    assert all(pull_and_succeed(s, "cpo", "tariffs", T0) - T0 >= 10.0 for _ in range(500))


def test_interval_zero_means_never_again_after_a_success() -> None:
    s = schedule(interval=0.0)
    s.track([("cpo", "cdrs")], T0)
    assert pull_and_succeed(s, "cpo", "cdrs", T0) == math.inf
    assert s.due(T0 + 10 * HOUR) == []
    assert s.next_due() is None


def test_interval_zero_still_retries_a_failure() -> None:
    s = schedule(interval=0.0)
    s.track([("cpo", "cdrs")], T0)
    assert pull_and_fail(s, "cpo", "cdrs", T0) <= T0 + 5.0


def test_failures_back_off_doubling_with_jitter_up_to_the_cap() -> None:
    s = schedule()
    s.track([("cpo", "sessions")], T0)
    delays = []
    now = T0
    for _ in range(12):
        retry = pull_and_fail(s, "cpo", "sessions", now)
        delays.append(retry - now)
        now = retry
    assert s.failures("cpo", "sessions") == 12
    for failures, delay in enumerate(delays, start=1):
        backoff = min(300.0, 5.0 * 2 ** (failures - 1))
        assert backoff / 2 <= delay <= backoff
    assert max(delays) <= 300.0
    assert delays[-1] >= 150.0  # capped, not grown on


def test_a_retry_is_never_later_than_the_regular_interval() -> None:
    s = schedule(interval=2.0)
    s.track([("cpo", "sessions")], T0)
    for _ in range(6):
        assert pull_and_fail(s, "cpo", "sessions", T0) - T0 <= 2.0


def test_a_success_ends_the_failure_streak() -> None:
    s = schedule(interval=60.0)
    s.track([("cpo", "sessions")], T0)
    for _ in range(4):
        pull_and_fail(s, "cpo", "sessions", T0)
    assert pull_and_succeed(s, "cpo", "sessions", T0) == T0 + 60.0
    assert s.failures("cpo", "sessions") == 0
    assert pull_and_fail(s, "cpo", "sessions", T0) - T0 <= 5.0  # backoff starts over


def test_peer_active_makes_only_its_failed_modules_due_now() -> None:
    s = schedule()
    s.track([("cpo", "locations"), ("cpo", "cdrs"), ("other", "cdrs")], T0)
    pull_and_succeed(s, "cpo", "locations", T0)
    pull_and_fail(s, "cpo", "cdrs", T0)
    pull_and_fail(s, "other", "cdrs", T0)

    assert s.peer_active("cpo", T0 + 1) is True
    assert s.due(T0 + 1) == [("cpo", "cdrs")]
    assert s.due_at("cpo", "locations") == T0 + HOUR
    assert s.due_at("other", "cdrs") > T0 + 1  # type: ignore[operator]


def test_a_peer_whose_pulls_are_fine_is_not_pulled_again_because_it_calls() -> None:
    s = schedule()
    s.track([("cpo", "locations"), ("cpo", "tariffs")], T0)
    pull_and_succeed(s, "cpo", "locations", T0)
    pull_and_succeed(s, "cpo", "tariffs", T0)
    assert s.peer_active("cpo", T0 + 1) is False
    assert s.due(T0 + 1) == []
    assert s.peer_active("unknown", T0 + 1) is False


def test_peer_active_helps_once_per_failure_streak() -> None:
    s = schedule()
    s.track([("cpo", "cdrs")], T0)
    pull_and_fail(s, "cpo", "cdrs", T0)
    assert s.peer_active("cpo", T0 + 1)
    retry = pull_and_fail(s, "cpo", "cdrs", T0 + 1)  # its Sender fails although it calls us
    assert s.peer_active("cpo", T0 + 2) is False
    assert s.due_at("cpo", "cdrs") == retry  # left to the backoff
    pull_and_succeed(s, "cpo", "cdrs", retry)
    pull_and_fail(s, "cpo", "cdrs", retry + HOUR)
    assert s.peer_active("cpo", retry + HOUR + 1)  # a new streak


def test_a_call_during_a_pull_that_then_fails_retries_at_once() -> None:
    s = schedule()
    s.track([("cpo", "cdrs")], T0)
    s.begin("cpo", "cdrs")
    assert s.peer_active("cpo", T0 + 1) is False  # nothing to start: the pull is in flight
    assert s.failed("cpo", "cdrs", T0 + 2) == T0 + 2
    assert s.due(T0 + 2) == [("cpo", "cdrs")]


def test_no_module_of_a_peer_is_due_while_one_of_its_pulls_is_in_flight() -> None:
    s = schedule()
    s.track([("cpo", "locations"), ("cpo", "cdrs"), ("hub", "cdrs")], T0)
    s.begin("cpo", "locations")
    assert s.due(T0) == [("hub", "cdrs")]
    s.begin("hub", "cdrs")
    assert s.next_due() is None  # each pull's end says what comes next
    pull_and_succeed(s, "cpo", "locations", T0 + 1)
    assert s.due(T0 + 1) == [("cpo", "cdrs")]


def test_forget_drops_a_peer_and_ignores_its_pull_in_flight() -> None:
    s = schedule()
    s.track([("cpo", "locations"), ("cpo", "cdrs"), ("hub", "cdrs")], T0)
    s.begin("cpo", "locations")
    s.forget("cpo")
    assert s.due(T0) == [("hub", "cdrs")]
    assert s.succeeded("cpo", "locations", T0) == math.inf
    assert s.due_at("cpo", "locations") is None
    assert s.due(T0 + 2 * HOUR) == [("hub", "cdrs")]


def test_tracking_without_a_pair_forgets_it() -> None:
    s = schedule()
    s.track([("cpo", "locations"), ("gone", "cdrs")], T0)
    s.track([("cpo", "locations")], T0 + 1)
    assert s.due(T0 + 1) == [("cpo", "locations")]
    assert s.failures("gone", "cdrs") == 0
    assert s.due_at("gone", "cdrs") is None

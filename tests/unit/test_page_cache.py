"""The memory of rendered list pages: current pages only, least recently used evicted first, bounded."""

from __future__ import annotations

from evroam.modules.listcache import CachedPage, PageCache
from evroam.store.changes import ChangeCounters


def page(stamp: tuple[int, ...], size: int = 100) -> CachedPage:
    return CachedPage(stamp, b"x" * size, [(b"content-type", b"application/json")])


def test_a_page_is_returned_only_under_the_stamp_it_was_kept_with() -> None:
    cache = PageCache(10_000)
    cache.remember(("a",), page((0, 1)))
    assert cache.get(("a",), (0, 1)) is not None
    assert cache.get(("a",), (0, 2)) is None
    assert cache.get(("b",), (0, 1)) is None
    assert (cache.hits, cache.misses) == (1, 2)


def test_the_least_recently_used_page_goes_first_when_memory_runs_out() -> None:
    one = page((0,), 1_000)
    cache = PageCache(4 * one.size)
    for name in "abcd":
        cache.remember((name,), page((0,), 1_000))
    assert cache.get(("a",), (0,)) is not None  # a is now the most recently used
    cache.remember(("e",), page((0,), 1_000))
    assert [cache.get((n,), (0,)) is not None for n in "abcde"] == [True, False, True, True, True]
    assert len(cache) == 4


def test_a_page_too_large_for_a_quarter_of_the_memory_is_not_kept_and_no_memory_keeps_nothing() -> None:
    cache = PageCache(4_000)
    cache.remember(("big",), page((0,), 2_000))
    assert len(cache) == 0
    none = PageCache(0)
    none.remember(("a",), page((0,), 1))
    assert len(none) == 0


def test_replacing_a_page_keeps_the_memory_count_right() -> None:
    one = page((0,), 1_000)
    cache = PageCache(4 * one.size)
    for stamp in range(10):
        cache.remember(("a",), page((stamp,), 1_000))
    for name in "bcd":
        cache.remember((name,), page((0,), 1_000))
    assert len(cache) == 4
    cache.clear()
    assert (len(cache), cache.hits, cache.misses) == (0, 0, 0)


def test_counters_move_per_module_and_all_at_once() -> None:
    counters = ChangeCounters()
    start = counters.stamp(("locations", "tokens"))
    counters.bump("tokens")
    assert counters.stamp(("locations",)) == (0, 0)
    assert counters.stamp(("locations", "tokens")) != start
    counters.bump_all()
    assert counters.stamp(("locations",)) != (0, 0)
    assert not counters.live

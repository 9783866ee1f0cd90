"""Sender list pages served from memory until the data behind them changes.

Peers pull lists page by page, often the same pages again (every delta pull, every reconnect), and a
page is the same bytes until one of the modules it is read from changes. The first request renders
the page through the normal handler, which keeps it here (`remember`); requests after it with the
same caller, path, query and routing headers are answered with `remembered_reply`, which the app
asks before anything else, with a fresh envelope timestamp and request ids, without routing,
dependencies or queries.

A page is kept under the change counters of the modules it was read from (`evroam.store.changes`),
taken before it was read, so a write that lands while it is being rendered makes it stale at once.
Nothing is served from memory while no watcher follows other processes' writes.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from starlette.types import Message, Scope

from evroam.transport.envelope import envelope_tail
from evroam.transport.headers import CORRELATION_ID, REQUEST_ID, clean_id, new_id

if TYPE_CHECKING:
    from evroam.node import Node

__all__ = ["PAGE_SCOPE_KEY", "CachedPage", "PageCache", "PageKey", "page_key", "remember", "remembered_reply"]

PAGE_SCOPE_KEY: Final = "evroam.list_page"
"""Scope entry `remembered_reply` leaves for the handler on a miss: the stamp to keep the page under."""

PageKey = tuple[Any, ...]

_COPY_AT_MOST: Final = 256 * 1024  # larger pages are sent in two writes rather than copied with their timestamp

_REQUEST_ID_B: Final = REQUEST_ID.lower().encode()
_CORRELATION_ID_B: Final = CORRELATION_ID.lower().encode()
_ROUTING_B: Final = (
    b"ocpi-from-country-code",
    b"ocpi-from-party-id",
    b"ocpi-to-country-code",
    b"ocpi-to-party-id",
)


@dataclass(slots=True)
class CachedPage:
    """A rendered 200 page: the envelope up to its timestamp and the headers (without length and ids)."""

    stamp: tuple[int, ...]
    head: bytes
    headers: list[tuple[bytes, bytes]]
    # The whole body of the latest timestamp (made once per millisecond, `body`).
    _tail: bytes = b""
    _body: bytes = b""
    _length: bytes = b""

    @property
    def size(self) -> int:
        body = len(self.head) if len(self.head) <= _COPY_AT_MOST else 0  # the copy with the timestamp
        return len(self.head) + body + sum(len(k) + len(v) for k, v in self.headers) + 200

    def body(self, tail: bytes) -> tuple[bytes, bytes]:
        """The body ending in `tail`, and its length as a header value."""
        if tail is not self._tail:
            self._body = self.head + tail
            self._tail = tail
            self._length = b"%d" % len(self._body)
        return self._body, self._length


class PageCache:
    """Least recently used pages within `max_bytes` (0 keeps none)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[PageKey, CachedPage] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: PageKey, stamp: tuple[int, ...]) -> CachedPage | None:
        page = self._pages.get(key)
        if page is None or page.stamp != stamp:
            self.misses += 1
            return None
        self._pages.move_to_end(key)
        self.hits += 1
        return page

    def remember(self, key: PageKey, page: CachedPage) -> None:
        size = page.size
        if size > self.max_bytes // 4:  # one page never crowds out the rest
            return
        old = self._pages.pop(key, None)
        if old is not None:
            self._bytes -= old.size
        self._pages[key] = page
        self._bytes += size
        while self._bytes > self.max_bytes and self._pages:
            _, evicted = self._pages.popitem(last=False)
            self._bytes -= evicted.size

    def clear(self) -> None:
        """Forget every page, and start counting hits and misses anew."""
        self._pages.clear()
        self._bytes = 0
        self.hits = self.misses = 0


def remembered_reply(node: Node, scope: Scope) -> list[Message] | None:
    """The messages answering a Sender list GET with its remembered page, if that is current. Otherwise
    None, having left the stamp for the handler to keep the page it renders (the request goes on as usual).

    Nothing here waits: it runs before the app's middleware, routing and dependencies."""
    if scope["type"] != "http" or scope["method"] != "GET" or not node.pages.max_bytes or not node.store.changes.live:
        return None
    sources = node.list_sources.get(scope["path"])
    if sources is None:
        return None
    # Taken before anything is read: a write landing while the handler renders makes its page stale.
    stamp = node.store.changes.stamp(sources)
    scope[PAGE_SCOPE_KEY] = stamp
    authorization = request_id = correlation_id = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value
        elif name == _REQUEST_ID_B:
            request_id = clean_id(value)
        elif name == _CORRELATION_ID_B:
            correlation_id = clean_id(value)
    if authorization is None:
        return None
    caller = node.auth.recent_module_caller(authorization.decode("latin-1"))
    if caller is None:
        return None
    page = node.pages.get(page_key(scope, caller.peer.id), stamp)
    if page is None:
        return None
    request_id = request_id or new_id()
    correlation_id = correlation_id or request_id
    tail = envelope_tail()
    if len(page.head) > _COPY_AT_MOST:
        # Copying a large page costs more than a second write: the head as kept, then the timestamp.
        length = b"%d" % (len(page.head) + len(tail))
        bodies: list[Message] = [
            {"type": "http.response.body", "body": page.head, "more_body": True},
            {"type": "http.response.body", "body": tail},
        ]
    else:
        # One write; the timestamp changes once per millisecond, so does the body, made once within it.
        body, length = page.body(tail)
        bodies = [{"type": "http.response.body", "body": body}]
    headers = [
        *page.headers,
        (b"content-length", length),
        (_REQUEST_ID_B, request_id.encode("latin-1")),
        (_CORRELATION_ID_B, correlation_id.encode("latin-1")),
    ]
    return [{"type": "http.response.start", "status": 200, "headers": headers}, *bodies]


def page_key(scope: Scope, peer_id: str) -> PageKey:
    """What a page depends on besides the data: path and query, the caller, and the routing headers."""
    routing: list[bytes | None] = [None, None, None, None]
    for name, value in scope["headers"]:
        if name in _ROUTING_B:
            routing[_ROUTING_B.index(name)] = value
    return (scope["path"], scope["query_string"], peer_id, *routing)


def remember(node: Node, scope: Scope, peer_id: str, head: bytes, raw_headers: list[tuple[bytes, bytes]]) -> None:
    """Keep a page the handler rendered, if `remembered_reply` let the request through with a stamp."""
    stamp = scope.get(PAGE_SCOPE_KEY)
    if stamp is not None:
        headers = [(k, v) for k, v in raw_headers if k != b"content-length"]
        node.pages.remember(page_key(scope, peer_id), CachedPage(stamp, head, headers))

"""The typed storage interface every backend implements, and the records it stores."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from evroam.store.changes import ChangeCounters
from evroam.types import Role

__all__ = [
    "Callback",
    "Change",
    "ChangeRecorder",
    "CommandRecord",
    "CredentialsTokenRecord",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryFate",
    "DeliveryOrder",
    "DeliveryOutcome",
    "ListQuery",
    "NodeIdentity",
    "ObjectKey",
    "OutboxChange",
    "PartyRecord",
    "Peer",
    "PeerDeliveryState",
    "PeerEndpoint",
    "PeerStatus",
    "PutOutcome",
    "ReceivedRequest",
    "Store",
    "StoredObject",
    "TokenKind",
]


@dataclass(frozen=True, slots=True)
class PartyRecord:
    """A party (role) hosted by a platform: ours or a peer's (CredentialsRole without the logo)."""

    country_code: str
    party_id: str
    role: Role
    name: str
    website: str | None = None


@dataclass(frozen=True, slots=True)
class NodeIdentity:
    """What this node is: where it is reachable and which parties it hosts.

    Saved by `serve`, so commands run against the same database (e.g. `credentials register`)
    know the node without repeating every option.
    """

    base_url: str
    parties: tuple[PartyRecord, ...]
    updated_at: datetime


class PeerStatus(StrEnum):
    """Where a connection to another platform stands."""

    PENDING = "PENDING"  # we issued token A; the peer has not registered yet
    REGISTERING = "REGISTERING"  # we started the handshake; the peer is calling us back
    REGISTERED = "REGISTERED"
    UNREGISTERED = "UNREGISTERED"


@dataclass(frozen=True, slots=True)
class PeerEndpoint:
    """One endpoint from a peer's version details (2.1.1 peers have no interface role)."""

    identifier: str
    role: str | None
    url: str


@dataclass(frozen=True, slots=True)
class Peer:
    """Another OCPI platform we are (or are becoming) connected to."""

    id: str
    name: str
    status: PeerStatus
    created_at: datetime
    updated_at: datetime
    versions_url: str | None = None
    version: str | None = None
    endpoints: tuple[PeerEndpoint, ...] = ()
    roles: tuple[PartyRecord, ...] = ()
    # The token WE send to call the peer. Needed in clear text to call out; never logged.
    token_out: str | None = None

    def endpoint_url(self, module: str, interface: str) -> str | None:
        """The URL of the peer's `module` endpoint for `interface` (SENDER or RECEIVER); an endpoint listed
        without a role (2.1.1) serves both."""
        for endpoint in self.endpoints:
            if endpoint.identifier == module and endpoint.role in (interface, None):
                return endpoint.url
        return None


class TokenKind(StrEnum):
    """What a credentials token we issued allows."""

    REGISTRATION = "REGISTRATION"  # token A (ours) or token B (during our own handshake): versions/credentials only
    ACTIVE = "ACTIVE"  # token C (ours) / B after the handshake: every module


@dataclass(frozen=True, slots=True)
class CredentialsTokenRecord:
    """A token we issued, kept only as its SHA-256 hex digest."""

    token_hash: str
    peer_id: str
    kind: TokenKind
    created_at: datetime = field(compare=False)


@dataclass(frozen=True, slots=True)
class ObjectKey:
    """Identity of a module object: owner country_code/party_id, id, and (tokens only) the token type.

    Ids are CiStrings: backends compare all four parts case-insensitively.
    """

    country_code: str
    party_id: str
    id: str
    type: str = ""


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One module object as stored: its canonical JSON plus the columns lists filter on."""

    key: ObjectKey
    last_updated: datetime
    data: bytes
    # The party entitled to it besides its owner: for sessions and CDRs the eMSP owning the token.
    holder_country_code: str | None = None
    holder_party_id: str | None = None
    # Locations with publish=false are listed only where a query names them.
    published: bool = True


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A page of a module's objects, in stable order (first stored first).

    `date_from` is inclusive and `date_to` exclusive on last_updated. `owners` restricts the objects'
    own country_code/party_id, `holders` the holder columns (None: no restriction), `object_id` and
    `object_type` the rest of the key (case-insensitively, e.g. a token by uid whoever owns it). Unpublished
    objects are excluded when `published_only`, except those named in `also_unpublished`;
    `unpublished_only` lists just the unpublished ones.
    """

    offset: int = 0
    limit: int = 100
    date_from: datetime | None = None
    date_to: datetime | None = None
    owners: tuple[tuple[str, str], ...] | None = None
    holders: tuple[tuple[str, str], ...] | None = None
    published_only: bool = False
    also_unpublished: tuple[ObjectKey, ...] = ()
    unpublished_only: bool = False
    object_id: str | None = None
    object_type: str | None = None


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """A command we sent to a CPO (as eMSP): the request, the CommandResponse, the CommandResult.

    JSON fields hold the objects as sent or received; times are UTC. `deadline` is when the result
    was due (the response's timeout after it arrived); `error` says why the request never got a response.
    """

    id: str
    peer_id: str
    command: str
    country_code: str
    party_id: str
    request: str
    created_at: datetime
    response: str | None = None
    responded_at: datetime | None = None
    deadline: datetime | None = None
    result: str | None = None
    result_at: datetime | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """A request a peer sent us for a Charge Point (a command, a charging-profile request), kept until its
    result is settled, so a restart between our response and the result loses nothing.

    `kind` is the command (START_SESSION...) or the profile request (SET_PROFILE, GET_PROFILE,
    CLEAR_PROFILE); `sender` the peer's party that asked, `cpo` ours that answered. `request` is the body
    as received (JSON); `result` the result posted back, None while the Charge Point has not answered.
    """

    id: str
    peer_id: str
    kind: str
    sender_country_code: str
    sender_party_id: str
    cpo_country_code: str
    cpo_party_id: str
    request: str
    response_url: str
    received_at: datetime
    due_at: datetime
    result: str | None = None
    result_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Callback:
    """A call we owe a peer at a URL it gave us (a command's result, an ActiveChargingProfile...).

    Stored in the transaction that decides it; a delivery worker sends it, retrying transient failures
    until `expires_at`. `routing` is (from cc, from pid, to cc, to pid) for the OCPI-from/to headers.
    """

    peer_id: str
    method: str
    url: str
    body: str
    created_at: datetime
    expires_at: datetime
    routing: tuple[str, str, str, str]
    id: int | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    failed_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxChange:
    """A committed change of one of our objects, waiting to be routed to the peers entitled to it.
    `current` is the object as stored now (None once deleted); `hint` what changed (None: all of it)."""

    seq: int
    module: str
    key: ObjectKey
    hint: str | None
    created_at: datetime
    current: StoredObject | None


@dataclass(frozen=True, slots=True)
class DeliveryOrder:
    """`peer_id` is to be sent the object (`hint`: what changed). `seq` is the outbox change it comes from
    (None: a catch-up of a peer reachable again)."""

    peer_id: str
    module: str
    key: ObjectKey
    hint: str | None
    queued_at: datetime
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed delivery: send `current` (the object as stored when claimed; None once deleted) to the peer."""

    id: int
    peer_id: str
    module: str
    key: ObjectKey
    hint: str | None
    version: int
    queued_at: datetime
    attempts: int
    current: StoredObject | None


class DeliveryFate(StrEnum):
    """What becomes of a claimed delivery after an attempt."""

    DONE = "DONE"  # delivered, or refused for good: gone unless the object changed meanwhile
    RETRY = "RETRY"  # a transient failure: try again at `retry_at`
    WHOLE = "WHOLE"  # a PATCH was refused: send the whole object at once
    RELEASE = "RELEASE"  # not attempted (its peer failed meanwhile): back in the queue as it was


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    delivery_id: int
    version: int
    fate: DeliveryFate
    retry_at: datetime | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One row of the delivery ledger. `outcome`: DELIVERED, RETRY, REFUSED, DROPPED."""

    at: datetime
    peer_id: str
    module: str
    object: str
    method: str
    url: str
    request_id: str
    outcome: str
    http_status: int | None = None
    ocpi_status: int | None = None
    latency_ms: float | None = None
    error: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class PeerDeliveryState:
    """How pushing to a peer goes: failing since, paused until `retry_at`, or out of sync (pushes stopped)."""

    peer_id: str
    failures: int = 0
    failing_since: datetime | None = None
    retry_at: datetime | None = None
    out_of_sync_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None


class ChangeRecorder(Protocol):
    """Which writes the store records in the outbox (our own objects), and what changed in them."""

    def records(self, module: str, key: ObjectKey) -> bool: ...

    def hint(self, module: str, before: StoredObject, after: StoredObject) -> str | None:
        """What changed from `before` to `after` (see `evroam.delivery.deltas`); None: all of it."""
        ...


class PutOutcome(StrEnum):
    """What a write did."""

    CREATED = "CREATED"
    UPDATED = "UPDATED"
    STALE = "STALE"  # the stored object is newer (last_updated); nothing changed
    EXISTS = "EXISTS"  # insert-only write of an object that is already there; nothing changed


Change = Callable[["StoredObject | None"], "StoredObject | None"]
"""A read-modify-write step: given the current object (or None), the object to store (None: no write).
It may run more than once (a lost race for a new key is retried), so it must not act outside its result."""


class Store(Protocol):
    """Storage for one node. Every method is atomic on its own."""

    changes: ChangeCounters
    """Counters of committed writes by module; `live` while `watch_changes` runs."""

    recorder: ChangeRecorder | None
    """Set by the node: writes of the objects it records enter the outbox in their own transaction."""

    async def close(self) -> None: ...

    async def watch_changes(self) -> None:
        """Follow other processes' writes into `changes` until cancelled."""
        ...

    # -- node identity ---------------------------------------------------------------------------
    async def get_node_identity(self) -> NodeIdentity | None: ...

    async def save_node_identity(self, identity: NodeIdentity) -> None: ...

    # -- peers ------------------------------------------------------------------------------------
    async def get_peer(self, peer_id: str) -> Peer | None: ...

    async def list_peers(self) -> list[Peer]:
        """All peers, oldest first."""
        ...

    async def find_peer_by_party(self, country_code: str, party_id: str) -> Peer | None:
        """The REGISTERED peer one of whose roles has this country_code/party_id (case-insensitive)."""
        ...

    async def save_peer(
        self,
        peer: Peer,
        *,
        add_tokens: tuple[CredentialsTokenRecord, ...] = (),
        revoke_token_hashes: tuple[str, ...] = (),
        revoke_all_tokens: bool = False,
    ) -> None:
        """Insert or replace `peer` and change its tokens, all in one transaction.

        `revoke_all_tokens` drops every token of the peer before `add_tokens` are added.
        """
        ...

    async def delete_peer(self, peer_id: str) -> None:
        """Remove a peer and all its tokens (used to roll back a handshake that failed)."""
        ...

    # -- credentials tokens -------------------------------------------------------------------------
    async def find_token(self, token_hash: str) -> CredentialsTokenRecord | None: ...

    # -- pull sync ------------------------------------------------------------------------------------
    async def get_sync_mark(self, peer_id: str, module: str) -> datetime | None:
        """Where the last successful pull of `module` from the peer started (the next delta's date_from)."""
        ...

    async def set_sync_mark(self, peer_id: str, module: str, mark: datetime) -> None: ...

    # -- commands we sent -------------------------------------------------------------------------------
    async def save_command(self, record: CommandRecord) -> None:
        """Insert or replace the command (its id is ours)."""
        ...

    async def get_command(self, command_id: str) -> CommandRecord | None: ...

    async def record_command_response(
        self, command_id: str, *, response: str | None, at: datetime, deadline: datetime | None, error: str | None
    ) -> None:
        """Store the CommandResponse (or why there is none), leaving a result that came first untouched."""
        ...

    async def record_command_result(
        self, command_id: str, result: str, at: datetime, *, replace: bool = False
    ) -> CommandRecord | None:
        """Store the first CommandResult of a command (a repeated one is ignored unless `replace`); None when
        the command is unknown."""
        ...

    # -- requests received for a Charge Point, and the calls owed back -----------------------------------
    async def save_received_request(self, request: ReceivedRequest) -> None:
        """Insert a request we accepted (its id is ours)."""
        ...

    async def get_received_request(self, request_id: str) -> ReceivedRequest | None: ...

    async def unsettled_requests(self) -> list[ReceivedRequest]:
        """Accepted requests without a result yet, oldest first (what a restarted node takes up again)."""
        ...

    async def settle_request(self, request_id: str, result: str, at: datetime, callback: Callback | None) -> bool:
        """Record the request's result and owe `callback` (its delivery, if any), in one transaction; False
        (and nothing written) when the request is unknown or had its result already."""
        ...

    async def add_callback(self, callback: Callback) -> int:
        """Owe a call; returns its id."""
        ...

    async def claim_callbacks(self, now: datetime, limit: int, lease: float) -> list[Callback]:
        """Callbacks due at `now` (neither delivered nor failed), oldest first; each is hidden from other
        claims for `lease` seconds, so several workers never send the same one at once."""
        ...

    async def next_callback_at(self) -> datetime | None:
        """When the earliest callback still owed falls due (None: nothing owed)."""
        ...

    async def get_callback(self, callback_id: int) -> Callback | None: ...

    async def callback_sent(
        self, callback_id: int, at: datetime, *, error: str | None = None, retry_at: datetime | None = None
    ) -> None:
        """Record an attempt: delivered (no error), to be retried at `retry_at`, or failed for good."""
        ...

    async def get_state(self, kind: str, key: str) -> str | None:
        """Charge-point side state kept by kind and key (reservations, charging profiles), as JSON."""
        ...

    async def put_state(self, kind: str, key: str, data: str, at: datetime) -> None: ...

    async def delete_state(self, kind: str, key: str) -> bool: ...

    async def list_state(self, kind: str) -> list[tuple[str, str]]:
        """Every (key, data) of `kind`, by key."""
        ...

    # -- module objects (locations, sessions, cdrs, tariffs, tokens) ---------------------------------
    async def get_object(self, module: str, key: ObjectKey) -> StoredObject | None: ...

    async def put_object(self, module: str, obj: StoredObject, *, insert_only: bool = False) -> PutOutcome:
        """Create or replace, unless the stored object has a later last_updated (STALE).
        `insert_only` never replaces (EXISTS), for immutable objects such as CDRs."""
        ...

    async def put_objects(
        self, module: str, objs: list[StoredObject], *, insert_only: bool = False
    ) -> list[PutOutcome]:
        """`put_object` for many objects in one transaction (bulk load and pull sync)."""
        ...

    async def mutate_object(
        self, module: str, key: ObjectKey, change: Change
    ) -> tuple[StoredObject | None, StoredObject | None]:
        """Atomic read-modify-write (the row is locked against concurrent writers): returns (before,
        after). `change` returning None writes nothing; an exception in it rolls back."""
        ...

    async def delete_object(self, module: str, key: ObjectKey) -> bool: ...

    async def list_objects(self, module: str, query: ListQuery) -> tuple[int, list[StoredObject]]:
        """The total matching the filters (ignoring offset/limit) and one page of them."""
        ...

    # -- push delivery ------------------------------------------------------------------------------------
    async def pending_changes(self, limit: int) -> list[OutboxChange]:
        """The oldest changes in the outbox, each with its object as stored now."""
        ...

    async def queue_deliveries(
        self, orders: list[DeliveryOrder], merge: Callable[[str | None, str | None], str | None], *, taking: list[int]
    ) -> int:
        """In one transaction: take the outbox changes `taking` (those another worker took already are
        skipped, with their orders) and queue `orders` for their peers, a hint merged (`merge`) into the
        one of a delivery already waiting for the same peer and object. Returns how many changes were taken."""
        ...

    async def claim_deliveries(self, now: datetime, limit: int, lease: float) -> list[Delivery]:
        """Deliveries due at `now` to peers neither paused nor out of sync, oldest first, each hidden from
        other claims for `lease` seconds."""
        ...

    async def settle_deliveries(
        self, outcomes: list[DeliveryOutcome], attempts: list[DeliveryAttempt], delivered_to: list[str], now: datetime
    ) -> None:
        """Record attempts in the ledger and what becomes of each delivery; peers in `delivered_to` accepted
        a push (their failures end)."""
        ...

    async def peer_delivery_failed(
        self, peer_id: str, now: datetime, error: str, retry_at: datetime, window: float
    ) -> PeerDeliveryState:
        """A push to the peer failed transiently: pause it until `retry_at`; once it has failed for `window`
        seconds it is out of sync (nothing is claimed for it until it is resumed)."""
        ...

    async def resume_peer_delivery(self, peer_id: str, now: datetime) -> PeerDeliveryState | None:
        """The peer is reachable again: end its pause or out-of-sync state; returns the state it ended."""
        ...

    async def peer_delivery_states(self) -> list[PeerDeliveryState]: ...

    async def pending_delivery_counts(self) -> dict[str, int]:
        """Deliveries waiting, by peer."""
        ...

    async def delivery_log(
        self, *, peer_id: str | None = None, limit: int = 50, failed_only: bool = False, since: datetime | None = None
    ) -> list[DeliveryAttempt]:
        """The ledger, newest first."""
        ...

    async def delivery_counts(self, since: datetime) -> dict[str, dict[str, int]]:
        """Attempts in the ledger since `since`, by peer and outcome."""
        ...

    async def prune_delivery_log(self, before: datetime) -> int: ...

"""SQLAlchemy Core schema of the store: one table per aggregate, plus the column types they share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = [
    "Json",
    "UtcDateTime",
    "callbacks",
    "change_counts",
    "charge_point_state",
    "commands",
    "credentials_tokens",
    "deliveries",
    "delivery_log",
    "delivery_peers",
    "metadata",
    "node_identity",
    "objects",
    "outbox",
    "peers",
    "received_requests",
    "sync_marks",
]

# Convention for every table: plain columns for what is looked up or ordered by (keys, status,
# timestamps as UtcDateTime), Json for nested lists and objects that are only read whole. OCPI
# objects (locations, sessions, cdrs, tariffs, tokens) follow it with a (country_code, party_id, id)
# primary key, an indexed `last_updated` for paginated GETs, and the object itself as Json.

# Deterministic constraint names keep migrations reproducible across dialects (and let Alembic's
# batch mode on SQLite find constraints by name when a later revision alters a table).
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every dialect.

    SQLite's DATETIME keeps no offset, so values are normalised to UTC before they are written and
    marked UTC when read; PostgreSQL stores `timestamptz` and only needs the result converted.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            # A naive value would be silently read back as UTC, which may be the wrong instant.
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored; give it a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSONB on PostgreSQL so later aggregates can index and query inside documents.
Json: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")


# What this node is; a single row (id = 1) saved by `serve`.
node_identity = Table(
    "node_identity",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("base_url", Text, nullable=False),
    Column("parties", Json, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("id = 1", name="singleton"),
)

peers = Table(
    "peers",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("versions_url", Text, nullable=True),
    Column("version", String(16), nullable=True),
    Column("endpoints", Json, nullable=False),
    Column("roles", Json, nullable=False),
    Column("token_out", Text, nullable=True),
    Index(None, "created_at"),
)

# Tokens we issued, by SHA-256 hex digest; every authenticated request looks one up by its key.
credentials_tokens = Table(
    "credentials_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("peer_id", String, ForeignKey("peers.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "peer_id"),
)

# Module objects (locations with their EVSEs, sessions, CDRs, tariffs, tokens), one row each. Key
# columns hold the CiString ids upper-cased, so lookups are case-insensitive; `data` holds the object's
# canonical JSON as received, returned verbatim (lists are served by joining it, never re-encoding).
# `seq` gives the stable "first stored first" order pagination needs; an update keeps its row and seq.
objects = Table(
    "objects",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("module", String(32), nullable=False),
    Column("country_code", String(8), nullable=False),
    Column("party_id", String(8), nullable=False),
    Column("object_id", String(64), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("last_updated", UtcDateTime, nullable=False),
    Column("holder_country_code", String(8), nullable=True),
    Column("holder_party_id", String(8), nullable=True),
    Column("published", Boolean, nullable=False),
    Column("data", Text, nullable=False),
    Index(None, "module", "country_code", "party_id", "object_id", "object_type", unique=True),
    Index(None, "module", "last_updated"),
    Index(None, "module", "holder_country_code", "holder_party_id"),
    # A Sender list page: one owner's (published) objects in stored order, without sorting the table.
    Index(None, "module", "country_code", "party_id", "published", "seq"),
    # An object by its id whoever owns it: a token by uid and type, as a charge point reads it.
    Index(None, "module", "object_id", "object_type"),
)

# Per peer and module: where the last successful pull started, so the next one asks only for changes.
sync_marks = Table(
    "sync_marks",
    metadata,
    Column("peer_id", String, ForeignKey("peers.id", ondelete="CASCADE"), primary_key=True),
    Column("module", String(32), primary_key=True),
    Column("mark", UtcDateTime, nullable=False),
)

# Changes committed per module (and "peers"), counted by triggers on SQLite so that every process
# can poll them (`evroam.store.changes`); PostgreSQL notifies instead and leaves this table empty.
change_counts = Table(
    "change_counts",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("count", BigInteger, nullable=False),
)

# Commands this node sent (as eMSP) and their fate: the CPO's CommandResponse, then the CommandResult it
# POSTs to the response_url naming this row's id. Kept in the database so a restart loses none of them.
commands = Table(
    "commands",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("peer_id", String, ForeignKey("peers.id", ondelete="CASCADE"), nullable=False),
    Column("command", String(32), nullable=False),
    Column("country_code", String(8), nullable=False),
    Column("party_id", String(8), nullable=False),
    Column("request", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("response", Text, nullable=True),
    Column("responded_at", UtcDateTime, nullable=True),
    Column("deadline", UtcDateTime, nullable=True),
    Column("result", Text, nullable=True),
    Column("result_at", UtcDateTime, nullable=True),
    Column("error", Text, nullable=True),
    Index(None, "peer_id", "created_at"),
)

# Requests peers sent us for a Charge Point (commands, charging-profile requests) and their result, kept
# so that a restart between our response and the result takes them up again.
received_requests = Table(
    "received_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("peer_id", String, ForeignKey("peers.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("sender_country_code", String(8), nullable=False),
    Column("sender_party_id", String(8), nullable=False),
    Column("cpo_country_code", String(8), nullable=False),
    Column("cpo_party_id", String(8), nullable=False),
    Column("request", Text, nullable=False),
    Column("response_url", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("result", Text, nullable=True),
    Column("result_at", UtcDateTime, nullable=True),
    Index(None, "result_at", "received_at"),
)

# Calls owed to peers at URLs they gave us (results, ActiveChargingProfiles), until delivered or given up.
callbacks = Table(
    "callbacks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("peer_id", String, ForeignKey("peers.id", ondelete="CASCADE"), nullable=False),
    Column("method", String(8), nullable=False),
    Column("url", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("routing", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("failed_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Index(None, "next_attempt_at"),
)

# What the charge-point side keeps beyond OCPI objects (reservations, charging profiles set on sessions),
# one JSON document per kind and key.
charge_point_state = Table(
    "charge_point_state",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("data", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)


def _object_key() -> list[Column[str]]:
    """The key columns of a module object, as `objects` has them (upper-cased CiStrings)."""
    return [
        Column("module", String(32), nullable=False),
        Column("country_code", String(8), nullable=False),
        Column("party_id", String(8), nullable=False),
        Column("object_id", String(64), nullable=False),
        Column("object_type", String(32), nullable=False),
    ]


# Changes of our own objects waiting to be routed to the peers entitled to them, written in the transaction
# of the change (the outbox). Keys as in `objects`; `hint` says what changed (`evroam.delivery.deltas`),
# NULL when the whole object is to be sent.
outbox = Table(
    "outbox",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    *_object_key(),
    Column("hint", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# What each peer is still to be sent: one row per peer and object however often it changed meanwhile
# (the latest state is read when it is sent). `version` grows with every change routed to the row, so a
# worker that sent an older state leaves the row for the next send; `claimed_until` hides a row from other
# workers while one sends it.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("peer_id", String, ForeignKey("peers.id", ondelete="CASCADE"), nullable=False),
    *_object_key(),
    Column("hint", Text, nullable=True),
    Column("version", Integer, nullable=False),
    Column("queued_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("claimed_until", UtcDateTime, nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Index(None, "peer_id", "module", "country_code", "party_id", "object_id", "object_type", unique=True),
    Index(None, "next_attempt_at"),
)

# How pushing to each peer goes: failing since when and paused until when, or out of sync (pushes stopped
# until the peer is reachable again).
delivery_peers = Table(
    "delivery_peers",
    metadata,
    Column("peer_id", String, ForeignKey("peers.id", ondelete="CASCADE"), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("failing_since", UtcDateTime, nullable=True),
    Column("retry_at", UtcDateTime, nullable=True),
    Column("out_of_sync_at", UtcDateTime, nullable=True),
    Column("last_success_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
)

# The delivery ledger: every push attempt and how it ended. Kept for `delivery_log_days` (no foreign key:
# the history of a peer outlives its registration).
delivery_log = Table(
    "delivery_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("peer_id", String, nullable=False),
    Column("module", String(32), nullable=False),
    Column("object", Text, nullable=False),
    Column("method", String(8), nullable=False),
    Column("url", Text, nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("http_status", Integer, nullable=True),
    Column("ocpi_status", Integer, nullable=True),
    Column("latency_ms", Float, nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Index(None, "at"),
    Index(None, "peer_id", "id"),
)

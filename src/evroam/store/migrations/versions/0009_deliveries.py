"""Push delivery: the outbox, what each peer is still to be sent, per-peer delivery health, the ledger.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 00:00:07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = ("module", "country_code", "party_id", "object_id", "object_type")


def _serial() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _key_columns() -> list[sa.Column[str]]:
    return [
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("country_code", sa.String(length=8), nullable=False),
        sa.Column("party_id", sa.String(length=8), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("seq", _serial(), autoincrement=True, nullable=False),
        *_key_columns(),
        sa.Column("hint", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox")),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", _serial(), autoincrement=True, nullable=False),
        sa.Column("peer_id", sa.String(), nullable=False),
        *_key_columns(),
        sa.Column("hint", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.id"], name=op.f("fk_deliveries_peer_id_peers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
    )
    op.create_index(
        op.f("ix_deliveries_peer_id_module_country_code_party_id_object_id_object_type"),
        "deliveries",
        ["peer_id", *_KEY],
        unique=True,
    )
    op.create_index(op.f("ix_deliveries_next_attempt_at"), "deliveries", ["next_attempt_at"])
    op.create_table(
        "delivery_peers",
        sa.Column("peer_id", sa.String(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("out_of_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.id"], name=op.f("fk_delivery_peers_peer_id_peers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("peer_id", name=op.f("pk_delivery_peers")),
    )
    op.create_table(
        "delivery_log",
        sa.Column("id", _serial(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("peer_id", sa.String(), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("object", sa.Text(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("ocpi_status", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_log")),
    )
    op.create_index(op.f("ix_delivery_log_at"), "delivery_log", ["at"])
    op.create_index(op.f("ix_delivery_log_peer_id_id"), "delivery_log", ["peer_id", "id"])


def downgrade() -> None:
    op.drop_table("delivery_log")
    op.drop_table("delivery_peers")
    op.drop_table("deliveries")
    op.drop_table("outbox")

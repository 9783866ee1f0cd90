"""Requests received for Charge Points, the calls owed back to peers, and charge-point side state.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 00:00:06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "received_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("peer_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sender_country_code", sa.String(length=8), nullable=False),
        sa.Column("sender_party_id", sa.String(length=8), nullable=False),
        sa.Column("cpo_country_code", sa.String(length=8), nullable=False),
        sa.Column("cpo_party_id", sa.String(length=8), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("response_url", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("result_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.id"], name=op.f("fk_received_requests_peer_id_peers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_received_requests")),
    )
    op.create_index(
        op.f("ix_received_requests_result_at_received_at"), "received_requests", ["result_at", "received_at"]
    )
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("peer_id", sa.String(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("routing", _json, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["peer_id"], ["peers.id"], name=op.f("fk_callbacks_peer_id_peers"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    op.create_index(op.f("ix_callbacks_next_attempt_at"), "callbacks", ["next_attempt_at"])
    op.create_table(
        "charge_point_state",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_charge_point_state")),
    )


def downgrade() -> None:
    op.drop_table("charge_point_state")
    op.drop_index(op.f("ix_callbacks_next_attempt_at"), table_name="callbacks")
    op.drop_table("callbacks")
    op.drop_index(op.f("ix_received_requests_result_at_received_at"), table_name="received_requests")
    op.drop_table("received_requests")

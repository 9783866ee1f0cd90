"""Initial schema: node identity, peers and the credentials tokens we issued.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types in evroam.store.tables, so this revision never changes when they do.
_json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utc_datetime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "node_identity",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.Column("parties", _json, nullable=False),
        sa.Column("updated_at", _utc_datetime(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_node_identity_singleton")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_node_identity")),
    )
    op.create_table(
        "peers",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.Column("updated_at", _utc_datetime(), nullable=False),
        sa.Column("versions_url", sa.Text(), nullable=True),
        sa.Column("version", sa.String(length=16), nullable=True),
        sa.Column("endpoints", _json, nullable=False),
        sa.Column("roles", _json, nullable=False),
        sa.Column("token_out", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peers")),
    )
    op.create_index(op.f("ix_peers_created_at"), "peers", ["created_at"])
    op.create_table(
        "credentials_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("peer_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["peer_id"],
            ["peers.id"],
            name=op.f("fk_credentials_tokens_peer_id_peers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_credentials_tokens")),
    )
    op.create_index(op.f("ix_credentials_tokens_peer_id"), "credentials_tokens", ["peer_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_credentials_tokens_peer_id"), table_name="credentials_tokens")
    op.drop_table("credentials_tokens")
    op.drop_index(op.f("ix_peers_created_at"), table_name="peers")
    op.drop_table("peers")
    op.drop_table("node_identity")

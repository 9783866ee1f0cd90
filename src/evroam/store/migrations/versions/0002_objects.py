"""Module objects: locations, sessions, CDRs, tariffs and tokens, one row each with their JSON.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "objects",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("country_code", sa.String(length=8), nullable=False),
        sa.Column("party_id", sa.String(length=8), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holder_country_code", sa.String(length=8), nullable=True),
        sa.Column("holder_party_id", sa.String(length=8), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_objects")),
    )
    op.create_index(
        op.f("ix_objects_module_country_code_party_id_object_id_object_type"),
        "objects",
        ["module", "country_code", "party_id", "object_id", "object_type"],
        unique=True,
    )
    op.create_index(op.f("ix_objects_module_last_updated"), "objects", ["module", "last_updated"])
    op.create_index(
        op.f("ix_objects_module_holder_country_code_holder_party_id"),
        "objects",
        ["module", "holder_country_code", "holder_party_id"],
    )


def downgrade() -> None:
    op.drop_table("objects")

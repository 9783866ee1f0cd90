"""Index module objects by owner and publication in stored order, for Sender list pages.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 00:00:02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_objects_module_country_code_party_id_published_seq"),
        "objects",
        ["module", "country_code", "party_id", "published", "seq"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_objects_module_country_code_party_id_published_seq"), table_name="objects")

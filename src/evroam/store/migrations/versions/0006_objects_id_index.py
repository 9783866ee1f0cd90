"""Index module objects by id and type alone, to find a token by the uid a charge point reads.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 00:00:04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_objects_module_object_id_object_type"), "objects", ["module", "object_id", "object_type"])


def downgrade() -> None:
    op.drop_index(op.f("ix_objects_module_object_id_object_type"), table_name="objects")

"""Tell every process when the outbox gains rows, so delivery workers route at once whoever wrote them, and
not on every write of other objects (`evroam.store.changes.OUTBOX`).

PostgreSQL: one notification `outbox` per inserting transaction. SQLite: a count in `change_counts`.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 00:00:08
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FUNCTION = """
CREATE OR REPLACE FUNCTION evroam_outbox_added() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('evroam_changes', 'outbox');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER outbox_insert_counted AFTER INSERT ON outbox BEGIN "
            "INSERT INTO change_counts (name, count) VALUES ('outbox', 1) "
            "ON CONFLICT (name) DO UPDATE SET count = count + 1; END"
        )
        return
    op.execute(_FUNCTION)
    op.execute(
        "CREATE TRIGGER outbox_added AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION evroam_outbox_added()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS outbox_insert_counted")
        return
    op.execute("DROP TRIGGER IF EXISTS outbox_added ON outbox")
    op.execute("DROP FUNCTION IF EXISTS evroam_outbox_added()")

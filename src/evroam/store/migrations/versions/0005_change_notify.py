"""Make each committed change of module objects and peers visible to every process, so each can drop what it
derived from them (`evroam.store.changes`).

PostgreSQL: a notification per module (or `peers`), delivered at commit and once per transaction.
SQLite has no notifications: triggers count the changes per module in `change_counts`, which the
watcher polls.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 00:00:03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FUNCTION = """
CREATE OR REPLACE FUNCTION evroam_objects_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('evroam_changes', OLD.module);
    ELSE
        PERFORM pg_notify('evroam_changes', NEW.module);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""

_PEERS_FUNCTION = """
CREATE OR REPLACE FUNCTION evroam_peers_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('evroam_changes', 'peers');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""

_TRIGGERS = (
    ("objects_changed", "objects", "evroam_objects_changed"),
    ("peers_changed", "peers", "evroam_peers_changed"),
    ("credentials_tokens_changed", "credentials_tokens", "evroam_peers_changed"),
)


_PEERS = "'peers'"
_SQLITE_COUNT = (
    "INSERT INTO change_counts (name, count) VALUES ({name}, 1) ON CONFLICT (name) DO UPDATE SET count = count + 1"
)


def upgrade() -> None:
    op.create_table(
        "change_counts",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_change_counts")),
    )
    if op.get_bind().dialect.name == "sqlite":
        _upgrade_sqlite()
        return
    op.execute(_FUNCTION)
    op.execute(_PEERS_FUNCTION)
    for name, table, function in _TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"
        )


def _upgrade_sqlite() -> None:
    for operation, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        op.execute(
            f"CREATE TRIGGER objects_{operation.lower()}_counted AFTER {operation} ON objects "
            f"BEGIN {_SQLITE_COUNT.format(name=row + '.module')}; END"
        )
        for _, table, _ in _TRIGGERS[1:]:
            op.execute(
                f"CREATE TRIGGER {table}_{operation.lower()}_counted AFTER {operation} ON {table} "
                f"BEGIN {_SQLITE_COUNT.format(name=_PEERS)}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for operation in ("insert", "update", "delete"):
            for table in ("objects", "peers", "credentials_tokens"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{operation}_counted")
    else:
        for name, table, _ in _TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS evroam_objects_changed()")
        op.execute("DROP FUNCTION IF EXISTS evroam_peers_changed()")
    op.drop_table("change_counts")

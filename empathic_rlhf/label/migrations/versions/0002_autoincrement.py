"""assignment and label ids are never reused (SQLite AUTOINCREMENT)

Without AUTOINCREMENT SQLite hands the highest freed rowid to the next insert: an expired (deleted) assignment's
id came back for another task, and a label posted from a stale tab was stored on that other task. PostgreSQL
sequences never reuse values, so there is nothing to do there.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in ("assignments", "labels"):  # batch mode copies the table into one created with AUTOINCREMENT
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in ("labels", "assignments"):
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": False}):
            pass

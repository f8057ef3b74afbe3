"""Alembic environment: always run on a connection handed in by ``db.migrate`` (no alembic.ini needed)."""

from alembic import context

from empathic_rlhf.label.models import Base

connection = context.config.attributes["connection"]
# render_as_batch: SQLite cannot ALTER most things; batch mode copies the table instead.
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

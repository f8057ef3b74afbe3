"""annotators.kind: "human" (every existing row) or "synthetic:<oracle>" for a simulated annotator

Exports take a label's ``source`` from its annotator's kind, so simulated annotators' labels are never written as
human ones. Batch mode, so the same migration runs on SQLite (Alembic picks ALTER or a table copy) and on
PostgreSQL (plain ALTER); the server default fills the existing rows.

Revision ID: 0003_annotator_kind
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_annotator_kind"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("annotators") as batch:
        batch.add_column(sa.Column("kind", sa.String(300), nullable=False, server_default="human"))


def downgrade() -> None:
    with op.batch_alter_table("annotators") as batch:
        batch.drop_column("kind")

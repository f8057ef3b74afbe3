"""initial schema: tasks, annotators, assignments, labels

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("gold_best", sa.String(200), nullable=True),
        sa.Column("quota", sa.Integer(), nullable=True),
        sa.Column("remaining", sa.Integer(), nullable=True),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("remaining IS NULL OR remaining >= 0", name="ck_tasks_remaining_nonneg"),
        sa.UniqueConstraint("task_id"),
    )
    op.create_index("ix_tasks_claim", "tasks", ["is_open", "priority", "id"])
    op.create_table(
        "annotators",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id"), nullable=False),
        sa.Column("annotator_id", sa.Integer(), sa.ForeignKey("annotators.id"), nullable=False),
        sa.Column("shown_order", sa.JSON(), nullable=False),
        sa.Column("holds_slot", sa.Boolean(), nullable=False),
        sa.Column("labelled", sa.Boolean(), nullable=False),
        sa.Column("served_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("task_id", "annotator_id", name="uq_assignment_task_annotator"),
    )
    op.create_index("ix_assignments_open", "assignments", ["annotator_id", "labelled"])
    op.create_index("ix_assignments_stale", "assignments", ["labelled", "served_at"])
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("assignment_id", sa.Integer(), sa.ForeignKey("assignments.id"), nullable=False),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id"), nullable=False),
        sa.Column("annotator_id", sa.Integer(), sa.ForeignKey("annotators.id"), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("best", sa.String(200), nullable=True),
        sa.Column("ratings", sa.JSON(), nullable=False),
        sa.Column("edit", sa.JSON(), nullable=True),
        sa.Column("shown_order", sa.JSON(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("outcome IN ('best', 'tie', 'all_bad', 'skip')", name="ck_labels_outcome"),
        sa.UniqueConstraint("assignment_id"),
    )
    op.create_index("ix_labels_task_id", "labels", ["task_id"])
    op.create_index("ix_labels_annotator_id", "labels", ["annotator_id"])


def downgrade() -> None:
    op.drop_table("labels")
    op.drop_table("assignments")
    op.drop_table("annotators")
    op.drop_table("tasks")

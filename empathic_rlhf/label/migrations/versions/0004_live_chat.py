"""live chat: conversations, their turns, and the reply-job queue between the server and `label worker`

Revision ID: 0004_live_chat
Revises: 0003_annotator_kind
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_live_chat"
down_revision = "0003_annotator_kind"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chats",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("annotator_id", sa.Integer(), sa.ForeignKey("annotators.id"), nullable=False),
        sa.Column("consent_version", sa.String(20), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_chats_annotator_id", "chats", ["annotator_id"])
    op.create_table(
        "chat_turns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_id", sa.Integer(), sa.ForeignKey("chats.id"), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("chat_id", "idx", name="uq_chat_turns_chat_idx"),
        sa.CheckConstraint("role IN ('user', 'assistant')", name="ck_chat_turns_role"),
    )
    op.create_table(
        "chat_jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_id", sa.Integer(), sa.ForeignKey("chats.id"), nullable=False),
        sa.Column("turn_idx", sa.Integer(), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("prompt", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(100), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("candidates", sa.JSON(), nullable=True),
        sa.Column("source", sa.String(300), nullable=True),
        sa.Column("sampling", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("chat_id", "turn_idx", name="uq_chat_jobs_chat_turn"),
        sa.CheckConstraint("status IN ('queued', 'running', 'ready', 'done', 'failed')", name="ck_chat_jobs_status"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_chat_jobs_claim", "chat_jobs", ["status", "id"])


def downgrade() -> None:
    op.drop_table("chat_jobs")
    op.drop_table("chat_turns")
    op.drop_index("ix_chats_annotator_id", table_name="chats")
    op.drop_table("chats")

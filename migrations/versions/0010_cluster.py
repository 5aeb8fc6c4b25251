"""worker nodes: workers, leases, shipped job logs

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 19:50:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("queues", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("lost_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("worker", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_last_seen"), ["last_seen"], unique=False)
    op.create_table(
        "lease",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    # The scheduler's lease exists from the start, so taking it is always one guarded UPDATE.
    lease = sa.table(
        "lease", sa.column("name"), sa.column("holder"), sa.column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime())
    )
    op.bulk_insert(lease, [{"name": "scheduler", "holder": "", "expires_at": datetime(2000, 1, 1, tzinfo=UTC)}])
    op.create_table(
        "job_log_chunk",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("job_log_chunk", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_log_chunk_job_id"), ["job_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job_log_chunk", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_log_chunk_job_id"))
    op.drop_table("job_log_chunk")
    op.drop_table("lease")
    with op.batch_alter_table("worker", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_last_seen"))
    op.drop_table("worker")

"""meter months: the read-optimised month-array projection of meter days

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import secrets
from datetime import date

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('portfolio_meter_months',
    sa.Column('mpxn', sa.String(length=13), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('stamp', sa.BigInteger(), nullable=False),
    sa.Column('kwh', sa.LargeBinary(), nullable=False),
    sa.Column('quality', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('mpxn', 'month')
    )
    op.create_index('ix_portfolio_meter_months_stamp', 'portfolio_meter_months', ['mpxn', 'month', 'stamp'])
    if op.get_bind().dialect.name == 'postgresql':
        # The arrays are random-looking floats: compressing them costs time and saves nothing.
        op.execute('ALTER TABLE portfolio_meter_months ALTER COLUMN kwh SET STORAGE EXTERNAL')
    _backfill()


def _backfill() -> None:
    """Project the meter-days already stored, one supply point at a time."""
    import numpy as np

    from services.portfolio.domain.consumption import empty_month, month_of, patch_month

    bind = op.get_bind()
    days = sa.table('portfolio_meter_days', sa.column('mpxn', sa.String), sa.column('settlement_date', sa.Date),
                    sa.column('kwh', sa.LargeBinary), sa.column('quality', sa.String))
    months = sa.table('portfolio_meter_months', sa.column('mpxn', sa.String), sa.column('month', sa.Date),
                      sa.column('stamp', sa.BigInteger), sa.column('kwh', sa.LargeBinary), sa.column('quality', sa.Text))
    mpxns = bind.execute(sa.select(days.c.mpxn).distinct()).scalars().all()
    for mpxn in mpxns:
        by_month: dict[date, list] = {}
        for d, blob, quality in bind.execute(sa.select(days.c.settlement_date, days.c.kwh, days.c.quality)
                                             .where(days.c.mpxn == mpxn)):
            by_month.setdefault(month_of(d), []).append((d, np.frombuffer(blob, dtype='<f8'), quality))
        rows = []
        for month, month_days in by_month.items():
            values, quality = patch_month(*empty_month(month), month, month_days)
            rows.append({'mpxn': mpxn, 'month': month, 'stamp': secrets.randbits(62), 'kwh': values.astype('<f8').tobytes(),
                         'quality': quality})
        if rows:
            bind.execute(months.insert(), rows)


def downgrade() -> None:
    op.drop_index('ix_portfolio_meter_months_stamp', table_name='portfolio_meter_months')
    op.drop_table('portfolio_meter_months')

"""The embargo question and its SQL form answer alike; receipts are read as voters type them."""

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from capital.domain.phase import Phase
from capital.domain.timeline import celebration_day
from capital.models import Cycle
from capital.services.public import is_result_public, normalize_receipt, public_result_clause

NOW = datetime(2031, 3, 16, 12, 0, tzinfo=UTC)


def test_the_sql_condition_agrees_with_the_embargo_question(db):
    moments = [None, NOW - timedelta(seconds=1), NOW, NOW + timedelta(seconds=1)]
    for year, (phase, moment) in enumerate(itertools.product(Phase, moments), start=2100):
        db.session.add(Cycle(year=year, celebration_date=celebration_day(year), phase=phase, announcement_dt=moment))
    db.session.commit()
    selected = set(db.session.scalars(select(Cycle.year).where(public_result_clause(NOW))))
    expected = {c.year for c in db.session.scalars(select(Cycle)) if is_result_public(c, NOW)}
    assert selected == expected
    # Public: announced or without capital, with no announcement time or from the announcement time on.
    assert len(expected) == 6


def test_a_receipt_is_found_however_it_is_typed():
    assert normalize_receipt(" k7qm 3xpa-9rtw hv4n ") == "K7QM-3XPA-9RTW-HV4N"
    assert normalize_receipt("K7QM3XPA9RTWHV4N") == "K7QM-3XPA-9RTW-HV4N"
    assert normalize_receipt("--") == ""

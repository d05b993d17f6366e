"""The record of the designation: one PDF per language, made with WeasyPrint (docs/public.md).

The PDF is HTML (``templates/record/record.html``, which shares the year page's pieces: the
count's SVG and table, the jury report) laid out by WeasyPrint. It states no wall-clock time:
every date in it is the cycle's own (its deadlines, its phase changes, the announcement), so
the same cycle gives the same bytes. The public record exists from the announcement time on
(:func:`capital.services.public.is_result_public`); the board's internal version, with the
voter roll and the recusals by name, exists from the count on and is served to the board and
the secretariat only. Neither holds a receipt code or anything that ties a voter to a ballot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select
from weasyprint import HTML

from capital.config import LOCALES
from capital.domain.nominations import NominationState
from capital.domain.phase import Phase
from capital.domain.shortlist import read_shortlist_count
from capital.domain.timeline import labelled_deadlines
from capital.extensions import db
from capital.models import AuditEntry, Cycle, EligibilityDecision, Nomination, Recusal, Result, User, VotingRound
from capital.public.results import round_view, turnout
from capital.services import public, reports, voting
from capital.services.audit import chain_head_at

_PUT_FORWARD = (NominationState.SUBMITTED, NominationState.ELIGIBLE, NominationState.INELIGIBLE)


def record_name(locale: str) -> str:
    return f"record-{locale}.pdf"


def record_pdf(cycle: Cycle, locale: str, now: datetime, *, internal: bool = False) -> bytes | None:
    """The record of ``cycle`` in ``locale``; None while it does not exist (the public one before
    the announcement time, the internal one before the count)."""
    context = _context(cycle, now, internal)
    if context is None:
        return None
    with current_app.test_request_context(f"/{cycle.year}"), force_locale(locale):
        report = reports.report_view(cycle, locale) if context["capital"] is not None else None
        rounds = [round_view(result, cycle.year) for result in context.pop("results")]
        shortlist = _shortlist(cycle, context.pop("shortlist_result"))
        html = render_template("record/record.html", **context, rounds=rounds, report=report, shortlist=shortlist,
                               deadlines=labelled_deadlines(cycle), internal=internal, number=_number,
                               vote_url=None, phases_by_name={phase.name: phase for phase in Phase})
    return _layout(html, current_app.root_path)


# Laying out is the dear part (about a second a record); the HTML is cheap and says everything the
# PDF will, so each worker lays out each distinct HTML once: a day of announcement readers costs
# seven layouts per worker, and a changed report or designation gives a new HTML.
@lru_cache(maxsize=32)
def _layout(html: str, base_url: str) -> bytes:
    return HTML(string=html, base_url=base_url).write_pdf()


def record_files(cycle: Cycle, now: datetime) -> dict[str, bytes]:
    """The public record in every language, by file name; empty before the announcement time, and
    for a cycle kept for the archive without a counted vote."""
    if not public.is_result_public(cycle, now) or voting.latest_result(cycle) is None:
        return {}
    return {record_name(locale): record_pdf(cycle, locale, now) for locale in LOCALES}


@dataclass(frozen=True)
class ShortlistRecord:
    """The shortlist vote as the record states it: its size K, when it was published, its turnout
    and quorum, the checksum of its ballot file, the command that recounts it, and each
    nomination's approvals (``approvals``: name, approvals, whether it is a finalist; in the
    count's ranking)."""

    size: int
    published: datetime | None
    finalists: list[str]
    approvals: list[tuple[str, int, bool]]
    eligible_voters: int
    ballots_cast: int
    turnout: str
    is_quorum_met: bool
    checksum: str
    recount: str


def _shortlist(cycle: Cycle, result: Result | None) -> ShortlistRecord | None:
    if result is None:
        return None
    # Read as the board's count page reads it: without the quorum, nobody is a finalist.
    count = read_shortlist_count(result.tally, is_quorum_met=result.is_quorum_met)
    return ShortlistRecord(size=cycle.shortlist_size, published=cycle.shortlist_publication_dt,
                           finalists=[line.name for line in count.lines if line.is_finalist],
                           approvals=[(line.name, line.approvals, line.is_finalist) for line in count.lines],
                           eligible_voters=result.eligible_voters, ballots_cast=result.ballots_cast,
                           turnout=turnout(result), is_quorum_met=result.is_quorum_met, checksum=result.checksum,
                           recount=voting.recount_command(result, db.session.get(VotingRound, result.round_id),
                                                          seats=cycle.shortlist_size))


def _number(value):
    from capital.public.results import number

    return number(value)


def _context(cycle: Cycle, now: datetime, internal: bool) -> dict | None:
    result = voting.latest_result(cycle)
    if result is None or (not internal and not public.is_result_public(cycle, now)):
        return None
    voting_round = db.session.get(VotingRound, result.round_id)
    # The shortlist vote has its own part of the record; the rounds are the final vote's.
    results = [counted for counted in voting.counted_results(cycle) if not counted.round.is_shortlist]
    nominations = db.session.scalars(select(Nomination).where(
        Nomination.cycle_id == cycle.id, Nomination.state.in_(_PUT_FORWARD)).order_by(Nomination.title, Nomination.id))
    decisions = {}
    for decision in db.session.scalars(select(EligibilityDecision).join(Nomination).where(
            Nomination.cycle_id == cycle.id).order_by(EligibilityDecision.decided_dt, EligibilityDecision.id)):
        decisions[decision.nomination_id] = decision  # the latest one stands
    phase_changes = db.session.scalars(select(AuditEntry).where(
        AuditEntry.cycle_id == cycle.id, AuditEntry.action == "cycle.phase_changed")
        .order_by(AuditEntry.dt, AuditEntry.id)).all()
    recusals = db.session.execute(select(Recusal, User).join(User, Recusal.user_id == User.id)
                                  .where(Recusal.cycle_id == cycle.id).order_by(User.name, User.id)).all()
    announced = cycle.announcement_dt if cycle.phase.is_final else None
    context = dict(
        cycle=cycle, year=cycle.year, results=results, voting_round=voting_round, result=result,
        shortlist_result=voting.shortlist_result(cycle),
        nominations=list(nominations), decisions=decisions, phase_changes=phase_changes,
        recusal_count=len(recusals), designations=voting.designations(cycle),
        capital=cycle.capital_city if cycle.capital_city_id and announced else None,
        announced=announced, chain_head=chain_head_at(announced) if announced else None,
        recount=voting.recount_command(result, voting_round),
        tie_break=[dict(zip(result.tally["candidate_ids"], result.tally["candidates"], strict=True))[n]
                   for n in voting_round.tie_break_order],
    )
    if internal:
        context["roll"] = db.session.scalars(select(User).where(User.id.in_(voting_round.roll))
                                             .order_by(User.name, User.id)).all()
        context["recusals"] = recusals
    return context

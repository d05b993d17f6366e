"""The jury report: the rapporteur, the drafts in several languages, what the public reads.

Every function takes ``now`` (and the ``actor`` where a person acts), flushes, and leaves the
commit to the caller. Nothing of the report is public before the cycle's result is
(:func:`capital.services.public.is_result_public`, the one embargo question): the year page,
the API, the feed, the exhibition bundle, the announcement mail and the record all ask
:func:`public_report`, which answers None until then.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from capital.domain.messages import Message, N_, RuleViolation
from capital.domain.nominations import NominationState
from capital.domain.report import WRITING_PHASES, ordered_languages, paragraphs, reader_language, report_problems
from capital.domain.roles import Role
from capital.extensions import db
from capital.models import Ballot, Criterion, Cycle, JuryReport, JuryReportText, Nomination, User, VotingRound
from capital.services import public
from capital.services.audit import Actor, record
from capital.services.criteria import cycle_criteria


def _refuse(message: str, code: str, **params) -> RuleViolation:
    return RuleViolation(Message(message, params, code))


def report_of(cycle: Cycle) -> JuryReport | None:
    """The cycle's report row (with its rapporteur), or None when nobody was given it yet."""
    return db.session.scalar(select(JuryReport).where(JuryReport.cycle_id == cycle.id))


def _report_for_update(cycle: Cycle) -> JuryReport:
    report = db.session.scalar(select(JuryReport).where(JuryReport.cycle_id == cycle.id).with_for_update())
    if report is None:
        report = JuryReport(cycle_id=cycle.id)
        db.session.add(report)
        db.session.flush()
    return report


def assign_rapporteur(cycle: Cycle, user: User | None, *, actor: Actor, now: datetime) -> JuryReport:
    """Give ``user`` (a board member) the task of writing ``cycle``'s jury report; None takes it back."""
    if user is not None and not user.has_role(Role.BOARD):
        raise _refuse(N_("The rapporteur must be a member of the board."), "report.rapporteur_not_board")
    if cycle.phase.is_final and cycle.phase not in WRITING_PHASES:
        raise _refuse(N_("This cycle is over: it can no longer change."), "cycle.final")
    report = _report_for_update(cycle)
    report.rapporteur_id = user.id if user is not None else None
    db.session.flush()
    record("report.rapporteur_assigned", report, actor=actor, now=now, cycle_id=cycle.id,
           data={"user_id": report.rapporteur_id})
    return report


def may_write(cycle: Cycle, user: User) -> bool:
    """Whether ``user`` writes ``cycle``'s report: the secretariat, or the cycle's rapporteur."""
    if user.has_role(Role.SECRETARIAT):
        return True
    report = report_of(cycle)
    return report is not None and report.rapporteur_id == user.id and user.has_role(Role.BOARD)


def rapporteur_cycles(user: User) -> list[Cycle]:
    """The cycles whose report ``user`` was given to write, latest first."""
    return list(db.session.scalars(select(Cycle).join(JuryReport, JuryReport.cycle_id == Cycle.id)
                                   .where(JuryReport.rapporteur_id == user.id).order_by(Cycle.year.desc())))


def other_finalists(cycle: Cycle) -> list[Nomination]:
    """The eligible nominations other than the capital's (or the count's winner's), by host city; with a
    shortlist, the other finalists only (the rest were not in the final vote)."""
    from capital.services.voting import finalists, latest_result  # here: voting builds on public, as this does

    capital_id = cycle.capital_city_id
    if capital_id is None:
        result = latest_result(cycle)
        winner = db.session.get(Nomination, result.winner_nomination_id) if result and result.winner_nomination_id \
            else None
        capital_id = winner.host_city_id if winner else None
    nominations = db.session.scalars(select(Nomination).where(
        Nomination.cycle_id == cycle.id, Nomination.state == NominationState.ELIGIBLE)).all()
    drawn = finalists(cycle)
    if drawn is not None:
        nominations = [n for n in nominations if n.id in drawn]
    return sorted((n for n in nominations if n.host_city_id != capital_id),
                  key=lambda n: (n.host_city.name_latin.casefold(), n.id))


def save_report(cycle: Cycle, locale: str, citation: str, finalists: dict[int, str], *, actor: User,
                now: datetime, reasons: dict[str, str] | None = None) -> JuryReportText:
    """Save a new draft of ``cycle``'s report in ``locale``: the next version, the earlier ones kept.

    ``finalists`` maps a nomination id to its note, ``reasons`` a criterion id (as a string) to
    the reasons against that criterion; notes on nominations that are not other finalists,
    reasons for criteria the cycle does not have, and empty texts are dropped. Refused to anyone
    but the secretariat and the cycle's rapporteur, before the count, and for a draft
    :func:`capital.domain.report.report_problems` finds wanting.
    """
    if not may_write(cycle, actor):
        raise _refuse(N_("Only the secretariat and the cycle’s rapporteur write the jury report."),
                      "report.not_rapporteur")
    if cycle.phase not in WRITING_PHASES:
        raise _refuse(N_("The jury report is written once the vote has been counted."), "report.too_early")
    known = {n.id for n in other_finalists(cycle)}
    kept = {str(n): text.strip() for n, text in finalists.items() if n in known and text.strip()}
    criteria = {str(criterion.id) for criterion in cycle_criteria(cycle)}
    kept_reasons = {str(key): text.strip() for key, text in (reasons or {}).items()
                    if str(key) in criteria and text.strip()}
    problems = report_problems(locale, citation, kept, _receipt_codes(cycle), kept_reasons)
    if problems:
        raise RuleViolation(*problems)
    report = _report_for_update(cycle)
    if report.first_locale is None:
        report.first_locale = locale
    version = (db.session.scalar(select(func.max(JuryReportText.version)).where(
        JuryReportText.report_id == report.id, JuryReportText.locale == locale)) or 0) + 1
    text = JuryReportText(report_id=report.id, locale=locale, version=version, citation=citation.strip(),
                          finalists=kept, reasons=kept_reasons,
                          saved_dt=now, saved_by_id=actor.id)
    db.session.add(text)
    db.session.flush()
    record("report.saved", text, actor=actor, now=now, cycle_id=cycle.id,
           data={"locale": locale, "version": version})
    return text


def _receipt_codes(cycle: Cycle) -> list[str]:
    """The receipt codes of the cycle's ballots (read to keep them out of the report, never shown)."""
    return list(db.session.scalars(select(Ballot.receipt_code).join(VotingRound, Ballot.round_id == VotingRound.id)
                                   .where(VotingRound.cycle_id == cycle.id)))


def current_texts(report: JuryReport | None) -> dict[str, JuryReportText]:
    """The latest version of the report in each language it exists in."""
    if report is None:
        return {}
    latest = (select(JuryReportText.locale, func.max(JuryReportText.version).label("version"))
              .where(JuryReportText.report_id == report.id).group_by(JuryReportText.locale).subquery())
    rows = db.session.scalars(select(JuryReportText).join(
        latest, (JuryReportText.locale == latest.c.locale) & (JuryReportText.version == latest.c.version))
        .where(JuryReportText.report_id == report.id))
    return {text.locale: text for text in rows}


def history(cycle: Cycle, limit: int = 50) -> list[JuryReportText]:
    """The report's saved drafts, latest first (at most ``limit``)."""
    report = report_of(cycle)
    if report is None:
        return []
    return list(db.session.scalars(select(JuryReportText).where(JuryReportText.report_id == report.id)
                                   .order_by(JuryReportText.saved_dt.desc(), JuryReportText.id.desc())
                                   .limit(limit)))


@dataclass(frozen=True)
class FinalistNote:
    city: object  # the host City
    paragraphs: list[str]


@dataclass(frozen=True)
class ReasonNote:
    """The reasons against one criterion: the criterion's texts (every language it has, for
    :func:`capital.domain.criteria.localised`) and the reasons' paragraphs."""

    criterion_id: int
    texts: list[dict]
    paragraphs: list[str]


def reason_notes(criteria: list[Criterion], reasons: dict[str, str]) -> list[ReasonNote]:
    """The reasons of one text of the report, in the order of the cycle's ``criteria``: only the
    criteria that have a reason."""
    return [ReasonNote(criterion.id, list(criterion.texts), paragraphs(reasons[str(criterion.id)]))
            for criterion in criteria if reasons.get(str(criterion.id), "").strip()]


@dataclass(frozen=True)
class ReportView:
    """The report as one reader sees it: the text in ``locale`` (their language, or the first
    written: then ``is_fallback``), and every language it exists in."""

    locale: str
    is_fallback: bool
    citation: list[str]
    finalists: list[FinalistNote]
    reasons: list[ReasonNote]
    languages: list[str]
    texts: dict[str, JuryReportText] = field(repr=False, default_factory=dict)


def report_view(cycle: Cycle, reader: str, *, texts: dict[str, JuryReportText] | None = None,
                report: JuryReport | None = None) -> ReportView | None:
    """``cycle``'s report for a reader of ``reader``, embargo or not (the board's own pages);
    None while no language has a text."""
    report = report if report is not None else report_of(cycle)
    texts = texts if texts is not None else current_texts(report)
    locale = reader_language(texts, reader, report.first_locale if report else None)
    if locale is None:
        return None
    text = texts[locale]
    by_id = {str(n.id): n for n in other_finalists(cycle)}
    notes = [FinalistNote(by_id[key].host_city, paragraphs(body))
             for key, body in sorted(text.finalists.items(), key=lambda item: _finalist_order(by_id, item[0]))
             if key in by_id]
    return ReportView(locale=locale, is_fallback=locale != reader, citation=paragraphs(text.citation),
                      finalists=notes, reasons=reason_notes(cycle_criteria(cycle), text.reasons),
                      languages=ordered_languages(texts), texts=texts)


def _finalist_order(by_id: dict, key: str):
    n = by_id.get(key)
    return (n.host_city.name_latin.casefold(), n.id) if n else ("", 0)


def _is_public(cycle: Cycle, now: datetime) -> bool:
    return public.is_result_public(cycle, now) and cycle.capital_city_id is not None


def public_report(cycle: Cycle, now: datetime, reader: str) -> ReportView | None:
    """``cycle``'s report for a reader of ``reader``, once the cycle's result is public; else None."""
    return report_view(cycle, reader) if _is_public(cycle, now) else None


def _public_texts(cycle: Cycle, now: datetime) -> dict[str, JuryReportText]:
    return current_texts(report_of(cycle)) if _is_public(cycle, now) else {}


def public_citations(cycle: Cycle, now: datetime) -> dict[str, str]:
    """The citation in every language it exists in, once the result is public (the mail, the API)."""
    return {locale: text.citation for locale, text in _public_texts(cycle, now).items()}


def public_reasons(cycle: Cycle, now: datetime) -> dict[str, list[dict]]:
    """The reasons against the criteria in every language the report exists in, once the result is
    public: each a :class:`ReasonNote` as plain values, its criterion's texts cut to the names (what
    the announcement mail keeps and shows)."""
    texts = _public_texts(cycle, now)
    criteria = cycle_criteria(cycle) if texts else []
    return {locale: [{**asdict(note), "texts": [{"locale": t["locale"], "name": t["name"]} for t in note.texts]}
                     for note in reason_notes(criteria, text.reasons)] for locale, text in texts.items()}

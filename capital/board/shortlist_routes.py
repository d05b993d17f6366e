"""The board's shortlist ballot: one checkbox per eligible nomination, the assessment beside it,
reviewed in words, cast for a receipt (docs/vote.md). The vote itself is capital.services.voting's,
with the final vote's roll, receipts and secrecy."""

from flask import abort, render_template, request
from flask_login import current_user

from capital.auth.access import role_required
from capital.board import bp
from capital.board.forms import BallotForm
from capital.domain.ballots import BallotFormError, quorum_needed
from capital.domain.messages import RuleViolation
from capital.domain.roles import Role
from capital.domain.phase import Phase
from capital.domain.publication import shortlist_is_public
from capital.domain.shortlist import read_approvals, read_shortlist_count
from capital.extensions import db
from capital.forms import add_reasons
from capital.i18n import translate
from capital.models.types import utcnow
from capital.services import assessment, voting
from capital.services.dispatch import commit

from capital.board.routes import (
    _ballot_throttle, ballot_page, no_store, padded_to, receipt_page, uncompressed, vote_context,
)


def _panel_totals(cycle) -> dict:
    """The assessment's weighted total of each nomination, when the cycle held one and the member may
    see it (docs/assessment.md); empty otherwise."""
    if not cycle.has_assessment or not assessment.may_see(cycle, current_user, utcnow()):
        return {}
    return assessment.panel_totals(cycle)


def _context():
    cycle, voting_round, rows = vote_context(shortlist=True)
    form = BallotForm(replacing=False, nomination_ids=[row.id for row in rows])
    return cycle, voting_round, rows, form


def _posted() -> list[int]:
    return [int(value) if value.isdigit() else -1 for value in request.form.getlist("approve")]


def _render(cycle, voting_round, rows, form, approved=()):
    return ballot_page("board/shortlist.html", cycle, voting_round, rows, form=form, approved=set(approved),
                       totals=_panel_totals(cycle))


def _read(cycle, form, rows):
    if not form.validate_on_submit():
        abort(400)  # only the CSRF token: the boxes have no validator of their own
    try:
        return read_approvals(_posted(), form.nomination_ids, cycle.shortlist_size)
    except BallotFormError as error:
        for problem in error.errors:
            form.rank_errors.setdefault(rows[0].id, []).append(translate(problem.message))
        return None


@bp.route("/shortlist")
@role_required(Role.BOARD)
def shortlist_ballot():
    return _render(*_context())


@bp.route("/shortlist/review", methods=["POST"])
@role_required(Role.BOARD)
@_ballot_throttle
def shortlist_review():
    cycle, voting_round, rows, form = _context()
    approvals = _read(cycle, form, rows)
    if approvals is None:
        return _render(cycle, voting_round, rows, form, _posted())

    def page(approved):
        return render_template(
            "board/shortlist_review.html", cycle=cycle, form=form, approved=approved,
            words=", ".join(row.host for row in rows if row.id in approved),
            # What the cast form leaves out of its body, made up: one length whatever is approved.
            padding="0" * sum(len(f"approve={n}&") for n in form.nomination_ids if n not in approved))

    # As the final vote's review: one size whatever is approved, the longest being every box ticked.
    return uncompressed(no_store(padded_to(page(approvals[0]), page(tuple(form.nomination_ids)))))


@bp.route("/shortlist/cast", methods=["POST"])
@role_required(Role.BOARD)
@_ballot_throttle
def shortlist_cast():
    cycle, voting_round, rows, form = _context()
    approvals = _read(cycle, form, rows)
    if approvals is None or "change" in request.form:
        return _render(cycle, voting_round, rows, form, _posted())
    try:
        receipt = voting.cast_ballot(cycle, current_user, approvals, now=utcnow(), shortlist=True)
    except RuleViolation as error:
        db.session.rollback()
        add_reasons(form, error.reasons, {})
        return _render(cycle, voting_round, rows, form, _posted())
    commit()
    return receipt_page(cycle, voting_round, receipt)


@bp.route("/shortlist/results")
@role_required(Role.BOARD, Role.SECRETARIAT, Role.OBSERVER)
def shortlist_results():
    """The shortlist vote's count, from the count on, for whoever sees the final vote's result
    (recused members included: it is a count, not anyone's assessment); counts only, never who
    approved what. 404 before the count."""
    cycle = voting.shortlist_cycle()
    result = voting.shortlist_result(cycle) if cycle else None
    if result is None:
        abort(404)
    return render_template("board/shortlist_results.html", cycle=cycle, result=result,
                           voting_round=voting.current_round(cycle, shortlist=True),
                           count=read_shortlist_count(result.tally, is_quorum_met=result.is_quorum_met),
                           needed=quorum_needed(result.eligible_voters, cycle.quorum_share),
                           is_public=shortlist_is_public(cycle, utcnow()),
                           may_publish=cycle.phase == Phase.SHORTLIST_COUNTED and bool(voting.finalists(cycle)),
                           no_capital_reason=voting.NO_CAPITAL_REASONS["shortlist_quorum_missed"],
                           is_secretariat=current_user.has_role(Role.SECRETARIAT))

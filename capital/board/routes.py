import re

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import select

from capital import throttle
from capital.auth.access import role_required
from capital.board import bp
from capital.board.forms import (
    BallotForm, ConflictForm, RunnerUpForm, finalist_field_name, rank_field_name, reason_field_name, report_form,
)
from capital.domain.ballots import BallotFormError, ranking_in_words, ranks_of, read_ballot, unranked
from capital.domain.messages import RuleViolation
from capital.domain.localisation import LOCALES
from capital.domain.phase import Phase, vote_phase
from capital.domain.report import WRITING_PHASES
from capital.domain.roles import Role
from capital.extensions import db
from capital.forms import add_reasons
from capital.i18n import _, language_name, translate
from capital.models import Cycle, Recusal, User
from capital.models.types import utcnow
from capital.public.record import record_pdf
from capital.secretariat.forms import METHOD_TITLES
from capital.services import public, reports, voting
from capital.services.dispatch import commit
from capital.services.nominations import current_cycle
from capital.views import perform
from capital.services.criteria import cycle_criteria
from capital.services.cycles import cycle_timeline


@bp.route("/")
@role_required(Role.BOARD)
def dashboard():
    today = utcnow().date()
    cycle = voting.vote_cycle()
    voting_round = voting.current_round(cycle) if cycle else None
    upcoming = _conflict_cycle()
    current = current_cycle()
    return render_template("board/dashboard.html", term=current_user.current_board_term(today),
                           terms=current_user.board_terms, cycle=cycle, voting_round=voting_round,
                           current=current, timeline=cycle_timeline(current) if current else None,
                           has_voted=cycle is not None and voting.has_voted(cycle, current_user),
                           conflict_cycle=upcoming, recusal=_recusal(upcoming),
                           report_cycles=reports.rapporteur_cycles(current_user),
                           shortlist_counted=voting.has_shortlist_count(voting.shortlist_cycle()))


def _recusal(cycle) -> Recusal | None:
    if cycle is None:
        return None
    return db.session.scalar(select(Recusal).where(Recusal.cycle_id == cycle.id, Recusal.user_id == current_user.id))


def vote_context(*, shortlist: bool = False):
    """The cycle whose final vote (or shortlist vote) the board sees, its current round and the ballot's
    rows; 404 without such a vote."""
    cycle = voting.shortlist_cycle() if shortlist else voting.vote_cycle()
    if cycle is None:
        abort(404)
    voting_round = voting.current_round(cycle, shortlist=shortlist)
    return cycle, voting_round, voting.ballot_rows(cycle.id, voting_round.tie_break_order)


def no_store(html: str):
    """A response no cache keeps: a ballot, its review or a receipt."""
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


def ballot_page(template: str, cycle, voting_round, rows, **context):
    """The ballot of ``voting_round`` (of the final vote or the shortlist vote) for the signed-in member:
    whether it is open, whether they have voted and are on its roll, their recusal, the tie-break order."""
    is_open = cycle.phase == vote_phase(shortlist=voting_round.is_shortlist) and voting_round.closed_dt is None and utcnow() < voting_round.closes_dt
    names = voting.row_names(rows)
    return no_store(render_template(
        template, cycle=cycle, voting_round=voting_round, rows=rows,
        has_voted=voting.has_voted(cycle, current_user, shortlist=voting_round.is_shortlist), is_open=is_open,
        on_roll=current_user.id in voting_round.roll, recusal=_recusal(cycle),
        tie_break=[names[n] for n in voting_round.tie_break_order], texts=ballot_texts(len(rows)), **context))


def receipt_page(cycle, voting_round, receipt, *, replaced: bool = False):
    """The receipt, shown this once: it is stored nowhere beside the voter, so it cannot be shown again.
    Its codes have a fixed length: the page has one size, unless compressed."""
    return uncompressed(no_store(render_template("board/receipt.html", cycle=cycle, voting_round=voting_round,
                                                  receipt=receipt, replaced=replaced)))


def _ballot_context():
    """The cycle, its current round, the ballot's rows and the ballot form for the signed-in member
    (with the replacement code when they may replace their ballot); 404 without a vote."""
    cycle, voting_round, rows = vote_context()
    replacing = cycle.allows_ballot_replacement and voting.has_voted(cycle, current_user)
    form = BallotForm(replacing=replacing, nomination_ids=[row.id for row in rows])
    if request.method == "POST":
        form.ranks = {n: value for n, value in _posted_ranks().items() if n in set(form.nomination_ids)}
    return cycle, voting_round, rows, form


def _render_ballot(cycle, voting_round, rows, form):
    return ballot_page("board/ballot.html", cycle, voting_round, rows, form=form)


# A rank field's name: ``rank_`` and a nomination id, in ASCII digits short enough to be an id
# (``str.isdigit`` also takes "²" or "٣", which ``int`` refuses, and ``int`` refuses 5 000 digits).
_RANK_FIELD = re.compile(r"rank_([0-9]{1,18})")


def ballot_texts(count: int) -> dict[str, str]:
    """The ballot's per-line texts, translated once for the page (each line fills them in), and
    the address of a dossier without its id: 200 lines need neither 600 look-ups nor 200 url_for."""
    return {
        "label": _("Rank for %(city)s: “%(title)s”"),
        "nominated_by": _("Nominated by %(city)s."),
        "dossier": _("Read the dossier of %(city)s"),
        "dossier_url": url_for("nominations.show", nomination_id=0).removesuffix("0"),
        "range": _("A number from 1 to %(count)s, or blank.", count=count),
    }


def _posted_ranks() -> dict[int, str]:
    """The posted ranks by nomination id; any other ``rank_…`` name counts as a nomination not on the
    ballot (id -1), which the ballot rules refuse at the field."""
    ranks = {}
    for key, value in request.form.items():
        if key.startswith("rank_"):
            match = _RANK_FIELD.fullmatch(key)
            ranks[int(match.group(1)) if match else -1] = value
    return ranks


def _read(form, rows):
    """The ranking the posted form means, or None with every problem put at its field."""
    valid = form.validate_on_submit()
    if not valid and not any(field.errors for field in form):
        abort(400)  # only the CSRF token, which has no field to point at
    try:
        ranking = read_ballot(_posted_ranks(), form.nomination_ids)
    except BallotFormError as error:
        for problem in error.errors:
            # A problem of the whole ballot (nothing ranked) is shown at its first rank.
            form.rank_errors.setdefault(problem.nomination_id or rows[0].id, []).append(translate(problem.message))
        return None
    return ranking if valid else None


@bp.route("/vote")
@role_required(Role.BOARD)
def ballot():
    return _render_ballot(*_ballot_context())


def _member_key() -> str:
    return str(current_user.id)


# Review and cast count together, per member: a script hammering the ballot is stopped, a voter is not.
_ballot_throttle = throttle.limit("ballot", "CAPITAL_BALLOT_LIMIT", key=_member_key)


@bp.route("/vote/review", methods=["POST"])
@role_required(Role.BOARD)
@_ballot_throttle
def review():
    cycle, voting_round, rows, form = _ballot_context()
    replacing = form.replacement_secret is not None
    ranking = _read(form, rows)
    if ranking is None:
        return _render_ballot(cycle, voting_round, rows, form)
    names = {row.id: row.host for row in rows}
    ids = form.nomination_ids

    def page(words, ranks, unranked_names):
        widest = len(str(len(ids)))
        return render_template(
            "board/review.html", cycle=cycle, voting_round=voting_round, form=form, rows=rows,
            words=words, ranks=ranks, unranked=unranked_names, replacing=replacing,
            # Made up to the widest ranks, so that the cast form's body has one length whatever they are.
            padding="0" * sum(widest - len(str(ranks.get(n, ""))) for n in ids))

    # The longest page any ranking can give: every nomination at a rank of its own (a tie is shorter)
    # and every nomination unranked too.
    longest = page(ranking_in_words(tuple((n,) for n in ids), names), {}, [names[n] for n in ids])
    shown = page(ranking_in_words(ranking, names), ranks_of(ranking), [names[n] for n in unranked(ranking, ids)])
    return uncompressed(no_store(padded_to(shown, longest)))


_PADDING = "<!--{}-->\n"


def padded_to(html: str, longest: str) -> str:
    """``html`` made as long as ``longest`` (the longest page it may be) and one padding comment
    more, by a comment before ``</body>``.

    A review page's size on the wire would otherwise tell how many nominations a member ranked
    and where the ties fall (or which they approved): with a small board, enough to point at
    their published ballot."""
    missing = len(longest.encode()) - len(html.encode())
    if missing < 0:
        return html
    head, tail = html.rsplit("</body>", 1)
    return head + _PADDING.format(" " * missing) + "</body>" + tail


def uncompressed(response):
    # Compression would make the padded size depend on the content again. Flask-Compress leaves an
    # answer that already names its encoding alone.
    response.headers["Content-Encoding"] = "identity"
    return response


@bp.route("/vote/cast", methods=["POST"])
@role_required(Role.BOARD)
@_ballot_throttle
def cast():
    cycle, voting_round, rows, form = _ballot_context()
    replacing = form.replacement_secret is not None
    if "change" in request.form:
        return _render_ballot(cycle, voting_round, rows, form)
    ranking = _read(form, rows)
    if ranking is None:
        return _render_ballot(cycle, voting_round, rows, form)
    try:
        receipt = voting.cast_ballot(cycle, current_user, ranking, now=utcnow(),
                                     replacement_secret=form.replacement_secret.data if replacing else None)
    except RuleViolation as error:
        db.session.rollback()
        # A refused ranking or code is shown at its field; the rest (voting closed, not on the
        # roll, already voted) at the top, since the form may no longer be on the page.
        problems = [reason for reason in error.reasons if reason.code == "ballot.unknown_nomination"]
        for reason in problems:
            form.rank_errors.setdefault(rows[0].id, []).append(translate(reason))
        add_reasons(form, [reason for reason in error.reasons if reason not in problems],
                    {"ballot.bad_replacement_secret": "replacement_secret"})
        return _render_ballot(cycle, voting_round, rows, form)
    commit()
    return receipt_page(cycle, voting_round, receipt, replaced=replacing)


@bp.route("/vote/conflict", methods=["GET", "POST"])
@role_required(Role.BOARD, Role.ASSESSOR)
def conflict():
    """A board member stands aside from the cycle's vote and assessment; an invited expert from its assessment."""
    cycle = _conflict_cycle()
    if cycle is None:
        abort(404)
    form = ConflictForm()
    back = "board.dashboard" if current_user.has_role(Role.BOARD) else "assessment.dashboard"
    if form.validate_on_submit() and perform(
        lambda: voting.declare_conflict(cycle, current_user, form.reason.data, now=utcnow()),
        _("You stand aside from this cycle’s vote. Your reason is recorded.") if current_user.has_role(Role.BOARD)
        else _("You stand aside from this cycle’s assessment. Your reason is recorded."),
    ):
        return redirect(url_for(back))
    return render_template("board/conflict.html", cycle=cycle, form=form, recusal=_recusal(cycle), back=back)


def _conflict_cycle():
    """The cycle in progress whose vote a member may still stand aside from."""
    cycle = current_cycle()
    return cycle if cycle is not None and not cycle.phase.has_reached(Phase.VOTING_CLOSED) else None


@bp.route("/vote/roll")
@role_required(Role.BOARD, Role.SECRETARIAT, Role.OBSERVER)
def roll():
    cycle = voting.vote_cycle()
    if cycle is None:
        abort(404)
    voting_round = voting.current_round(cycle)
    voters = db.session.scalars(select(User).where(User.id.in_(voting_round.roll)).order_by(User.name)).all()
    recusals = db.session.execute(select(Recusal, User).join(User, Recusal.user_id == User.id)
                                  .where(Recusal.cycle_id == cycle.id).order_by(User.name)).all()
    return render_template("board/roll.html", cycle=cycle, voting_round=voting_round, voters=voters,
                           recusals=recusals)


@bp.route("/results")
@role_required(Role.BOARD, Role.SECRETARIAT, Role.OBSERVER)
def results():
    cycle = voting.vote_cycle()
    result = voting.latest_result(cycle) if cycle else None
    if result is None:
        abort(404)
    return render_template("board/results.html", cycle=cycle, result=result,
                           voting_round=voting.current_round(cycle), designations=voting.designations(cycle),
                           runner_up=voting.runner_up(cycle) if cycle.phase == Phase.ANNOUNCED else None, roles=Role,
                           no_capital_reasons=voting.NO_CAPITAL_REASONS, method_titles=METHOD_TITLES,
                           shortlist_counted=voting.has_shortlist_count(cycle))


@bp.route("/results/runner-up", methods=["GET", "POST"])
@role_required(Role.SECRETARIAT)
def runner_up():
    cycle = voting.vote_cycle()
    if cycle is None or cycle.phase != Phase.ANNOUNCED:
        abort(404)
    nominee = voting.runner_up(cycle)
    form = RunnerUpForm()
    if form.validate_on_submit() and perform(
        lambda: voting.designate_runner_up(cycle, form.reason.data, actor=current_user, now=utcnow()),
        _("The runner-up is now the designated capital; the reason is public."),
    ):
        return redirect(url_for("board.results"))
    return render_template("board/runner_up.html", cycle=cycle, form=form, nominee=nominee)


# --- the jury report ------------------------------------------------------------------------------


def _report_cycle(year: int):
    """The cycle of ``year`` if the signed-in person writes its report (404 / 403 otherwise)."""
    cycle = db.session.scalar(select(Cycle).where(Cycle.year == year))
    if cycle is None:
        abort(404)
    if not reports.may_write(cycle, current_user):
        abort(403)
    return cycle


@bp.route("/report/<int:year>", methods=["GET", "POST"])
@role_required(Role.BOARD, Role.SECRETARIAT)
def report(year):
    """Write the jury report of ``year`` in one language (``?lang=``); each save is a new draft."""
    cycle = _report_cycle(year)
    locale = request.args.get("lang", "")
    if locale not in LOCALES:
        locale = str(get_locale())
    finalists = reports.other_finalists(cycle)
    criteria = cycle_criteria(cycle)
    texts = reports.current_texts(reports.report_of(cycle))
    current = texts.get(locale)
    data = None
    if current is not None:
        data = {"citation": current.citation,
                **{finalist_field_name(int(key)): value for key, value in current.finalists.items()},
                **{reason_field_name(int(key)): value for key, value in current.reasons.items()}}
    form = report_form(finalists, criteria, labels_locale=str(get_locale()), data=data)
    if form.validate_on_submit():
        paragraphs = {n.id: form[finalist_field_name(n.id)].data or "" for n in finalists}
        reasons = {str(c.id): form[reason_field_name(c.id)].data or "" for c in criteria}
        fields = {"report.citation_missing": "citation", "report.citation_long": "citation",
                  "report.citation_receipt": "citation", "report.paragraph_long": finalist_field_name("{key}"),
                  "report.paragraph_receipt": finalist_field_name("{key}"),
                  "report.reason_long": reason_field_name("{key}"), "report.reason_receipt": reason_field_name("{key}")}
        if perform(lambda: reports.save_report(cycle, locale, form.citation.data, paragraphs, actor=current_user,
                                               now=utcnow(), reasons=reasons),
                   _("The draft in %(language)s is saved.", language=language_name(locale)),
                   form=form, fields=fields):
            return redirect(url_for("board.report", year=year, lang=locale))
    return render_template("board/report.html", cycle=cycle, form=form, locale=locale, finalists=finalists,
                           criteria=criteria, texts=texts, history=reports.history(cycle), locales=LOCALES,
                           is_writable=cycle.phase in WRITING_PHASES,
                           is_public=public.is_result_public(cycle, utcnow()),
                           finalist_field_name=finalist_field_name, reason_field_name=reason_field_name)


@bp.route(f"/record/<int:year>/record-<any({', '.join(LOCALES)}):lang>.pdf")
@role_required(Role.BOARD, Role.SECRETARIAT)
def internal_record(year, lang):
    """The board's version of the record, with the voter roll and the recusals by name: never public."""
    cycle = db.session.scalar(select(Cycle).where(Cycle.year == year))
    content = record_pdf(cycle, lang, utcnow(), internal=True) if cycle is not None else None
    if content is None:
        abort(404)
    response = make_response(content)
    response.headers.update({"Content-Type": "application/pdf", "Cache-Control": "no-store",
                             "Content-Disposition": f"attachment; filename={year}-record-{lang}-internal.pdf"})
    return response

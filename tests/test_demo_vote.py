"""`capital demo --through announced` then `capital audit-bundle` on SQLite: anyone's recount
of the published files gives the announced capital."""

import json
import shlex
import subprocess
import sys

from sqlalchemy import select

from capital.domain.phase import Phase
from capital.models import Ballot, Cycle, Participation, Result


def test_the_demo_vote_recounts_to_the_announced_capital(sqlite_app, tmp_path):
    runner = sqlite_app.test_cli_runner()
    early = runner.invoke(args=["capital", "demo", "--through", "voting"])
    assert early.exit_code == 0, early.output
    assert "amina.board@capital.example" in early.output and "Voting open" in early.output
    refused = runner.invoke(args=["capital", "audit-bundle", "2099", str(tmp_path / "none")])
    assert refused.exit_code != 0
    done = runner.invoke(args=["capital", "demo", "--through", "announced"])
    assert done.exit_code == 0, done.output
    again = runner.invoke(args=["capital", "demo", "--through", "announced"])
    assert again.exit_code == 0, again.output
    with sqlite_app.app_context():
        from capital.extensions import db

        cycle = db.session.scalar(select(Cycle).where(Cycle.year != 2019))
        assert cycle.phase == Phase.ANNOUNCED and cycle.capital_city is not None
        capital = cycle.capital_city.name
        year = cycle.year
        [shortlist_result, result] = db.session.scalars(select(Result).order_by(Result.id)).all()
        assert shortlist_result.round.is_shortlist and not result.round.is_shortlist
        # Seven approval ballots, then seven final ballots: every demo voter voted once in each.
        assert result.ballots_cast == 7 == shortlist_result.ballots_cast
        assert db.session.query(Ballot).count() == 14 == db.session.query(Participation).count()
        assert result.eligible_voters == 8  # the seven and the demo's own board member, who did not vote
        # The final ballot lists the three finalists only, and the capital is one of them.
        from capital.services import voting

        finalists = voting.finalists(cycle)
        assert len(finalists) == 3 and sorted(result.round.tie_break_order) == sorted(finalists)
        assert result.winner_nomination_id in finalists
        final_ballots = db.session.scalars(select(Ballot).where(Ballot.round_id == result.round_id))
        assert all(n in finalists for ballot in final_ballots for group in ballot.ranking for n in group)
        from capital.services import reports

        texts = reports.current_texts(reports.report_of(cycle))
        assert sorted(texts) == ["en", "fr"] and all(capital in text.citation for text in texts.values())
        from capital.services.criteria import cycle_criteria

        criteria = {str(c.id) for c in cycle_criteria(cycle)}
        assert len(criteria) == 7 and all(set(text.reasons) == criteria for text in texts.values())
        # The report's note on a finalist is on one of the other two finalists, not on a city left out.
        assert all(set(map(int, text.finalists)) <= set(finalists) - {result.winner_nomination_id}
                   for text in texts.values())
    page = sqlite_app.test_client().get(f"/{year}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "a fait du vivre-ensemble une pratique quotidienne" in page and "Ce rapport existe en : anglais, français." in page
    assert "Motifs de la désignation, critère par critère" in page
    assert "Ses centres de santé desservent chaque quartier" in page
    bundle = tmp_path / "bundle"
    written = runner.invoke(args=["capital", "audit-bundle", str(year), str(bundle)])
    assert written.exit_code == 0, written.output
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=bundle, capture_output=True, text=True)
    # The final vote's two files, the shortlist vote's two and the seven records.
    assert check.returncode == 0 and check.stdout.count(": OK") == 11, check.stdout + check.stderr
    assert "record-ar.pdf: OK" in check.stdout and (bundle / "record-zh.pdf").read_bytes().startswith(b"%PDF-")
    tally = json.loads((bundle / "tally.json").read_text())
    assert tally["roll"] == 8 and tally["turnout"] == 7 and tally["quorum"]["met"] and tally["tie_break_seed"]
    ballots = (bundle / "ballots.txt").read_text().splitlines()
    codes = [line.rsplit("# ", 1)[1] for line in ballots if not line.startswith("#")]
    assert codes == sorted(codes) and len(codes) == 7
    assert len(tally["candidates"]) == 3  # the final vote's file: among the finalists
    command = shlex.split(tally["recount"])
    assert command[:3] == ["python", "-m", "capital.voting"]
    recount = subprocess.run([sys.executable, *command[1:]], cwd=bundle, capture_output=True, text=True)
    assert recount.returncode == 0, recount.stderr
    recounted = json.loads(recount.stdout)
    assert recounted["winner"] == capital == tally["winner"]
    assert recounted["ranking"] == tally["ranking"]
    # The shortlist vote recounts the same way, from its own files: the same three finalists.
    shortlist = json.loads((bundle / "shortlist-tally.json").read_text())
    assert shortlist["vote"] == "shortlist" and shortlist["seats"] == 3 and shortlist["roll"] == 8
    assert shortlist["turnout"] == 7 and sorted(shortlist["shortlist"]) == sorted(tally["candidates"])
    approvals = [line for line in (bundle / "shortlist-ballots.txt").read_text().splitlines()
                 if not line.startswith("#")]
    assert len(approvals) == 7 and all(">" not in line for line in approvals)  # each its approved set, one group
    command = shlex.split(shortlist["recount"])
    assert command[-1] == "shortlist-ballots.txt" and command[command.index("--seats") + 1] == "3"
    recount = subprocess.run([sys.executable, *command[1:]], cwd=bundle, capture_output=True, text=True)
    assert recount.returncode == 0, recount.stderr
    assert json.loads(recount.stdout)["shortlist"] == shortlist["shortlist"]


def test_the_demo_is_assessed_by_the_board_and_an_invited_expert(sqlite_app):
    from capital.models import Assessment, AssessmentScore, Criterion
    from capital.models.types import utcnow
    from capital.services import assessment

    runner = sqlite_app.test_cli_runner()
    done = runner.invoke(args=["capital", "demo", "--through", "assessed"])
    assert done.exit_code == 0, done.output
    assert "expert@capital.example" in done.output and "Assessment closed" in done.output
    again = runner.invoke(args=["capital", "demo", "--through", "assessed"])
    assert again.exit_code == 0, again.output
    with sqlite_app.app_context():
        from capital.extensions import db
        from capital.models import User

        cycle = db.session.scalar(select(Cycle).where(Cycle.year != 2019))
        assert cycle.phase == Phase.ASSESSED
        criteria = db.session.query(Criterion).filter_by(cycle_id=cycle.id).count()
        assert criteria == 7
        assert db.session.query(Assessment).filter(Assessment.submitted_dt.is_not(None)).count() == 8
        assert db.session.query(AssessmentScore).count() == 8 * 5 * 7
        expert = User.by_email("expert@capital.example")
        assert assessment.may_see(cycle, expert, utcnow())
        totals = assessment.panel_totals(cycle)
        names = {n.id: n.host_city.name_latin for n in assessment.eligible_nominations(cycle)}
        assert len(totals) == 5 and names[max(totals, key=totals.get)] == "Palermo"


def _snapshot(db):
    """Every row count the demo's steps write, and the cycle's phase."""
    from capital.models import AuditEntry, Mail, Mailing, Nomination, VotingRound

    cycle = db.session.scalar(select(Cycle).where(Cycle.year != 2019))
    counts = {model.__name__: db.session.query(model).count()
              for model in (AuditEntry, Ballot, Mail, Mailing, Nomination, Participation, Result, VotingRound)}
    return cycle.phase, counts


def test_the_demo_draws_a_shortlist_of_three_of_five_and_a_second_run_changes_nothing(sqlite_app):
    from capital.services import voting
    from capital.services.cycles import cycle_timeline
    from capital.domain.timeline import validate_timeline
    from capital.models.types import utcnow

    runner = sqlite_app.test_cli_runner()
    opened = runner.invoke(args=["capital", "demo", "--through", "shortlist-voting"])
    assert opened.exit_code == 0, opened.output
    assert "Shortlist vote open" in opened.output
    with sqlite_app.app_context():
        from capital.extensions import db

        cycle = db.session.scalar(select(Cycle).where(Cycle.year != 2019))
        assert cycle.shortlist_size == 3 and cycle.phase == Phase.SHORTLIST_VOTING
        assert validate_timeline(cycle_timeline(cycle), utcnow(), phase=cycle.phase) == []
        assert db.session.query(Participation).count() == 7 and voting.shortlist_result(cycle) is None
    done = runner.invoke(args=["capital", "demo", "--through", "shortlisted"])
    assert done.exit_code == 0, done.output
    assert "Shortlist published" in done.output
    with sqlite_app.app_context():
        from capital.extensions import db

        before = _snapshot(db)
    again = runner.invoke(args=["capital", "demo", "--through", "shortlisted"])
    assert again.exit_code == 0, again.output
    with sqlite_app.app_context():
        from capital.extensions import db
        from capital.models import Nomination

        assert _snapshot(db) == before and before[0] == Phase.SHORTLISTED
        cycle = db.session.scalar(select(Cycle).where(Cycle.year != 2019))
        result = voting.shortlist_result(cycle)
        assert result.is_quorum_met and (result.ballots_cast, result.eligible_voters) == (7, 8)
        assert result.tally["scores"] == {"Palermo": 7, "Lyon": 6, "Venlo": 3, "Bamako": 2, "تونس": 2}
        finalists = voting.finalists(cycle)
        assert db.session.query(Nomination).filter_by(cycle_id=cycle.id).count() == 5
        assert sorted(db.session.get(Nomination, n).host_city.name_latin for n in finalists) == \
            ["Lyon", "Palermo", "Venlo"]
        assert voting.current_round(cycle) is None  # the final vote is not open yet


def test_the_compressed_demo_timeline_has_both_stages_in_a_valid_order():
    from datetime import UTC, datetime

    from capital.domain.timeline import default_timeline, next_cycle_year, validate_timeline
    from capital.services.demo import _compressed

    for now in (datetime(2026, 11, 24, 9, tzinfo=UTC), datetime(2027, 5, 1, 18, tzinfo=UTC),
                datetime(2027, 5, 17, 8, tzinfo=UTC)):
        timeline = _compressed(default_timeline(next_cycle_year(now.date()), has_assessment=True,
                                                has_shortlist=True), now)
        assert timeline.has_assessment and timeline.has_shortlist
        assert timeline.nominations_open_dt < now < timeline.nominations_close_dt
        for phase in (Phase.NOMINATIONS_OPEN, Phase.SHORTLIST_VOTING, Phase.VOTING_OPEN):
            assert validate_timeline(timeline, now, phase=phase) == [], (now, phase)

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
        [result] = db.session.scalars(select(Result)).all()
        assert result.ballots_cast == 7 == db.session.query(Ballot).count() == db.session.query(Participation).count()
        assert result.eligible_voters == 8  # the seven and the demo's own board member, who did not vote
        from capital.services import reports

        texts = reports.current_texts(reports.report_of(cycle))
        assert sorted(texts) == ["en", "fr"] and all(capital in text.citation for text in texts.values())
        from capital.services.criteria import cycle_criteria

        criteria = {str(c.id) for c in cycle_criteria(cycle)}
        assert len(criteria) == 7 and all(set(text.reasons) == criteria for text in texts.values())
    page = sqlite_app.test_client().get(f"/{year}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "a fait du vivre-ensemble une pratique quotidienne" in page and "Ce rapport existe en : anglais, français." in page
    assert "Motifs de la désignation, critère par critère" in page
    assert "Ses centres de santé desservent chaque quartier" in page
    bundle = tmp_path / "bundle"
    written = runner.invoke(args=["capital", "audit-bundle", str(year), str(bundle)])
    assert written.exit_code == 0, written.output
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=bundle, capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.count(": OK") == 9, check.stdout + check.stderr
    assert "record-ar.pdf: OK" in check.stdout and (bundle / "record-zh.pdf").read_bytes().startswith(b"%PDF-")
    tally = json.loads((bundle / "tally.json").read_text())
    assert tally["roll"] == 8 and tally["turnout"] == 7 and tally["quorum"]["met"] and tally["tie_break_seed"]
    ballots = (bundle / "ballots.txt").read_text().splitlines()
    codes = [line.rsplit("# ", 1)[1] for line in ballots if not line.startswith("#")]
    assert codes == sorted(codes) and len(codes) == 7
    command = shlex.split(tally["recount"])
    assert command[:3] == ["python", "-m", "capital.voting"]
    recount = subprocess.run([sys.executable, *command[1:]], cwd=bundle, capture_output=True, text=True)
    assert recount.returncode == 0, recount.stderr
    recounted = json.loads(recount.stdout)
    assert recounted["winner"] == capital == tally["winner"]
    assert recounted["ranking"] == tally["ranking"]


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

"""``python -m capital.voting``."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from capital.voting.cli import main

ROOT = Path(__file__).resolve().parents[2]
TENNESSEE = """\
42: Memphis > Nashville > Chattanooga > Knoxville
26: Nashville > Chattanooga > Knoxville > Memphis
15: Chattanooga > Knoxville > Nashville > Memphis
17: Knoxville > Chattanooga > Nashville > Memphis
"""
SCHULZE_EXAMPLE = "5: A > C > B\n4: B > C > A\n3: C > A = B\n"


def run(args, stdin=b""):
    out, err = io.StringIO(), io.StringIO()
    status = main(args, stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def tennessee(tmp_path):
    path = tmp_path / "tennessee.txt"
    path.write_text(TENNESSEE, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("method", "winner"),
    [("plurality", "Memphis"), ("irv", "Knoxville"), ("schulze", "Nashville"), ("ranked_pairs", "Nashville")],
)
def test_json_on_the_tennessee_example(tennessee, method, winner):
    status, out, err = run(["--method", method, "--json", tennessee])
    assert (status, err) == (0, "")
    data = json.loads(out)
    assert data["method"] == method and data["winner"] == winner
    assert data["ranking"][0] == [winner]
    assert ("rounds" in data) if method == "irv" else ("matrix" in data or "scores" in data)


def test_module_runs_as_a_program(tennessee):
    done = subprocess.run(
        [sys.executable, "-m", "capital.voting", "--json", tennessee],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["winner"] == "Nashville"


def test_readable_report_from_stdin():
    status, out, _ = run(["--method", "irv", "-"], TENNESSEE.encode())
    assert status == 0
    assert "Winner: Knoxville" in out
    assert "Round 1: 100 votes counted, 0 exhausted" in out
    assert "eliminated: Chattanooga" in out


@pytest.mark.parametrize("method", ["schulze", "ranked_pairs", "borda", "plurality"])
def test_readable_reports(method):
    status, out, _ = run(["--method", method, "-"], SCHULZE_EXAMPLE.encode())
    assert status == 0 and "Ranking:" in out and "Winner:" in out


def test_tie_break_and_candidates_options():
    status, out, _ = run(["--candidates", "A,B,C", "--tie-break", "C,B,A", "--json", "-"], b"A\nB\n")
    data = json.loads(out)
    assert status == 0
    assert data["winner"] == "B" and data["tie_break"] == ["C", "B", "A"]
    status, out, _ = run(["-"], b"A\nB\n")
    assert "undecided, tie between A, B" in out


def test_bad_input_exits_2_with_the_error_on_stderr():
    status, out, err = run(["--candidates", "A,B", "-"], "A > B\nA > Zürich\n".encode())
    assert (status, out) == (2, "")
    assert "line 2, column 5: unknown candidate Zürich" in err
    assert run(["-"], b"\xff\n")[0] == 2
    assert run(["/nonexistent/ballots.txt"])[0] == 2
    assert run(["--tie-break", "A", "-"], b"A > B\n")[0] == 2
    with pytest.raises(SystemExit) as caught:
        run(["--method", "coin", "-"])
    assert caught.value.code == 2

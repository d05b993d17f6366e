"""Approval voting for the shortlist: the count, the K-th place tie-break, the ballot file, the recount."""

import io
import json

from capital.voting import parse_ballots, shortlist, tally
from capital.voting.cli import main

ORDER = ["Palermo", "Lyon", "Venlo", "Tunis"]


def test_each_ballot_approves_every_candidate_it_names_and_nothing_else():
    result = tally("2: Lyon = Venlo\nPalermo\nVenlo = Palermo\n", method="approval", candidates=ORDER,
                   tie_break=ORDER)
    assert result.details["scores"] == {"Palermo": 2, "Lyon": 2, "Venlo": 3, "Tunis": 0}
    assert result.ballots == 4 and result.winner == "Venlo"
    assert result.details["blank"] == 0


def test_a_tie_at_the_kth_place_is_broken_by_the_published_order():
    text = "Lyon = Venlo\nPalermo = Venlo\n"
    assert shortlist(tally(text, method="approval", candidates=ORDER, tie_break=ORDER), 2) == ["Venlo", "Palermo"]
    reverse = list(reversed(ORDER))
    assert shortlist(tally(text, method="approval", candidates=ORDER, tie_break=reverse), 2) == ["Venlo", "Lyon"]
    [used] = tally(text, method="approval", candidates=ORDER, tie_break=ORDER).tie_break_used
    assert used == {"stage": "final ranking, places 2-3", "tied": ["Palermo", "Lyon"],
                    "resolved": ["Palermo", "Lyon"]}


def test_nobody_unapproved_is_shortlisted_and_without_an_order_a_tie_across_k_leaves_the_group_out():
    result = tally("Lyon\n", method="approval", candidates=ORDER, tie_break=ORDER)
    assert shortlist(result, 3) == ["Lyon"]
    untied = tally("Lyon = Venlo\nPalermo\n", method="approval", candidates=ORDER)
    assert shortlist(untied, 2) == []  # three tied at 1 for two places, and no order to break it
    assert shortlist(untied, 3) == ["Palermo", "Lyon", "Venlo"]


def test_the_shortlist_ballot_file_is_one_equal_group_per_line():
    election = parse_ballots("2: Lyon = Venlo # AB12\n")
    assert election.total_weight == 2
    assert tally(election, method="approval").details["scores"] == {"Lyon": 2, "Venlo": 2}


def test_python_m_capital_voting_recounts_an_approval_vote_with_its_shortlist(tmp_path):
    path = tmp_path / "ballots.txt"
    path.write_text("2: Lyon = Venlo\nPalermo = Venlo\n", encoding="utf-8")
    out = io.StringIO()
    assert main(["--method", "approval", "--tie-break", ",".join(ORDER[:3]), "--seats", "2", str(path)],
                stdout=out) == 0
    report = out.getvalue()
    assert "Approval" in report and "Venlo: 3" in report and "Shortlist of 2: Venlo, Lyon" in report
    out = io.StringIO()
    main(["--method", "approval", "--tie-break", ",".join(ORDER[:3]), "--seats", "2", "--json", str(path)],
         stdout=out)
    assert json.loads(out.getvalue())["shortlist"] == ["Venlo", "Lyon"]

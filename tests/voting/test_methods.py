"""Textbook elections with known answers, and hand-made edge cases."""

from fractions import Fraction

import pytest

from capital.voting import METHODS, BallotError, parse_ballots, tally

# Wikipedia's Tennessee capital election: 100 voters, four cities.
TENNESSEE = """\
42: Memphis > Nashville > Chattanooga > Knoxville
26: Nashville > Chattanooga > Knoxville > Memphis
15: Chattanooga > Knoxville > Nashville > Memphis
17: Knoxville > Chattanooga > Nashville > Memphis
"""

# The first worked example of Schulze's paper (2011, §3.1), 45 voters.
SCHULZE_EXAMPLE = """\
5: A > C > B > E > D
5: A > D > E > C > B
8: B > E > D > A > C
3: C > A > B > E > D
7: C > A > E > B > D
2: C > B > A > D > E
7: D > C > E > B > A
8: E > B > A > D > C
"""


@pytest.mark.parametrize(
    ("method", "winner"),
    [("plurality", "Memphis"), ("irv", "Knoxville"), ("schulze", "Nashville"),
     ("ranked_pairs", "Nashville"), ("borda", "Nashville")],
)
def test_tennessee(method, winner):
    assert tally(TENNESSEE, method).winner == winner


def test_tennessee_explanations():
    irv = tally(TENNESSEE, "irv").to_dict()
    assert [r.get("eliminated") for r in irv["rounds"]] == [["Chattanooga"], ["Nashville"], None]
    assert irv["rounds"][0]["transfers"] == {"Knoxville": 15}
    assert irv["rounds"][1]["transfers"] == {"Knoxville": 26}
    assert irv["rounds"][2]["votes"] == {"Memphis": 42, "Knoxville": 58}
    assert irv["ranking"] == [["Knoxville"], ["Memphis"], ["Nashville"], ["Chattanooga"]]

    rp = tally(TENNESSEE, "ranked_pairs").to_dict()
    assert [(p["winner"], p["loser"], p["for"]) for p in rp["pairs"][:2]] == [
        ("Chattanooga", "Knoxville", 83), ("Nashville", "Chattanooga", 68)]
    assert all(p["locked"] for p in rp["pairs"])
    assert rp["ranking"] == [["Nashville"], ["Chattanooga"], ["Knoxville"], ["Memphis"]]

    borda = tally(TENNESSEE, "borda").to_dict()
    assert borda["scores"] == {"Memphis": 126, "Nashville": 194, "Chattanooga": 173, "Knoxville": 107}
    assert tally(TENNESSEE, "plurality").to_dict()["scores"]["Memphis"] == 42


def test_schulze_paper_example():
    result = tally(SCHULZE_EXAMPLE, "schulze", candidates=list("ABCDE"))
    assert result.winner == "E"
    assert result.ranking == [["E"], ["A"], ["C"], ["B"], ["D"]]
    assert result.details["matrix"] == [
        [0, 20, 26, 30, 22], [25, 0, 16, 33, 18], [19, 29, 0, 17, 24],
        [15, 12, 28, 0, 14], [23, 27, 21, 31, 0]]
    assert result.details["strongest_paths"] == [
        [0, 28, 28, 30, 24], [25, 0, 28, 33, 24], [25, 29, 0, 29, 24],
        [25, 28, 28, 0, 24], [25, 28, 28, 31, 0]]


def test_ranked_pairs_on_schulze_example_skips_the_cycle_closers():
    result = tally(SCHULZE_EXAMPLE, "ranked_pairs", candidates=list("ABCDE"))
    assert result.ranking == [["A"], ["C"], ["E"], ["B"], ["D"]]
    skipped = [(p["winner"], p["loser"]) for p in result.details["pairs"] if not p["locked"]]
    assert skipped == [("D", "C"), ("B", "A"), ("E", "A")]


@pytest.mark.parametrize("method", METHODS)
def test_one_candidate(method):
    result = tally("Venlo\n2:\n", method)
    assert (result.winner, result.ranking) == ("Venlo", [["Venlo"]])


@pytest.mark.parametrize("method", METHODS)
def test_no_ballots_is_a_tie_between_all(method):
    result = tally("# nothing yet\n", method, candidates=["A", "B", "C"])
    assert result.winner is None
    assert result.tied == ["A", "B", "C"]
    assert result.ballots == 0
    decided = tally("", method, candidates=["A", "B", "C"], tie_break=["B", "C", "A"])
    assert (decided.winner, decided.ranking) == ("B", [["B"], ["C"], ["A"]])
    assert decided.tie_break_used


@pytest.mark.parametrize("method", METHODS)
def test_all_ballots_empty(method):
    result = tally("3:\n2:\n", method, candidates=["A", "B"])
    assert (result.winner, result.tied, result.ballots) == (None, ["A", "B"], 5)


@pytest.mark.parametrize("method", METHODS)
def test_no_candidates_at_all(method):
    result = tally("", method)
    assert (result.winner, result.ranking, result.tied) == (None, [], [])


def test_irv_exhausted_ballots_leave_the_majority_base():
    text = "4: A\n3: B > C\n2: C\n1: D\n"
    result = tally(text, "irv")
    rounds = result.details["rounds"]
    assert rounds[0]["eliminated"] == ["D"] and rounds[0]["transfers"] == {"exhausted": 1}
    assert rounds[1]["exhausted"] == 1 and rounds[1]["continuing_votes"] == 9
    assert rounds[1]["eliminated"] == ["C"] and rounds[1]["transfers"] == {"exhausted": 2}
    # 4 of the 7 votes still counted: a majority once C's ballots are exhausted.
    assert rounds[2]["elected"] == "A" and rounds[2]["continuing_votes"] == 7
    assert result.ranking == [["A"], ["B"], ["C"], ["D"]]


def test_irv_zero_vote_candidates_go_together():
    result = tally("3: A > B\n2: B\n", "irv", candidates=["A", "B", "C", "D"])
    assert result.winner == "A"
    assert result.details["rounds"][0]["elected"] == "A"
    result = tally("2: A > B\n2: B\n1: E > A\n", "irv", candidates=["A", "B", "C", "D", "E"])
    assert result.details["rounds"][0]["eliminated"] == ["C", "D"]
    assert result.ranking[-1] == ["C", "D"]


def test_irv_tie_for_last_uses_the_tie_break_and_says_so():
    text = "5: A\n3: B > A\n3: C > B\n"
    result = tally(text, "irv", tie_break=["C", "A", "B"])
    assert result.details["rounds"][0]["eliminated"] == ["B"]
    assert result.winner == "A"
    assert result.tie_break_used[0]["tied"] == ["B", "C"]
    other = tally(text, "irv", tie_break=["B", "A", "C"])
    assert other.details["rounds"][0]["eliminated"] == ["C"] and other.winner == "B"


def test_irv_tie_without_order_is_undecided_when_it_matters():
    result = tally("5: A\n3: B > A\n3: C > B\n", "irv")
    assert result.winner is None
    assert result.tied == ["A", "B"]
    assert result.details["rounds"][-1]["tie"] == ["B", "C"]


def test_irv_tie_without_order_that_does_not_matter():
    result = tally("4: A\n2: B > A\n2: C > A\n3: D\n", "irv")
    assert result.winner == "A"
    assert result.details["rounds"][-1]["possible_winners"] == ["A"]


def test_irv_splits_equal_preferences():
    result = tally("A = B\nA = B = C\nC\n", "irv")
    first = result.details["rounds"][0]["votes"]
    assert first == {"A": Fraction(5, 6), "B": Fraction(5, 6), "C": Fraction(4, 3)}
    assert result.to_dict()["rounds"][0]["votes"]["C"] == pytest.approx(4 / 3)


def test_ties_at_every_stage_schulze_and_ranked_pairs():
    # A perfect three-way cycle: every majority equally strong.
    text = "A > B > C\nB > C > A\nC > A > B\n"
    for method in ("schulze", "ranked_pairs"):
        undecided = tally(text, method)
        assert (undecided.winner, undecided.tied) == (None, ["A", "B", "C"]), method
        decided = tally(text, method, tie_break=["B", "A", "C"])
        assert decided.tie_break_used, method
    assert tally(text, "schulze", tie_break=["B", "A", "C"]).ranking == [["B"], ["A"], ["C"]]
    rp = tally(text, "ranked_pairs").details["pairs"]
    assert [p["locked"] for p in rp] == [None, None, None]
    # Equal majorities go in the order of their winners: B > C, then A > B; C > A closes the cycle.
    decided = tally(text, "ranked_pairs", tie_break=["B", "A", "C"])
    assert decided.ranking == [["A"], ["B"], ["C"]]
    assert decided.tie_break_used[0]["resolved"] == ["B > C", "A > B", "C > A"]


def test_ranked_pairs_equal_majorities_that_do_not_matter_need_no_tie_break():
    # A beats everyone; B > C and C > D and D > B are equally strong.
    text = "A > B > C > D\nA > C > D > B\nA > D > B > C\n"
    result = tally(text, "ranked_pairs")
    assert result.winner == "A"
    assert result.ranking == [["A"], ["B", "C", "D"]]
    assert tally(text, "ranked_pairs", tie_break=list("DCBA")).ranking == [["A"], ["C"], ["D"], ["B"]]


def test_borda_averages_equal_and_unranked_positions():
    scores = tally("A > B\nC = D > A\n", "borda", candidates=list("ABCD")).details["scores"]
    # A > B: A 3, B 2, C and D share positions 3-4 (0.5 each); C = D > A: C and D 2.5, A 1, B 0.
    assert scores == {"A": 4, "B": 2, "C": 3, "D": 3}
    assert scores["C"] == Fraction(1, 2) + Fraction(5, 2)
    result = tally("A > B\nC = D > A\nB > C = D\n", "borda", candidates=list("ABCD"))
    # B > C = D: B 3, C and D share positions 2-3 (1.5 each), A 0.
    assert result.details["scores"] == {"A": 4, "B": 5, "C": Fraction(9, 2), "D": Fraction(9, 2)}
    assert result.ranking == [["B"], ["C", "D"], ["A"]]


def test_plurality_splits_equal_first_preferences_and_reports_blanks():
    result = tally("A = B > C\nA\n2:\n", "plurality", candidates=list("ABC"))
    assert result.details["scores"] == {"A": Fraction(3, 2), "B": Fraction(1, 2), "C": 0}
    assert result.details["blank"] == 2
    assert result.winner == "A"


@pytest.mark.parametrize("method", ["borda", "plurality"])
def test_equal_scores_use_the_tie_break(method):
    result = tally("A\nB\n", method, tie_break=["B", "A"])
    assert result.winner == "B"
    assert result.tie_break_used[0]["tied"] == ["A", "B"]
    assert tally("A\nB\n", method).tied == ["A", "B"]


def test_candidates_nobody_ranked_take_part():
    result = tally("A > B\n", "schulze", candidates=["A", "B", "C"])
    assert result.ranking == [["A"], ["B"], ["C"]]


def test_bad_tie_break_and_method():
    with pytest.raises(BallotError, match="missing B"):
        tally("A > B\n", tie_break=["A"])
    with pytest.raises(BallotError, match="unknown Z"):
        tally("A > B\n", tie_break=["A", "B", "Z"])
    with pytest.raises(ValueError, match="unknown method"):
        tally("A > B\n", method="coin")


def test_tally_accepts_elections_rankings_and_text_alike():
    rankings = [[["Memphis"], ["Nashville"]], [["Nashville"]], [["Nashville"]]]
    election = parse_ballots("Memphis > Nashville\n2: Nashville\n")
    assert tally(rankings).to_dict() == tally(election).to_dict() == tally(
        "Memphis > Nashville\n2: Nashville\n").to_dict()

"""The ballot model and the ballot file format (docs/ballot-file.md)."""

import pytest

from capital.voting import (
    Ballot,
    BallotError,
    Election,
    ballots_from_rankings,
    format_ballots,
    parse_ballots,
)


def test_parses_weights_equal_ranks_comments_and_blank_lines():
    election = parse_ballots(
        "# the 2031 vote\n"
        "\n"
        "3: Montréal > Córdoba = Venlo > Düsseldorf   # a comment\n"
        "Venlo>Montréal\n"
        "   \n"
        "Montréal > Venlo = Córdoba > Düsseldorf\n"
    )
    assert election.candidates == ("Montréal", "Córdoba", "Venlo", "Düsseldorf")
    assert election.total_weight == 5
    assert set(election.ballots) == {
        Ballot((("Montréal",), ("Córdoba", "Venlo"), ("Düsseldorf",)), 4),
        Ballot((("Venlo",), ("Montréal",)), 1),
    }


def test_names_with_spaces_accents_and_other_scripts():
    text = "الدار البيضاء > 北京 = São  Paulo\n2: Düsseldorf > الدار البيضاء\n"
    election = parse_ballots(text)
    assert set(election.candidates) == {"الدار البيضاء", "北京", "São Paulo", "Düsseldorf"}
    assert Ballot((("الدار البيضاء",), ("北京", "São Paulo"))) in election.ballots


def test_names_are_compared_after_unicode_normalisation():
    composed, decomposed = "Montr\u00e9al", "Montre\u0301al"
    election = parse_ballots(f"{composed} > Venlo\n{decomposed} > Venlo\n", candidates=[decomposed, "Venlo"])
    assert election.candidates == (composed, "Venlo")
    assert election.ballots == (Ballot(((composed,), ("Venlo",)), 2),)


def test_weight_only_line_is_an_empty_ballot():
    election = parse_ballots("2:\nA > B\n")
    assert Ballot((), 2) in election.ballots
    assert election.total_weight == 3


def test_given_candidates_keep_their_order_and_unranked_ones():
    election = parse_ballots("B > A\n", candidates=["A", "B", "C"])
    assert election.candidates == ("A", "B", "C")


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        ("A > B > A", 9, "A is ranked twice"),
        ("A = A", 5, "A is ranked twice"),
        ("A >  > B", 4, "empty preference"),
        ("A > B >", 8, "empty preference"),
        ("= A", 1, "empty preference"),
        ("x: A > B", 1, "bad weight"),
        ("0: A", 1, "bad weight"),
        ("-1: A", 1, "bad weight"),
        (": A", 1, "bad weight"),
        ("2: A: B", 5, "':' may only follow the weight"),
        ("A > Zürich", 5, "unknown candidate Zürich"),
    ],
)
def test_malformed_lines_name_line_and_column(line, column, message):
    with pytest.raises(BallotError) as caught:
        parse_ballots(f"# header\nA > B\n{line}\n", candidates=["A", "B"])
    (error,) = caught.value.errors
    assert (error.line, error.column) == (3, column)
    assert message in error.message
    assert f"line 3, column {column}" in str(caught.value)


def test_every_bad_line_is_reported_and_nothing_counted():
    text = "A > A\nB > A\nA > A\nC\n"
    with pytest.raises(BallotError) as caught:
        parse_ballots(text, candidates=["A", "B"])
    assert [(e.line, e.column) for e in caught.value.errors] == [(1, 5), (3, 5), (4, 1)]


def test_bad_candidate_list():
    with pytest.raises(BallotError, match="listed twice"):
        parse_ballots("A\n", candidates=["A", "A"])
    with pytest.raises(BallotError):
        parse_ballots("A\n", candidates=["A > B"])


def test_identical_ballots_are_grouped_whatever_their_spelling():
    election = parse_ballots("A > B = C\n2: A>C=B\nA >B= C # same\n")
    assert election.ballots == (Ballot((("A",), ("B", "C")), 4),)


def test_format_round_trips():
    text = "3: Montréal > Córdoba = Venlo > Düsseldorf\nVenlo\n2:\n"
    election = parse_ballots(text)
    assert parse_ballots(format_ballots(election)) == election


def test_ballots_from_python_rankings():
    election = ballots_from_rankings(
        [[["Montréal"], ["Córdoba", "Venlo"], ["Düsseldorf"]], [["Venlo"]], [["Venlo"]], []],
        candidates=["Montréal", "Córdoba", "Venlo", "Düsseldorf"],
    )
    assert election.total_weight == 4
    assert Ballot((("Venlo",),), 2) in election.ballots
    assert Ballot((), 1) in election.ballots


@pytest.mark.parametrize(
    "ballot",
    [Ballot((("A",), ("A",))), Ballot((("A",), ())), Ballot((("Z",),)), Ballot((("A",),), 0), Ballot((("A",),), True)],
)
def test_invalid_python_ballots(ballot):
    with pytest.raises(BallotError):
        Election.from_ballots([ballot], candidates=["A", "B"])

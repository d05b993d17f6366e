"""The fast path of the ballot file parser gives exactly what the careful parser gives."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capital.voting import METHODS, BallotError, parse_ballots, tally
from capital.voting import ballots as ballots_module

# Names that are tricky to spell: accents (also decomposed), other scripts,
# inner spaces, digits (a name "7" looks like a weight), a name that is a
# prefix of another.
CANONICAL = ["Montréal", "北京", "الدار البيضاء", "São Paulo", "7", "Venlo", "Venlo Zuid", "Zürich"]
NAMES = CANONICAL * 4 + ["Montre\u0301al", "São  Paulo", " Venlo", "Venlo\u00a0Zuid"]
SEPARATORS = [" > "] * 8 + [">", "  >  ", " >\t", " = ", "="]


@st.composite
def lines(draw):
    """One line of a ballot file: mostly well formed, sometimes odd, sometimes malformed."""
    kind = draw(st.sampled_from(["ranking"] * 6 + ["blank", "comment", "weight only", "raw"]))
    if kind == "blank":
        return draw(st.sampled_from(["", "   ", "\t"]))
    if kind == "comment":
        return "# " + draw(st.text(alphabet="ab:>=# é", max_size=8))
    if kind == "weight only":
        return draw(st.sampled_from(["2:", "2: ", " 3 :", "0:", "x:"]))
    if kind == "raw":  # anything at all, malformed or not
        return draw(st.text(alphabet="AB7:>=# \r\té", max_size=12))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=0, max_size=5))
    line = names[0] if names else ""
    for name in names[1:]:
        line += draw(st.sampled_from(SEPARATORS)) + name
    weight = draw(st.sampled_from(["", "", "", "", "3: ", "12: ", "3: ", "1:", " 2 : ", "007: ", "0: ", "٣: ",
                                   "x: ", "1234567890: "]))
    tail = draw(st.sampled_from(["", "", "", "", "", "", " ", "\r", "  # note: x", "#", ": 2"]))
    return weight + line + tail


@st.composite
def files(draw):
    text = "\n".join(draw(st.lists(lines(), max_size=12)))
    if draw(st.booleans()):
        text += "\n"
    if draw(st.integers(0, 5)) == 0:
        text = "\ufeff" + text
    if draw(st.booleans()):  # repeat lines: weights add up across identical and different lines
        text = text + "\n" + text
    return text


def both_ways(data, candidates):
    """``(fast, careful)``: each an Election, or the BallotError raised."""
    outcomes = []
    for fast in (True, False):
        try:
            outcomes.append(ballots_module._parse(data, candidates, fast=fast))
        except BallotError as error:
            outcomes.append(error)
    return outcomes


def assert_same(fast, careful):
    if isinstance(careful, BallotError):
        assert isinstance(fast, BallotError)
        assert str(fast) == str(careful)
        assert fast.errors == careful.errors
        return
    assert not isinstance(fast, BallotError)
    assert fast.candidates == careful.candidates
    assert fast.ballots == careful.ballots  # same ballots, weights and order
    assert fast.rankings == careful.rankings
    assert fast.weights == careful.weights
    assert fast == careful


@settings(max_examples=500, deadline=None, database=None)
@given(files(), st.sampled_from([None, CANONICAL, CANONICAL[:3], ["Venlo", "7", "Montréal"]]),
       st.sampled_from(["str", "utf-8"]), st.sampled_from([1, 3, 256]), st.sampled_from([2, 8192]))
def test_fast_and_careful_paths_agree(text, candidates, form, learn, batch):
    # Without a candidate list, names are learnt from the first lines: from more or fewer;
    # the lines are read in batches: small ones, or all at once.
    saved = ballots_module._LEARN_LINES, ballots_module._BATCH
    ballots_module._LEARN_LINES, ballots_module._BATCH = learn, batch
    try:
        data = text if form == "str" else text.encode("utf-8")
        assert_same(*both_ways(data, candidates))
    finally:
        ballots_module._LEARN_LINES, ballots_module._BATCH = saved


@settings(max_examples=150, deadline=None, database=None)
@given(files(), st.binary(max_size=3), st.integers(0, 200))
def test_fast_and_careful_paths_agree_on_bytes_that_are_not_utf8(text, junk, at):
    data = text.encode("utf-8")
    at = min(at, len(data))
    assert_same(*both_ways(data[:at] + junk + data[at:], None))


@settings(max_examples=60, deadline=None, database=None)
@given(files(), st.sampled_from(list(METHODS)))
def test_counts_agree(text, method):
    fast, careful = both_ways(text.encode("utf-8"), None)
    if not isinstance(careful, BallotError):
        assert tally(fast, method).to_dict() == tally(careful, method).to_dict()


def test_plain_lines_take_the_fast_path_and_others_the_careful_one():
    names = ["Montréal", "北京", "Venlo"]
    plain = "3: Montréal > 北京 > Venlo\nVenlo > Montréal\n".encode()
    counts = ballots_module._count_lines(plain)
    assert ballots_module._parse_fast(counts, names, True) is not None
    # Equal ranks, comments, spacing and new names are read carefully, in the same election.
    mixed = plain + "Venlo = 北京\nMontréal>Venlo # odd spacing\n9: Venlo > Montréal\n".encode()
    election = parse_ballots(mixed)
    assert election.candidates == ("Montréal", "北京", "Venlo")
    assert [(b.ranking, b.weight) for b in election.ballots] == [
        ((("Montréal",), ("北京",), ("Venlo",)), 3),
        ((("Venlo",), ("Montréal",)), 10),
        ((("Venlo", "北京"),), 1),
        ((("Montréal",), ("Venlo",)), 1),
    ]
    # A malformed line anywhere: the fast path gives up and the careful parser reports it.
    bad = mixed + b"Venlo > Venlo\n"
    assert ballots_module._parse_fast(ballots_module._count_lines(bad), None, True) is None
    with pytest.raises(BallotError) as caught:
        parse_ballots(bad)
    assert [(e.line, e.column, e.message) for e in caught.value.errors] == [(6, 9, "Venlo is ranked twice")]


def test_comments_spaces_and_crlf_around_plain_lines_stay_on_the_fast_path(monkeypatch):
    careful_lines = []
    parse_line = ballots_module._parse_line
    monkeypatch.setattr(ballots_module, "_parse_line",
                        lambda line, *args: careful_lines.append(line) or parse_line(line, *args))
    names = ["Montréal", "北京", "Venlo"]
    text = "\ufeff# receipts\r\n  3: Montréal > 北京 > Venlo\t# 7F3K\r\nVenlo > Montréal # 2B9Q\r\n\r\n"
    for data in (text, text.encode()):
        careful_lines.clear()
        election = parse_ballots(data, names)
        assert [(b.ranking, b.weight) for b in election.ballots] == [
            ((("Montréal",), ("北京",), ("Venlo",)), 3), ((("Venlo",), ("Montréal",)), 1)]
        assert careful_lines == []  # not one line needed the careful parser
    # Equal ranks: that line alone is read carefully.
    election = parse_ballots(text + "Venlo = 北京\r\n", names)
    assert careful_lines == ["Venlo = 北京\r"]
    assert election.ballots[-1].ranking == (("Venlo", "北京"),)


def test_bytes_that_are_not_utf8_in_a_comment_are_still_an_error():
    data = "Venlo > Montréal # ok\nVenlo > Montréal # \xff\n".encode().replace(b"\xc3\xbf", b"\xff")
    fast, careful = both_ways(data, ["Venlo", "Montréal"])
    assert_same(fast, careful)
    assert [(e.line, e.column) for e in careful.errors] == [(2, 20)]


def test_candidates_first_met_late_keep_the_order_of_first_appearance():
    # More distinct lines than the fast path learns names from, then a new name.
    early = [f"{i}: A > B" for i in range(1, 400)]
    text = "\n".join(early + ["C > A", "B > D > C", "D = E", "A > E"])
    election = parse_ballots(text.encode())
    assert election == ballots_module._parse(text, None, fast=False)
    assert election.candidates == ("A", "B", "C", "D", "E")
    assert election.total_weight == sum(range(1, 400)) + 4


def test_limits_of_the_fast_path_are_read_carefully():
    many = [f"c{i}" for i in range(70)]  # more candidates than a fast key holds
    long_ballot = " > ".join(many) + "\n"
    huge = f"{2**70}: c1 > c2\n3: c2 > c1\n"  # weights beyond int64
    for text in (long_ballot * 3, huge, long_ballot + huge):
        assert_same(*both_ways(text.encode(), None))
    short = "c65 > c1\nc1 > c65 > c64\nc1 > c65\n"
    assert_same(*both_ways(short.encode(), many))
    assert [b.ranking for b in parse_ballots(short, many).ballots] == [
        (("c65",), ("c1",)), (("c1",), ("c65",), ("c64",)), (("c1",), ("c65",))]
    saved = ballots_module._LEARN_LINES
    ballots_module._LEARN_LINES = 1  # the names beyond the first line are met on careful lines
    try:
        text = "".join(" > ".join(many[i : i + 10]) + "\n" for i in range(0, 70, 10)) + "c65 > c1\n"
        assert_same(*both_ways(text.encode(), None))
    finally:
        ballots_module._LEARN_LINES = saved
    election = parse_ballots(huge.encode())
    assert election.total_weight == 2**70 + 3
    # Counted exactly, by every method.
    for method in set(METHODS) - {"approval"}:
        result = tally(election, method)
        assert (result.winner, result.ballots) == ("c1", 2**70 + 3)
    # Approval: both ballots name both candidates, so both are approved by every ballot.
    assert tally(election, "approval").details["scores"] == {"c1": 2**70 + 3, "c2": 2**70 + 3}
    assert tally(election, "schulze").details["matrix"] == [[0, 2**70], [3, 0]]
    assert tally(election, "plurality").details["scores"] == {"c1": 2**70, "c2": 3}
    assert tally(election, "irv").details["rounds"][0]["votes"] == {"c1": 2**70, "c2": 3}
    assert tally(election, "borda").details["scores"] == {"c1": 2**70, "c2": 3}
    assert parse_ballots((long_ballot * 3).encode()).ballots[0].weight == 3

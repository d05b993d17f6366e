"""Ballot files given as raw bytes, CRLF line ends, byte order marks, and big repetitive files."""

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capital.voting import BallotError, parse_ballots, tally
from capital.voting import ballots as ballots_module
from capital.voting.cli import main

TEXT = (
    "# the 2031 vote\n"
    "\n"
    "3: Montréal > Córdoba = Venlo > Düsseldorf   # a comment\n"
    "Venlo>Montréal\n"
    "   \n"
    "الدار البيضاء > 北京 = São  Paulo\n"
    "2:\n"
    "Montréal > Venlo = Córdoba > Düsseldorf"
)


@pytest.mark.parametrize("convert", [bytes, bytearray, memoryview])
def test_bytes_parse_like_the_decoded_text(convert):
    expected = parse_ballots(TEXT)
    assert parse_ballots(convert(TEXT.encode("utf-8"))) == expected
    assert parse_ballots(TEXT.encode(), candidates=list(expected.candidates)) == expected


def test_tally_accepts_bytes():
    data = "5: A > C > B\n4: B > C > A\n3: C > A = B\n".encode()
    for method in ("schulze", "ranked_pairs", "irv", "borda", "plurality"):
        assert tally(data, method).to_dict() == tally(data.decode(), method).to_dict()


def test_other_types_are_refused():
    with pytest.raises(TypeError):
        parse_ballots(["A > B"])


@pytest.mark.parametrize("encode", [str, str.encode])
def test_crlf_line_ends(encode):
    election = parse_ballots(encode("3: A > B\r\nB > A = C\r\n# note\r\n\r\nA > B\r\n"))
    assert election.candidates == ("A", "B", "C")
    assert {b.ranking: b.weight for b in election.ballots} == {
        (("A",), ("B",)): 4,
        (("B",), ("A", "C")): 1,
    }
    with pytest.raises(BallotError) as caught:
        parse_ballots(encode("A > B\r\nA > A\r\n"))
    assert [(e.line, e.column) for e in caught.value.errors] == [(2, 5)]


@pytest.mark.parametrize("bom", [b"\xef\xbb\xbf", "\ufeff"])
def test_a_byte_order_mark_at_the_start_is_ignored(bom):
    def file(text):
        return bom + (text.encode() if isinstance(bom, bytes) else text)

    election = parse_ballots(file("B > A\nA > B\nB > A\n"))
    assert election.candidates == ("B", "A")  # still in order of first appearance
    assert {b.ranking: b.weight for b in election.ballots} == {(("B",), ("A",)): 2, (("A",), ("B",)): 1}
    assert parse_ballots(file("")).ballots == ()
    # Columns do not count the mark; it is ignored on the first line only.
    with pytest.raises(BallotError) as caught:
        parse_ballots(file("A > A\nA > A\n"), candidates=["A"])
    assert [(e.line, e.column) for e in caught.value.errors] == [(1, 5), (2, 5)]
    with pytest.raises(BallotError, match="unknown candidate"):
        parse_ballots(file("A\n") + file("A\n"), candidates=["A"])


def test_bytes_that_are_not_utf8_are_a_line_error():
    data = "A > B\nMontréal > \xff\nA > B\n".encode("utf-8").replace(b"\xc3\xbf", b"\xff")
    with pytest.raises(BallotError) as caught:
        parse_ballots(data)
    (error,) = caught.value.errors
    assert (error.line, error.column) == (2, 12)
    assert "not UTF-8 (byte 0xff)" in error.message
    # Together with the other errors, in line order.
    with pytest.raises(BallotError) as caught:
        parse_ballots(b"A > A\n\xe9\nA > \xc3\n", candidates=["A"])
    assert [(e.line, e.column) for e in caught.value.errors] == [(1, 5), (2, 1), (3, 5)]


@pytest.mark.parametrize("encode", [str, str.encode])
def test_errors_in_a_big_repetitive_file_name_every_line_and_column(encode):
    good = "Montréal > Córdoba > Venlo\n"
    lines = [good] * 300_000
    lines[0] = "3: Venlo > Montréal\n"
    for number in (70_001, 150_000, 299_999):  # the same bad line, three times
        lines[number - 1] = "Venlo > Montréal > Venlo\n"
    lines[200_000 - 1] = "Venlo > Zürich\n"
    text = encode("".join(lines))
    with pytest.raises(BallotError) as caught:
        parse_ballots(text, candidates=["Montréal", "Córdoba", "Venlo"])
    assert [(e.line, e.column, e.message) for e in caught.value.errors] == [
        (70_001, 20, "Venlo is ranked twice"),
        (150_000, 20, "Venlo is ranked twice"),
        (200_000, 9, "unknown candidate Zürich"),
        (299_999, 20, "Venlo is ranked twice"),
    ]
    assert "line 200000, column 9: unknown candidate Zürich" in str(caught.value)
    fixed = text.replace(encode("Zürich"), encode("Córdoba")).replace(
        encode("Venlo > Montréal > Venlo"), encode("Venlo")
    )
    election = parse_ballots(fixed)
    assert election.total_weight == 300_002
    assert {b.ranking: b.weight for b in election.ballots}[(("Montréal",), ("Córdoba",), ("Venlo",))] == 299_995


def test_a_line_longer_than_a_chunk():
    long_line = "A" + " " * (3 * ballots_module._CHUNK) + "> B"
    for text in (long_line, f"B\n{long_line}\nB > A\n{long_line}"):
        for data in (text, text.encode()):
            election = parse_ballots(data)
            assert {b.ranking: b.weight for b in election.ballots}[(("A",), ("B",))] == text.count(long_line)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet="ab\n\r é", max_size=60), st.integers(1, 9))
def test_lines_are_counted_as_split_would_whatever_the_chunk_size(text, chunk):
    saved = ballots_module._CHUNK
    ballots_module._CHUNK = chunk
    try:
        for data in (text, text.encode()):
            newline = "\n" if isinstance(data, str) else b"\n"
            expected = Counter(data.split(newline))
            counted = ballots_module._count_lines(data)
            assert list(counted.items()) == list(expected.items())
    finally:
        ballots_module._CHUNK = saved


def _run(args, stdin=b""):
    import io

    out, err = io.StringIO(), io.StringIO()
    return main(args, stdin=io.BytesIO(stdin), stdout=out, stderr=err), out.getvalue(), err.getvalue()


def test_cli_reads_bom_and_crlf_files(tmp_path):
    path = tmp_path / "ballots.txt"
    path.write_bytes(b"\xef\xbb\xbf2: A > B\r\nB > A\r\n")
    status, out, err = _run(["--candidates", "A,B", "--method", "plurality", str(path)])
    assert (status, err) == (0, "")
    assert "Winner: A" in out and "Ballots: 3" in out


def test_cli_names_the_line_and_column_of_bytes_that_are_not_utf8():
    status, out, err = _run(["-"], b"A > B\nA > B\nB > \xff\n")
    assert (status, out) == (2, "")
    assert "line 3, column 5: not UTF-8 (byte 0xff)" in err

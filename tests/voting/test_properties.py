"""Properties every count must have, checked on random elections (hypothesis)."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from capital.voting import METHODS, Ballot, Election, format_ballots, parse_ballots, tally

settings.register_profile("voting", deadline=None, max_examples=150, database=None)
settings.load_profile("voting")

NAMES = ["Montréal", "Córdoba", "Venlo", "Düsseldorf", "北京", "الرباط"]


@st.composite
def elections(draw, min_candidates=1, max_candidates=5, strict=False, complete=False):
    """Random elections: truncated ballots and equal ranks unless told otherwise."""
    n = draw(st.integers(min_candidates, max_candidates))
    names = NAMES[:n]
    ballots = []
    for _ in range(draw(st.integers(0, 8))):
        order = draw(st.permutations(names))
        length = n if complete else draw(st.integers(0, n))
        ranked = order[:length]
        groups, current = [], []
        for name in ranked:
            if current and (strict or not draw(st.booleans()) or draw(st.booleans())):
                groups.append(current)
                current = []
            current.append(name)
        if current:
            groups.append(current)
        ballots.append(Ballot(tuple(tuple(g) for g in groups), draw(st.integers(1, 4))))
    return Election.from_ballots(ballots, names)


def condorcet_winner(election):
    result = tally(election, "schulze")
    d = result.details["matrix"]
    n = len(election.candidates)
    for i in range(n):
        if all(d[i][j] > d[j][i] for j in range(n) if j != i):
            return election.candidates[i]
    return None


@given(elections(min_candidates=2))
def test_a_condorcet_winner_wins_schulze_and_ranked_pairs(election):
    winner = condorcet_winner(election)
    if winner is not None:
        assert tally(election, "schulze").winner == winner
        assert tally(election, "ranked_pairs").winner == winner
        assert tally(election, "ranked_pairs", tie_break=list(reversed(election.candidates))).winner == winner


@given(elections(min_candidates=2), st.data())
def test_an_absolute_first_preference_majority_wins_irv_and_plurality(election, data):
    firsts = {}
    for ballot in election.ballots:
        if ballot.ranking and len(ballot.ranking[0]) == 1:
            firsts[ballot.ranking[0][0]] = firsts.get(ballot.ranking[0][0], 0) + ballot.weight
    majority = [c for c, v in firsts.items() if 2 * v > election.total_weight]
    if majority:
        order = data.draw(st.permutations(election.candidates))
        for method in ("irv", "plurality"):
            assert tally(election, method).winner == majority[0]
            assert tally(election, method, tie_break=order).winner == majority[0]


def _relabel(value, mapping):
    if isinstance(value, str):
        return mapping.get(value, value)
    if isinstance(value, dict):
        return {_relabel(k, mapping): _relabel(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_relabel(v, mapping) for v in value]
    return value


def _canonical(data):
    """A result with groups as sets, so only who is where matters."""
    data = dict(data)
    data["ranking"] = [sorted(g) for g in data["ranking"]]
    data["tied"] = sorted(data["tied"])
    return {k: v for k, v in data.items() if k in ("winner", "ranking", "tied", "scores")}


@given(elections(), st.sampled_from(sorted(METHODS)), st.data())
def test_relabelling_candidates_relabels_the_result(election, method, data):
    names = list(election.candidates)
    new_names = data.draw(st.permutations(names))
    mapping = dict(zip(names, new_names))
    relabelled = Election.from_ballots(
        [Ballot(tuple(tuple(mapping[c] for c in g) for g in b.ranking), b.weight) for b in election.ballots],
        new_names,
    )
    order = data.draw(st.none() | st.permutations(names))
    original = tally(election, method, tie_break=order).to_dict()
    moved = tally(relabelled, method, tie_break=None if order is None else [mapping[c] for c in order]).to_dict()
    assert _canonical(moved) == _canonical(_relabel(original, mapping))


@given(elections(), st.sampled_from(sorted(METHODS)), st.data())
def test_the_order_of_candidates_and_ballots_never_matters(election, method, data):
    shuffled_names = data.draw(st.permutations(election.candidates))
    shuffled_ballots = data.draw(st.permutations(election.ballots))
    other = Election.from_ballots(shuffled_ballots, shuffled_names)
    assert _canonical(tally(other, method).to_dict()) == _canonical(tally(election, method).to_dict())


@given(elections(), st.sampled_from(sorted(METHODS)), st.randoms(use_true_random=False))
def test_grouping_or_splitting_identical_ballots_changes_nothing(election, method, rng):
    lines = []
    for ballot in election.ballots:
        # Split each weight into random parts, some as repeated lines, some as weights.
        left = ballot.weight
        while left:
            part = rng.randint(1, left)
            one = Ballot(ballot.ranking, part)
            lines += [format_ballots([Ballot(ballot.ranking, 1)])] * part if rng.random() < 0.5 else [format_ballots([one])]
            left -= part
    rng.shuffle(lines)
    split = parse_ballots("".join(lines), list(election.candidates))
    assert split.candidates == election.candidates
    assert set(split.ballots) == set(election.ballots)
    assert tally(split, method).to_dict() == tally(election, method).to_dict()


@given(elections(), st.sampled_from(sorted(METHODS)), st.data())
def test_a_tie_break_order_always_decides(election, method, data):
    order = data.draw(st.permutations(election.candidates))
    result = tally(election, method, tie_break=order)
    assert all(len(group) == 1 for group in result.ranking)
    assert sorted(c for g in result.ranking for c in g) == sorted(election.candidates)
    if election.candidates:
        assert result.winner == result.ranking[0][0]
    plain = tally(election, method)
    if plain.winner is not None:
        assert result.winner == plain.winner


@given(elections())
def test_format_and_parse_round_trip(election):
    assert parse_ballots(format_ballots(election), list(election.candidates)) == election


def test_results_are_deterministic_across_runs():
    rng = random.Random(7)
    text = "".join(
        f"{rng.randint(1, 3)}: " + " > ".join(rng.sample(NAMES, rng.randint(0, 6))) + "\n" for _ in range(200)
    )
    for method in METHODS:
        assert tally(text, method).to_dict() == tally(text, method).to_dict()

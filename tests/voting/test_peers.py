"""Agreement with two independent libraries on thousands of random elections.

pyrankvote (IRV) and votelib (Schulze, ranked pairs) are test-only
dependencies.  Their rules coincide with ours only on part of the ground,
so the elections compared are restricted to it:

- pyrankvote takes strict rankings only (no equal ranks); it breaks ties by
  second choices and then at random, eliminates several candidates at once
  when they cannot catch up, and elects a candidate with half the votes.  We
  compare strict, possibly truncated ballots, on elections whose count by
  our rules meets no tie for last place and no candidate at exactly half
  of the votes.
- votelib reads equal ranks and truncated ballots as we do (unranked
  candidates below ranked ones, no preference among them) and also
  measures defeats by winning votes; its Schulze reports ties as ``Tie``,
  and its ranked pairs orders equal majorities by dictionary order.  We
  compare Schulze whenever our winner is unique, and ranked pairs when no
  two majorities have the same winning votes (so no order among equals is
  involved) and our winner is unique.
"""

import random
from collections import Counter

import pyrankvote
import pytest
from votelib.convert import RankedToCondorcetVotes
from votelib.evaluate.condorcet import RankedPairs, Schulze

from capital.voting import Ballot, Election, tally

NAMES = ["Montréal", "Córdoba", "Venlo", "Düsseldorf", "São Paulo", "北京", "الرباط"]


def random_election(rng: random.Random, equal_ranks: bool) -> Election:
    n = rng.randint(2, 6)
    names = NAMES[:n]
    ballots = []
    for _ in range(rng.randint(1, 40)):
        ranked = rng.sample(names, rng.randint(1, n))
        groups, current = [], []
        for name in ranked:
            if current and not (equal_ranks and rng.random() < 0.25):
                groups.append(current)
                current = []
            current.append(name)
        groups.append(current)
        ballots.append(Ballot(tuple(tuple(g) for g in groups), rng.randint(1, 3)))
    return Election.from_ballots(ballots, names)


def clean_irv_count(result) -> bool:
    for entry in result.details["rounds"]:
        if "tie" in entry:
            return False
        if any(2 * v == entry["continuing_votes"] for v in entry["votes"].values()):
            return False
    return True


def test_irv_agrees_with_pyrankvote():
    rng = random.Random(20310)
    compared = 0
    for _ in range(3000):
        election = random_election(rng, equal_ranks=False)
        ours = tally(election, "irv")
        if not clean_irv_count(ours):
            continue
        people = {name: pyrankvote.Candidate(name) for name in election.candidates}
        ballots = [
            pyrankvote.Ballot([people[g[0]] for g in ballot.ranking])
            for ballot in election.ballots
            for _ in range(ballot.weight)
        ]
        theirs = pyrankvote.instant_runoff_voting(list(people.values()), ballots)
        assert [c.name for c in theirs.get_winners()] == [ours.winner], election
        compared += 1
    assert compared > 1500


def votelib_votes(election: Election) -> Counter:
    votes = Counter()
    for ballot in election.ballots:
        votes[tuple(g[0] if len(g) == 1 else frozenset(g) for g in ballot.ranking)] += ballot.weight
    return votes


def elections_for_votelib(seed: int, count: int):
    rng = random.Random(seed)
    for _ in range(count):
        election = random_election(rng, equal_ranks=True)
        ranked = {name for ballot in election.ballots for name in ballot.names()}
        if len(ranked) == len(election.candidates):  # votelib only knows ranked candidates
            yield election


def test_schulze_agrees_with_votelib():
    compared = 0
    for election in elections_for_votelib(1, 2000):
        ours = tally(election, "schulze")
        if ours.winner is None:
            continue
        pairwise = RankedToCondorcetVotes().convert(votelib_votes(election))
        assert Schulze().evaluate(pairwise, 1) == [ours.winner], election
        compared += 1
    assert compared > 1000


def test_ranked_pairs_agrees_with_votelib():
    compared = 0
    for election in elections_for_votelib(2, 2000):
        ours = tally(election, "ranked_pairs")
        strengths = [p["for"] for p in ours.details["pairs"]]
        if ours.winner is None or len(set(strengths)) != len(strengths):
            continue
        pairwise = RankedToCondorcetVotes().convert(votelib_votes(election))
        assert RankedPairs().evaluate(pairwise, 1) == [ours.winner], election
        compared += 1
    assert compared > 500


@pytest.mark.parametrize("method", ["schulze", "ranked_pairs"])
def test_votelib_sees_the_same_pairwise_matrix(method):
    for election in elections_for_votelib(3, 300):
        ours = tally(election, method).details["matrix"]
        theirs = RankedToCondorcetVotes().convert(votelib_votes(election))
        names = election.candidates
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                if i != j:
                    assert ours[i][j] == theirs.get((a, b), 0)

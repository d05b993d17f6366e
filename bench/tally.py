"""Benchmark the tally engine against pyrankvote (IRV) and votelib (Schulze, ranked pairs).

Run from the repository root::

    .venv/bin/python bench/tally.py [--sizes 1000,10000,100000,1000000] [--peer-limit 120]

For each size it generates the same deterministic ballot file (10 candidates;
four factions with their own preference orders, each voter's order a noisy
copy of its faction's — a few random adjacent swaps — and truncated at a
random length, a third of the voters ranking everyone), then times, each in
a fresh forked process:

- ours: ``parse_ballots(data)`` + ``tally(..., method)`` for every method,
  starting from the contents of the file as read from disk (its UTF-8
  bytes, as ``python -m capital.voting`` reads it; decoding is part of the
  timed parse), and again, in the rows marked ``[str]``, starting from the
  decoded text like the peers;
- the peers, starting from the same file contents already decoded to text
  (the decoding is not timed for them): the straightforward reader one
  writes for them (split lines on " > ") + pyrankvote's
  ``instant_runoff_voting``, or + votelib's ``RankedToCondorcetVotes`` and its
  ``Schulze`` / ``RankedPairs`` evaluators (votelib takes ballots already
  counted by distinct ranking, so its reader groups them with a Counter).

A second table times the count alone, each library starting from its own
input already built (our grouped ``Election``; pyrankvote's ``Ballot``
list; votelib's ``Counter`` of rankings).

It prints seconds, the peak memory the run allocated (tracemalloc's peak,
measured in a second run since tracing slows allocation), and each row's time relative to the
fastest peer for that method (for Borda and plurality, which the peers do
not implement, the fastest peer of any method at that size).  A peer whose
run would exceed ``--peer-limit`` seconds (extrapolated from the previous
size) is timed on a prefix of the ballots and its figures are scaled
linearly and marked "extrapolated".  The target: at 1 000 000 ballots every
method at least 10x faster than the fastest peer, with time growing no
faster than the number of ballots.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from capital.voting import METHODS, parse_ballots, tally  # noqa: E402

CANDIDATES = [
    "Montréal", "Córdoba", "Venlo", "Düsseldorf", "São Paulo",
    "الدار البيضاء", "北京", "Kraków", "Århus", "Nantes",
]
FACTIONS = [  # (share of voters, reference order as candidate indices)
    (0.38, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    (0.27, [3, 2, 0, 9, 8, 7, 1, 4, 6, 5]),
    (0.21, [5, 6, 4, 1, 0, 8, 9, 2, 3, 7]),
    (0.14, [8, 9, 7, 3, 5, 2, 6, 0, 1, 4]),
]


def generate(n_ballots: int, seed: int = 2031) -> str:
    """The deterministic ballot file of ``n_ballots`` lines (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = len(CANDIDATES)
    faction = rng.choice(len(FACTIONS), size=n_ballots, p=[share for share, _ in FACTIONS])
    orders = np.array([order for _, order in FACTIONS])[faction]
    swaps = rng.geometric(0.45, size=n_ballots) - 1
    rows = np.arange(n_ballots)
    for step in range(int(swaps.max(initial=0))):
        active = rows[swaps > step]
        at = rng.integers(0, n - 1, size=active.size)
        left = orders[active, at].copy()
        orders[active, at] = orders[active, at + 1]
        orders[active, at + 1] = left
    # A third rank everyone; the others stop after 1 to 9 preferences, short ballots likelier.
    lengths = np.where(rng.random(n_ballots) < 1 / 3, n, 1 + rng.binomial(n - 2, 0.3, size=n_ballots))
    masked = np.where(np.arange(n)[None, :] < lengths[:, None], orders, -1)
    distinct, inverse = np.unique(masked, axis=0, return_inverse=True)
    lines = np.array(
        [" > ".join(CANDIDATES[c] for c in row if c >= 0) for row in distinct], dtype=object
    )
    return "\n".join(lines[inverse.ravel()]) + "\n"


def ours(data: bytes | str, method: str) -> str | None:
    return tally(parse_ballots(data, CANDIDATES), method, tie_break=CANDIDATES).winner


def ours_tally(election, method: str) -> str | None:
    return tally(election, method, tie_break=CANDIDATES).winner


def pyrankvote_read(text: str) -> tuple[list, list]:
    import pyrankvote

    people = {name: pyrankvote.Candidate(name) for name in CANDIDATES}
    ballots = [
        pyrankvote.Ballot([people[name] for name in line.split(" > ")])
        for line in text.splitlines()
    ]
    return list(people.values()), ballots


def pyrankvote_tally(people: list, ballots: list) -> str | None:
    import pyrankvote

    return pyrankvote.instant_runoff_voting(people, ballots).get_winners()[0].name


def pyrankvote_irv(text: str) -> str | None:
    return pyrankvote_tally(*pyrankvote_read(text))


def votelib_read(text: str) -> Counter:
    return Counter(tuple(line.split(" > ")) for line in text.splitlines())


def votelib_tally(votes: Counter, method: str) -> str | None:
    from votelib.convert import RankedToCondorcetVotes
    from votelib.evaluate.condorcet import RankedPairs, Schulze

    pairwise = RankedToCondorcetVotes().convert(votes)
    evaluator = Schulze() if method == "schulze" else RankedPairs()
    winner = evaluator.evaluate(pairwise, 1)[0]
    return winner if isinstance(winner, str) else None


def votelib_condorcet(text: str, method: str) -> str | None:
    return votelib_tally(votelib_read(text), method)


def _in_child(func, *args, traced: bool) -> dict:
    """Run ``func(*args)`` in a forked child and return what it reports."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        try:
            if traced:
                tracemalloc.start()
            start = time.perf_counter()
            winner = func(*args)
            seconds = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1] if traced else 0
            report = {"seconds": seconds, "mib": peak / 2**20, "winner": winner}
        except BaseException as error:  # report any failure to the parent
            report = {"error": repr(error)}
        os.write(write, json.dumps(report).encode())
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    report = json.loads(b"".join(chunks))
    if "error" in report:
        raise RuntimeError(f"{func.__name__} failed: {report['error']}")
    return report


def measure(func, *args) -> dict:
    """Seconds (an untraced run) and peak traced memory (a tracemalloc run) of ``func(*args)``.

    Each run is a fresh forked child, so runs do not share caches or heaps;
    tracemalloc slows allocation down, hence the separate timed run.
    """
    timed = _in_child(func, *args, traced=False)
    traced = _in_child(func, *args, traced=True)
    return {"seconds": timed["seconds"], "mib": traced["mib"], "winner": timed["winner"]}


PEERS = {
    "irv": ("pyrankvote 2.0.6", pyrankvote_irv, ()),
    "schulze": ("votelib 0.4.0", votelib_condorcet, ("schulze",)),
    "ranked_pairs": ("votelib 0.4.0", votelib_condorcet, ("ranked_pairs",)),
}


def _print_rows(size: int, distinct: int, rows: list[tuple], peer_times: dict[str, float]) -> None:
    fastest_any = min(peer_times.values())
    for method, implementation, seconds, mib, winner, note in rows:
        reference = peer_times.get(method, fastest_any)
        ratio = reference / seconds if seconds else float("inf")
        label = f"{ratio:,.1f}x faster" if implementation.startswith("capital.voting") else "(peer)"
        print(f"{size:>9,} {distinct:>8,}  {method:<13}{implementation:<20}{seconds:>9.3f}{mib:>10.1f}"
              f"{label:>17}  {winner}{note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000",
                        help="comma-separated numbers of ballots (default: all four)")
    parser.add_argument("--peer-limit", type=float, default=120.0,
                        help="seconds beyond which a peer is timed on a prefix and extrapolated")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"Python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} CPUs; "
          f"{len(CANDIDATES)} candidates; every run in a fresh forked process")
    header = f"{'ballots':>9} {'distinct':>8}  {'method':<13}{'implementation':<20}{'seconds':>9}" \
             f"{'peak MiB':>10}{'vs fastest peer':>17}  winner"
    previous: dict[str, tuple[int, float]] = {}
    ours_by_size: dict[int, dict[str, float]] = {}
    tally_only: list[tuple[int, int, list[tuple], dict[str, float]]] = []
    print("\nA. From the contents of the ballot file (ours: its bytes, or [str] its text; peers: its text): read/parse + count")
    print(header)
    print("-" * len(header))
    for size in sizes:
        text = generate(size)
        data = text.encode("utf-8")  # the file's contents: what ours reads
        distinct = len(set(text.splitlines()))
        rows, rows_only = [], []
        peer_times: dict[str, float] = {}
        peer_only: dict[str, float] = {}
        for method, (peer, func, extra) in PEERS.items():
            note = ""
            run_text, scale = text, 1.0
            if method in previous:
                last_size, last_seconds = previous[method]
                predicted = last_seconds * size / last_size
                if predicted > args.peer_limit:
                    prefix = min(size, max(last_size, int(size * args.peer_limit / predicted)))
                    run_text = "".join(text.splitlines(keepends=True)[:prefix])
                    scale = size / prefix
                    note = f"  (extrapolated x{scale:g} from the first {prefix:,} ballots)"
            report = measure(func, run_text, *extra)
            seconds, mib = report["seconds"] * scale, report["mib"] * scale
            previous[method] = (size, seconds)
            peer_times[method] = seconds
            rows.append((method, peer, seconds, mib, report["winner"] if scale == 1 else "-", note))
            # The same peer, its input already read (not timed).
            if method == "irv":
                people, ballots = pyrankvote_read(run_text)
                only = measure(pyrankvote_tally, people, ballots)
                del people, ballots
            else:
                only = measure(votelib_tally, votelib_read(run_text), method)
            peer_only[method] = only["seconds"] * scale
            rows_only.append((method, peer, only["seconds"] * scale, only["mib"] * scale,
                              only["winner"] if scale == 1 else "-", note))
        ours_by_size[size] = {}
        election = parse_ballots(data, CANDIDATES)
        from_text = []
        for method in METHODS:
            report = measure(ours, data, method)
            ours_by_size[size][method] = report["seconds"]
            rows.append((method, "capital.voting", report["seconds"], report["mib"], report["winner"], ""))
            report = measure(ours, text, method)
            from_text.append((method, "capital.voting[str]", report["seconds"], report["mib"],
                              report["winner"], ""))
            only = measure(ours_tally, election, method)
            rows_only.append((method, "capital.voting", only["seconds"], only["mib"], only["winner"], ""))
        _print_rows(size, distinct, rows + from_text, peer_times)
        print()
        tally_only.append((size, distinct, rows_only, peer_only))
        del text, data, election
    print("B. Count only, from ballots already read into each library's own input (not timed)")
    print(header)
    print("-" * len(header))
    for size, distinct, rows_only, peer_only in tally_only:
        _print_rows(size, distinct, rows_only, peer_only)
        print()
    print("Borda and plurality have no peer: they are compared with the fastest peer of any method.")
    if len(sizes) > 1:
        first, last = sizes[-2], sizes[-1]
        growth = ", ".join(
            f"{m} x{ours_by_size[last][m] / ours_by_size[first][m]:.1f}" for m in METHODS
        )
        print(f"Our parse + count time from {first:,} to {last:,} ballots (x{last / first:g}): {growth}")


if __name__ == "__main__":
    main()

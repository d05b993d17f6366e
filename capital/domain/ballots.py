"""The board's ballot, its voter roll and the draws that make the vote checkable (docs/vote.md).

Reading the ballot form
    The form has one rank field per eligible nomination. A rank is a whole number from 1 to
    the number of nominations; several nominations may share a rank (a tie); a blank field
    means "no preference" (the nomination is ranked equal last). Ranks may be written the way
    people write a ranking with ties: dense (``1, 2, 2, 3``) or as in sports tables
    (``1, 2, 2, 4``) — both mean the same order and are compacted to it. A rank may therefore
    skip numbers only as far as the nominations tied above it explain: rank ``r`` needs at
    least ``r - 1`` nominations ranked better. ``1, 3`` (rank 2 missing, no tie at 1) or a
    ranking that starts at 2 cannot be meant and is refused at the field, as is a rank that
    is not a number from 1 to n, a field for a nomination that is not on the ballot, and a
    ballot that ranks nothing. A rank may be written in any decimal digits (``٣`` is 3).

Draws and codes
    The tie-break order is derived from a published seed and the nominations' ids alone
    (sort by SHA-256 of ``seed:id``), so anyone can redo it and nobody can pick it after
    seeing ballots. Receipt codes and replacement secrets are random, in an alphabet without
    look-alike characters (no 0/O, 1/I/L).

The voter roll
    The board members whose term covers the day voting opens, minus the recused. When the
    cycle requires it, a member who represents a city that nominated, or that hosts a
    nomination, is recused automatically.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from capital.domain.messages import Message, N_, RuleViolation

#: Characters a person cannot confuse when reading a code aloud or copying it by hand.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RECEIPT_GROUPS = 4  # 16 characters: about 79 random bits
SECRET_GROUPS = 6  # 24 characters: about 119 random bits
# Characters the ballot file keeps for itself, and the comma that separates names on the recount command line.
_RESERVED = str.maketrans({c: " " for c in ">=#:,\n\r"})

Ranking = tuple[tuple[int, ...], ...]  # nomination ids, best first; a tuple of several is a tie


@dataclass(frozen=True)
class FieldError:
    """One problem with the ballot form; ``nomination_id`` names the field (None: the whole form)."""

    nomination_id: int | None
    message: Message


class BallotFormError(RuleViolation):
    """The ballot form cannot be read; ``errors`` says which field is wrong and why."""

    def __init__(self, errors: Sequence[FieldError]):
        super().__init__(*(error.message for error in errors))
        self.errors: tuple[FieldError, ...] = tuple(errors)


def read_ballot(ranks: Mapping[int, str | int | None], nomination_ids: Sequence[int]) -> Ranking:
    """The ranking a filled-in ballot form means, or :class:`BallotFormError` with every problem.

    ``ranks`` maps a nomination id to what its field holds (blank or None: no preference).
    """
    count = len(nomination_ids)
    allowed = set(nomination_ids)
    errors: list[FieldError] = []
    given: dict[int, int] = {}
    for nomination_id, raw in ranks.items():
        if nomination_id not in allowed:
            errors.append(FieldError(None, Message(
                N_("The ballot names a nomination that is not on it."), {}, "ballot.unknown_nomination")))
            continue
        text = "" if raw is None else str(raw).strip()
        if not text:
            continue
        # Any decimal digits: an Arabic keyboard types ٣ for 3.
        if not text.isdecimal() or not 1 <= int(text) <= count:
            errors.append(FieldError(nomination_id, Message(
                N_("Give a rank from 1 to %(count)s, or leave the field blank for no preference."),
                {"count": count}, "ballot.rank_out_of_range")))
            continue
        given[nomination_id] = int(text)
    if not errors:
        errors.extend(_skipped(given))
    if not errors and not given:
        errors.append(FieldError(None, Message(
            N_("Rank at least one nomination."), {}, "ballot.empty")))
    if errors:
        raise BallotFormError(errors)
    levels = sorted(set(given.values()))
    return tuple(tuple(sorted(n for n, r in given.items() if r == level)) for level in levels)


def _skipped(given: Mapping[int, int]) -> list[FieldError]:
    errors = []
    for nomination_id, rank in sorted(given.items(), key=lambda item: (item[1], item[0])):
        better = sum(1 for other in given.values() if other < rank)
        if rank - 1 > better:
            missing = next(r for r in range(1, rank) if r not in given.values())
            errors.append(FieldError(nomination_id, Message(
                N_("No nomination has rank %(missing)s: number your choices 1, 2, 3… "
                   "(equal choices share a number)."), {"missing": missing}, "ballot.rank_skipped")))
    return errors


def ranks_of(ranking: Ranking) -> dict[int, int]:
    """The rank (1, 2, …) of each ranked nomination: how the form shows a stored ranking."""
    return {n: position for position, group in enumerate(ranking, start=1) for n in group}


def ranking_in_words(ranking: Ranking, names: Mapping[int, str]) -> str:
    """The ranking as people read it: ``1. Palermo 2. Venlo = Lyon``."""
    return " ".join(f"{position}. " + " = ".join(names[n] for n in group)
                    for position, group in enumerate(ranking, start=1))


def unranked(ranking: Ranking, nomination_ids: Iterable[int]) -> list[int]:
    """The nominations the ballot leaves without preference (equal last)."""
    ranked = {n for group in ranking for n in group}
    return [n for n in nomination_ids if n not in ranked]


def candidate_names(nominations: Sequence[tuple[int, str, str]]) -> dict[int, str]:
    """A unique name per nomination for the ballot file, from ``(id, host, nominating city)``.

    The host city's name, with the nominating city added when two nominations share a host
    and the id when even that is shared; characters the file format reserves become spaces.
    """
    def clean(text: str) -> str:
        return " ".join(text.translate(_RESERVED).split())

    hosts = [clean(host) for _, host, _ in nominations]
    names = {}
    for (nomination_id, _, nominator), host in zip(nominations, hosts, strict=True):
        names[nomination_id] = host if hosts.count(host) == 1 else f"{host} ({clean(nominator)})"
    values = list(names.values())
    return {n: name if values.count(name) == 1 else f"{name} {n}" for n, name in names.items()}


def new_seed() -> str:
    """A fresh, unpredictable tie-break seed (published with the order it gives)."""
    return secrets.token_hex(16)


def tie_break_order(seed: str, nomination_ids: Iterable[int]) -> list[int]:
    """The tie-break order the ``seed`` gives: most favoured first; anyone can recompute it."""
    return sorted(nomination_ids, key=lambda n: (hashlib.sha256(f"{seed}:{n}".encode()).hexdigest(), n))


def _code(groups: int) -> str:
    return "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(groups))


def new_receipt_code() -> str:
    """A random receipt code such as ``K7QM-3XPA-9RTW-HV4N``."""
    return _code(RECEIPT_GROUPS)


def new_replacement_secret() -> str:
    """A random secret that lets its holder, and nobody else, replace their ballot."""
    return _code(SECRET_GROUPS)


def normalize_code(code: str) -> str:
    """A code as typed (any case, spaces or dashes) in its canonical form."""
    text = "".join(c for c in code.upper() if c.isalnum())
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def secret_hash(secret: str) -> str:
    """What is stored of a replacement secret: its SHA-256 (the secret is long and random)."""
    return hashlib.sha256(normalize_code(secret).encode()).hexdigest()


@dataclass(frozen=True)
class BoardMember:
    """What the roll needs of a board member: their terms and the city they represent."""

    user_id: int
    city_id: int | None
    terms: tuple[tuple[date, date], ...]

    def serves_on(self, day: date) -> bool:
        return any(start <= day <= end for start, end in self.terms)


@dataclass(frozen=True)
class Roll:
    """The frozen voter roll and the recusals the rule adds to it."""

    voters: tuple[int, ...]
    automatic_recusals: tuple[int, ...]


def voter_roll(members: Iterable[BoardMember], day: date, *, conflicted_cities: Iterable[int],
               recused: Iterable[int], requires_recusal: bool) -> Roll:
    """The roll for voting that opens on ``day``: members serving that day, minus recusals.

    With ``requires_recusal`` a member representing one of ``conflicted_cities`` (a nominating
    or host city) is recused automatically unless already recused.
    """
    conflicted = set(conflicted_cities)
    already = set(recused)
    voters, automatic = [], []
    for member in sorted(members, key=lambda m: m.user_id):
        if not member.serves_on(day) or member.user_id in already:
            continue
        if requires_recusal and member.city_id is not None and member.city_id in conflicted:
            automatic.append(member.user_id)
            continue
        voters.append(member.user_id)
    return Roll(tuple(voters), tuple(automatic))


def quorum_needed(roll_size: int, share: Decimal) -> int:
    """How many ballots the quorum needs: ``share`` of the roll, rounded up, at least one."""
    return max(1, math.ceil(Decimal(roll_size) * Decimal(share)))


def is_quorum_met(ballots: int, roll_size: int, share: Decimal) -> bool:
    """Whether ``ballots`` cast by a roll of ``roll_size`` reach the quorum (an empty roll never does)."""
    return roll_size > 0 and ballots >= quorum_needed(roll_size, share)

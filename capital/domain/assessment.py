"""The panel's assessment of the dossiers: who assesses, who sees what and when, and the aggregates
(docs/assessment.md).

The panel is the board members serving on the day and the invited experts (the assessor role),
less anyone recused in the cycle. Each panel member scores every eligible dossier on every
criterion with a note, saves drafts, and submits once. Nobody sees anyone else's assessment
until they have submitted *and* the deadline has passed; the secretariat (which does not
assess) sees them from the deadline on. A recused person sees none, ever, in that cycle. The public never sees a score or a note.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from capital.domain.messages import Decision, Message, N_
from capital.domain.phase import Phase

NOTE_LENGTH = 5000
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PanelFacts:
    """What the rules need to know about one person in one cycle."""

    is_serving_board_member: bool = False
    is_assessor: bool = False  # holds the assessor role (an invited expert)
    is_secretariat: bool = False
    is_recused: bool = False
    has_submitted: bool = False

    @property
    def is_on_panel(self) -> bool:
        """Whether this person assesses the cycle's dossiers."""
        return (self.is_serving_board_member or self.is_assessor) and not self.is_recused


RECUSED = Message(N_("You stood aside from this cycle: you neither assess nor see the assessments."), {},
                  "assessment.recused")
NOT_ON_PANEL = Message(N_("Only the board members and the invited experts assess the dossiers."), {},
                       "assessment.not_on_panel")
NOT_OPEN = Message(N_("Assessment is not open."), {}, "assessment.not_open")
CLOSED = Message(N_("The assessment deadline has passed: assessments can no longer change."), {},
                 "assessment.closed")
SUBMITTED = Message(N_("You have submitted your assessment: it can no longer change."), {},
                    "assessment.submitted")


def may_assess(facts: PanelFacts, *, is_assessment_phase: bool, now: datetime, closes: datetime | None) -> Decision:
    """Whether this person may write (save or submit) their assessment now.

    Only in the assessment phase and before its deadline (the window is half-open: at the very
    second of the deadline it is closed), only on the panel, and only until they submit.
    """
    if facts.is_recused:
        return Decision.refuse(RECUSED)
    if not facts.is_on_panel:
        return Decision.refuse(NOT_ON_PANEL)
    if closes is not None and now >= closes:
        return Decision.refuse(CLOSED)
    if not is_assessment_phase or closes is None:
        return Decision.refuse(NOT_OPEN)
    if facts.has_submitted:
        return Decision.refuse(SUBMITTED)
    return Decision.allow()


def assessment_is_over(phase: Phase, *, now: datetime, closes: datetime | None) -> bool:
    """Whether a cycle's assessment is over: its deadline has passed (at its very second), or the
    cycle has gone on past it (closed by hand ahead of the date); a cancelled cycle's, at the date."""
    if closes is not None and now >= closes:
        return True
    return phase != Phase.CANCELLED and phase.has_reached(Phase.ASSESSED)


def may_see_assessments(facts: PanelFacts, *, is_over: bool) -> bool:
    """Whether this person may see the panel's scores and notes (everyone's) now.

    Never when recused; never before the assessment is over (:func:`assessment_is_over`); then
    the panel's members once they have submitted, and the secretariat (which does not assess).
    """
    if facts.is_recused or not is_over:
        return False
    if facts.is_on_panel:
        return facts.has_submitted
    return facts.is_secretariat


# --- what an assessor types ------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """A criterion as the aggregates need it."""

    criterion_id: int
    scale_min: int
    scale_max: int
    weight: Decimal


@dataclass(frozen=True)
class Entry:
    """One score and note as typed: ``score`` is the text of the field ("" when left empty)."""

    nomination_id: int
    criterion_id: int
    score: str
    note: str


@dataclass(frozen=True)
class Problem:
    """Why one entry can't be taken as it is."""

    nomination_id: int
    criterion_id: int
    message: Message


def read_score(text: str, scale: Scale) -> int | None:
    """The whole number typed, or None when empty; ValueError when it is not on the scale."""
    text = text.strip()
    if not text:
        return None
    if not (text.isdigit() and text.isascii()):
        raise ValueError(text)
    score = int(text)
    if not scale.scale_min <= score <= scale.scale_max:
        raise ValueError(text)
    return score


def entry_problems(entries: Iterable[Entry], scales: Mapping[int, Scale], nomination_ids: Iterable[int], *,
                   complete: bool) -> list[Problem]:
    """What is wrong with ``entries``: a score off its scale or a note too long; with ``complete``
    (submitting), also every dossier and criterion left without a score or without a note."""
    problems = []
    given = {(entry.nomination_id, entry.criterion_id): entry for entry in entries}
    for nomination_id in nomination_ids:
        for criterion_id, scale in scales.items():
            entry = given.get((nomination_id, criterion_id))
            score, note = (entry.score, entry.note) if entry else ("", "")
            try:
                value = read_score(score, scale)
            except ValueError:
                problems.append(Problem(nomination_id, criterion_id, Message(
                    N_("Give a whole number from %(low)s to %(high)s."),
                    {"low": scale.scale_min, "high": scale.scale_max}, "assessment.score_range")))
                continue
            if len(note) > NOTE_LENGTH:
                problems.append(Problem(nomination_id, criterion_id, Message(
                    N_("Use at most %(limit)s characters."), {"limit": NOTE_LENGTH}, "assessment.note_length")))
            elif complete and value is None:
                problems.append(Problem(nomination_id, criterion_id, Message(
                    N_("Give a score before you submit."), {}, "assessment.score_missing")))
            elif complete and not note.strip():
                problems.append(Problem(nomination_id, criterion_id, Message(
                    N_("Write a note before you submit: say why you gave this score."), {},
                    "assessment.note_missing")))
    return problems


# --- aggregates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """The panel's scores of one dossier on one criterion."""

    count: int
    mean: Decimal | None
    median: Decimal | None
    low: int | None
    high: int | None

    @property
    def spread(self) -> int | None:
        """How far apart the panel is: the highest score less the lowest."""
        return None if self.low is None else self.high - self.low


def summarise(scores: Iterable[int]) -> Summary:
    """Count, mean, median, lowest and highest of ``scores`` (None for each when there are none)."""
    values = sorted(scores)
    if not values:
        return Summary(0, None, None, None, None)
    mean = Decimal(sum(values)) / Decimal(len(values))
    return Summary(len(values), mean, Decimal(statistics.median(values)), values[0], values[-1])


def weighted_total(means: Mapping[int, Decimal], scales: Iterable[Scale]) -> Decimal | None:
    """The weighted total out of 100: each criterion's mean placed on its scale (0 at the lowest
    score, 1 at the highest), weighted, over the criteria that have a mean; None when none has.

    Scales of different lengths weigh alike this way: a 4 of 5 counts as an 8 of 10.
    """
    weighted = weights = Decimal(0)
    for scale in scales:
        mean = means.get(scale.criterion_id)
        if mean is None:
            continue
        weighted += scale.weight * (Decimal(mean) - scale.scale_min) / (scale.scale_max - scale.scale_min)
        weights += scale.weight
    return None if weights == 0 else weighted / weights * HUNDRED

"""A cycle's timeline: its deadlines, their order, and the windows they open (docs/cycle.md).

All datetimes are aware and normalised to UTC; the web layer shows them in the reader's
time zone. A window is half-open, ``opens <= now < closes``: at the very second of a
deadline the window is already closed, so "one second late" and "exactly on time at the
deadline" are both refused, and the automatic step a deadline triggers is due from that
same second (see :mod:`capital.domain.phases`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from capital.domain.messages import Message, N_
from capital.domain.phase import ALL_DEADLINE_FIELDS, Phase, deadlines_still_ahead, present_deadlines

CELEBRATION_MONTH, CELEBRATION_DAY = 5, 16  # 16 May, resolution A/RES/72/130

# Deadlines fall at 12:00 UTC: working hours in Europe and Africa, morning in the Americas,
# evening in Asia, and the same calendar day nearly everywhere a member city is.
DEADLINE_TIME = time(12, 0, tzinfo=UTC)
SECOND_ROUND_DURATION = timedelta(weeks=1)

# The five deadlines every cycle has, in chronological order.
DEADLINE_FIELDS = (
    "nominations_open_dt",
    "nominations_close_dt",
    "voting_open_dt",
    "voting_close_dt",
    "announcement_dt",
)

# The optional stages and their deadlines (all of a stage's, or none): assessment against the
# criteria, and the shortlist (its vote, its publication, the finalists' updated dossiers).
STAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "assessment": ("assessment_open_dt", "assessment_close_dt"),
    "shortlist": ("shortlist_open_dt", "shortlist_close_dt", "shortlist_publication_dt", "finalist_update_close_dt"),
}

DEADLINE_LABELS = {
    "nominations_open_dt": N_("Nominations open"),
    "nominations_close_dt": N_("Nomination deadline"),
    "assessment_open_dt": N_("Assessment opens"),
    "assessment_close_dt": N_("Assessment deadline"),
    "shortlist_open_dt": N_("Shortlist vote opens"),
    "shortlist_close_dt": N_("Shortlist vote deadline"),
    "shortlist_publication_dt": N_("Shortlist publication"),
    "finalist_update_close_dt": N_("Deadline for the finalists' updated dossiers"),
    "voting_open_dt": N_("Voting opens"),
    "voting_close_dt": N_("Voting deadline"),
    "announcement_dt": N_("Announcement"),
}

# Keyed by (deadline, the deadline before it in the timeline): which one comes before depends
# on the stages the cycle has.
_ORDER_MESSAGES = {
    ("nominations_close_dt", "nominations_open_dt"): N_("The nomination deadline must be after nominations open."),
    ("voting_open_dt", "nominations_close_dt"): N_("Voting must open after the nomination deadline."),
    ("voting_close_dt", "voting_open_dt"): N_("The voting deadline must be after voting opens."),
    ("announcement_dt", "voting_close_dt"): N_("The announcement must be after the voting deadline."),
    ("assessment_open_dt", "nominations_close_dt"): N_("Assessment must open after the nomination deadline."),
    ("assessment_close_dt", "assessment_open_dt"): N_("The assessment deadline must be after assessment opens."),
    ("shortlist_open_dt", "nominations_close_dt"): N_("The shortlist vote must open after the nomination deadline."),
    ("shortlist_open_dt", "assessment_close_dt"): N_("The shortlist vote must open after the assessment deadline."),
    ("shortlist_close_dt", "shortlist_open_dt"): N_("The shortlist vote deadline must be after the vote opens."),
    ("shortlist_publication_dt", "shortlist_close_dt"):
        N_("The shortlist must be published after the shortlist vote deadline."),
    ("finalist_update_close_dt", "shortlist_publication_dt"):
        N_("The finalists' deadline must be after the shortlist is published."),
    ("voting_open_dt", "assessment_close_dt"): N_("Voting must open after the assessment deadline."),
    ("voting_open_dt", "finalist_update_close_dt"): N_("Voting must open after the finalists' deadline."),
}

_FUTURE_MESSAGES = {
    "nominations_open_dt": N_("The opening of nominations must be in the future."),
    "nominations_close_dt": N_("The nomination deadline must be in the future."),
    "assessment_open_dt": N_("The opening of assessment must be in the future."),
    "assessment_close_dt": N_("The assessment deadline must be in the future."),
    "shortlist_open_dt": N_("The opening of the shortlist vote must be in the future."),
    "shortlist_close_dt": N_("The shortlist vote deadline must be in the future."),
    "shortlist_publication_dt": N_("The publication of the shortlist must be in the future."),
    "finalist_update_close_dt": N_("The finalists' deadline must be in the future."),
    "voting_open_dt": N_("The opening of voting must be in the future."),
    "voting_close_dt": N_("The voting deadline must be in the future."),
    "announcement_dt": N_("The announcement must be in the future."),
}


def labelled_deadlines(source: Any) -> list[tuple[str, datetime | None]]:
    """The deadlines of ``source`` (a Timeline or a stored cycle) with their untranslated labels, in order:
    the five every cycle has, and those of the stages it has."""
    return [(DEADLINE_LABELS[name], getattr(source, name)) for name in timeline_fields(source)]


def timeline_fields(source: Any) -> tuple[str, ...]:
    """The deadline fields of ``source`` in chronological order: the five, and those of the stages it has."""
    return tuple(name for name in ALL_DEADLINE_FIELDS
                 if name in DEADLINE_FIELDS or getattr(source, name, None) is not None)


def celebration_day(year: int) -> date:
    """16 May of ``year``."""
    return date(year, CELEBRATION_MONTH, CELEBRATION_DAY)


def next_cycle_year(today: date, latest_year: int | None = None) -> int:
    """The celebration year a new cycle is for: the next 16 May on or after ``today``, or the
    year after the latest existing cycle's if that is later."""
    year = today.year if today <= celebration_day(today.year) else today.year + 1
    return year if latest_year is None else max(year, latest_year + 1)


@dataclass(frozen=True)
class Window:
    """A half-open span of time, ``opens <= now < closes``."""

    opens: datetime
    closes: datetime

    def is_open(self, now: datetime) -> bool:
        """True from ``opens`` included to ``closes`` excluded: at ``closes`` it is shut."""
        return self.opens <= now < self.closes

    def has_closed(self, now: datetime) -> bool:
        return now >= self.closes


@dataclass(frozen=True)
class Timeline:
    """The deadlines of one cycle. Datetimes must be aware; they are stored converted to UTC."""

    nominations_open_dt: datetime
    nominations_close_dt: datetime
    voting_open_dt: datetime
    voting_close_dt: datetime
    announcement_dt: datetime
    celebration_date: date
    # The optional stages: a timeline has all of a stage's deadlines or none (STAGE_FIELDS).
    assessment_open_dt: datetime | None = None
    assessment_close_dt: datetime | None = None
    shortlist_open_dt: datetime | None = None
    shortlist_close_dt: datetime | None = None
    shortlist_publication_dt: datetime | None = None
    finalist_update_close_dt: datetime | None = None

    def __post_init__(self) -> None:
        for stage, names in STAGE_FIELDS.items():
            given = [getattr(self, name) is not None for name in names]
            if any(given) and not all(given):
                raise ValueError(f"the {stage} stage needs all of {', '.join(names)} or none")
        for name in present_deadlines(self):
            value = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"{name} must be an aware datetime, got {value!r}")
            object.__setattr__(self, name, value.astimezone(UTC))

    @property
    def has_assessment(self) -> bool:
        return self.assessment_open_dt is not None

    @property
    def has_shortlist(self) -> bool:
        return self.shortlist_open_dt is not None

    @property
    def celebration_starts(self) -> datetime:
        """Midnight UTC at the start of the celebration day: everything must happen before it."""
        return datetime.combine(self.celebration_date, time(0, tzinfo=UTC))

    @property
    def nominations(self) -> Window:
        """When nominations may be filed, edited and submitted."""
        return Window(self.nominations_open_dt, self.nominations_close_dt)

    @property
    def voting(self) -> Window:
        """When the board may cast ballots."""
        return Window(self.voting_open_dt, self.voting_close_dt)

    @property
    def assessment(self) -> Window | None:
        """When assessors score the dossiers; None without the assessment stage."""
        return Window(self.assessment_open_dt, self.assessment_close_dt) if self.has_assessment else None

    @property
    def shortlist_voting(self) -> Window | None:
        """When the board approves nominations for the shortlist; None without a shortlist."""
        return Window(self.shortlist_open_dt, self.shortlist_close_dt) if self.has_shortlist else None

    @property
    def finalist_update(self) -> Window | None:
        """When finalists may upload an updated dossier: from the shortlist's publication to their deadline."""
        return Window(self.shortlist_publication_dt, self.finalist_update_close_dt) if self.has_shortlist else None

    def deadlines(self) -> dict[str, datetime]:
        """The deadlines by field name, in chronological order: the five, and those of the stages it has."""
        return {name: getattr(self, name) for name in present_deadlines(self)}

    def without_stages(self) -> Timeline:
        """The same timeline with neither assessment nor shortlist."""
        return replace(self, **{name: None for names in STAGE_FIELDS.values() for name in names})

    def second_round(self, now: datetime, duration: timedelta = SECOND_ROUND_DURATION) -> Timeline:
        """The timeline for a second voting round opening at ``now`` and lasting ``duration``.

        The announcement moves by as much as the voting deadline, keeping the time between the
        result and its announcement; :func:`validate_timeline` then tells whether it still
        comes before the celebration.
        """
        voting_close = now + duration
        return replace(
            self,
            voting_open_dt=now,
            voting_close_dt=voting_close,
            announcement_dt=self.announcement_dt + (voting_close - self.voting_close_dt),
        )


def default_timeline(year: int, *, has_assessment: bool = False, has_shortlist: bool = False) -> Timeline:
    """The usual timeline for the 16 May celebration of ``year``, at 12:00 UTC.

    Nominations open on 16 October of the year before (seven months ahead) and close on
    16 January (four months ahead), leaving a month for the eligibility review; voting opens
    on 16 February (three months ahead) and closes on 9 March (three weeks, a day less in a
    leap year); the announcement is on 16 March (two months ahead), a week after the vote,
    which leaves the capital two months to prepare. Fixed calendar days make each year's
    default the :func:`carry_over` of the year before.

    With assessment or a shortlist, nominations run three months earlier (16 July to
    16 October) and the review ends on 1 November. Assessment runs from 1 November to
    1 December; the shortlist vote from 15 December (or 1 November, without assessment) to
    12 January, published on 16 January; finalists update their dossiers until 9 February,
    a week before the final vote opens on 16 February as without stages.
    """
    staged = has_assessment or has_shortlist
    stages: dict[str, datetime] = {}
    if has_assessment:
        stages |= {"assessment_open_dt": _at_noon(date(year - 1, 11, 1)),
                   "assessment_close_dt": _at_noon(date(year - 1, 12, 1))}
    if has_shortlist:
        stages |= {"shortlist_open_dt": _at_noon(date(year - 1, 12, 15) if has_assessment else date(year - 1, 11, 1)),
                   "shortlist_close_dt": _at_noon(date(year, 1, 12)),
                   "shortlist_publication_dt": _at_noon(date(year, 1, 16)),
                   "finalist_update_close_dt": _at_noon(date(year, 2, 9))}
    return Timeline(
        nominations_open_dt=_at_noon(date(year - 1, 7, 16) if staged else date(year - 1, 10, 16)),
        nominations_close_dt=_at_noon(date(year - 1, 10, 16) if staged else date(year, 1, 16)),
        voting_open_dt=_at_noon(date(year, 2, 16)),
        voting_close_dt=_at_noon(date(year, 3, 9)),
        announcement_dt=_at_noon(date(year, 3, 16)),
        celebration_date=celebration_day(year),
        **stages,
    )


def carry_over(previous: Timeline, year: int) -> Timeline:
    """``previous`` moved to the celebration of ``year`` ("copy last year's settings").

    Each deadline keeps its calendar day and UTC time relative to 16 May (so the default
    timeline of one year carries over to the default of the next, leap years included);
    a deadline on 29 February moves to 28 February in a year without one.
    """
    shift = year - previous.celebration_date.year
    moved = {name: _shift_year(value, shift) for name, value in previous.deadlines().items()}
    return Timeline(**moved, celebration_date=celebration_day(year))


def validate_timeline(timeline: Timeline, now: datetime, *, phase: Phase) -> list[Message]:
    """Every problem with ``timeline`` for a cycle currently in ``phase``; empty when valid.

    Deadlines must be in chronological order (each strictly after the one before, the
    stages' included), the announcement must come before the celebration day begins
    (00:00 UTC), and the celebration must be on 16 May. A deadline that ends ``phase`` or
    comes after that one must be in the future; deadlines of phases already behind the
    cycle may lie in the past. A final phase (announced, cancelled, no capital) checks the
    order only.
    """
    problems: list[Message] = []
    names = present_deadlines(timeline)
    for before, after in zip(names, names[1:]):
        if getattr(timeline, after) <= getattr(timeline, before):
            problems.append(Message(_ORDER_MESSAGES[(after, before)], {}, f"timeline.order.{after}"))
    if timeline.announcement_dt >= timeline.celebration_starts:
        problems.append(
            Message(N_("The announcement must be before the celebration on 16 May."), {}, "timeline.after_celebration")
        )
    if (timeline.celebration_date.month, timeline.celebration_date.day) != (CELEBRATION_MONTH, CELEBRATION_DAY):
        problems.append(Message(N_("The celebration must be on 16 May."), {}, "timeline.celebration_date"))
    for name in deadlines_still_ahead(phase, timeline):
        if getattr(timeline, name) <= now:
            problems.append(Message(_FUTURE_MESSAGES[name], {}, f"timeline.past.{name}"))
    return problems


def deadlines_behind(phase: Phase, timeline: Any) -> tuple[str, ...]:
    """The deadlines of ``timeline`` (a Timeline or a stored cycle) a cycle in ``phase`` has already left
    behind, whether on time or early by hand."""
    ahead = deadlines_still_ahead(phase, timeline)  # none for a final phase: all are behind it
    return tuple(name for name in timeline_fields(timeline) if name not in ahead)


def _at_noon(day: date) -> datetime:
    return datetime.combine(day, DEADLINE_TIME)


def _shift_year(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February into a common year
        return moment.replace(year=moment.year + years, day=28)


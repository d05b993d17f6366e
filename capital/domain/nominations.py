"""A nomination's states and who may do what with it, when (docs/rules.md).

Every ``can_*`` function returns a :class:`~capital.domain.messages.Decision` holding every
reason for a refusal. The cycle's phase says whether nominations have opened (the secretariat
may open them early by hand); the clock alone enforces deadlines, so a request one second
after a deadline is refused even if the worker has not yet moved the cycle on.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from capital.domain.membership import CityStatus, in_good_standing
from capital.domain.messages import Decision, Message, N_, Titled
from capital.domain.phase import Phase
from capital.domain.timeline import Timeline


class NominationState(Titled, IntEnum):
    DRAFT = 1
    SUBMITTED = 2
    WITHDRAWN = 3
    ELIGIBLE = 4
    INELIGIBLE = 5

    @property
    def is_draft(self) -> bool:
        """Whether the dossier is still being written (not yet submitted)."""
        return self == NominationState.DRAFT

    @property
    def is_reviewable(self) -> bool:
        """Whether the nomination is put forward: submitted, and not withdrawn (:data:`REVIEWABLE_STATES`)."""
        return self in REVIEWABLE_STATES


NOMINATION_STATE_TITLES = NominationState.set_titles({
    NominationState.DRAFT: N_("Draft"),
    NominationState.SUBMITTED: N_("Submitted"),
    NominationState.WITHDRAWN: N_("Withdrawn"),
    NominationState.ELIGIBLE: N_("Eligible"),
    NominationState.INELIGIBLE: N_("Not eligible"),
})

# The nominations that count against "one nomination per nominating city" and may be endorsed.
ACTIVE_STATES = frozenset({NominationState.SUBMITTED, NominationState.ELIGIBLE})
REVIEWABLE_STATES = frozenset({NominationState.SUBMITTED, NominationState.ELIGIBLE, NominationState.INELIGIBLE})

_BEFORE_VOTING = frozenset({Phase.NOMINATIONS_OPEN, Phase.NOMINATIONS_CLOSED})


def can_start(phase: Phase, timeline: Timeline, now: datetime, *, nominator_status: CityStatus,
              has_active_nomination: bool = False) -> Decision:
    """Whether a city with ``nominator_status`` may start a nomination (a draft) now.

    A city whose nomination is already submitted (``has_active_nomination``) may not start
    another: the second draft could never be submitted (one nomination per city).
    """
    reasons = _nomination_window(phase, timeline, now)
    if not in_good_standing(nominator_status):
        reasons.append(
            Message(N_("Only member cities in good standing can nominate a city."), {}, "nomination.nominator_standing")
        )
    if has_active_nomination:
        reasons.append(Message(N_("Your city has already submitted a nomination in this cycle; you can still edit it."),
                               {}, "nomination.already_nominated"))
    return Decision.from_reasons(reasons)


def can_edit(state: NominationState, phase: Phase, timeline: Timeline, now: datetime) -> Decision:
    """Drafts and submitted nominations may be edited while nominations are open, until the deadline."""
    reasons = _nomination_window(phase, timeline, now)
    if state not in (NominationState.DRAFT, NominationState.SUBMITTED):
        reasons.append(Message(N_("This nomination can no longer be changed."), {}, "nomination.not_editable"))
    return Decision.from_reasons(reasons)


def can_submit(state: NominationState, phase: Phase, timeline: Timeline, now: datetime) -> Decision:
    """A draft may be submitted while nominations are open, until the deadline.

    Completeness is not checked here: the service runs :func:`capital.domain.eligibility.evaluate`
    (or :func:`capital.domain.dossier.check_dossier`) before submitting.
    """
    reasons = _nomination_window(phase, timeline, now)
    if state == NominationState.WITHDRAWN:
        reasons.append(Message(N_("A withdrawn nomination can't be submitted."), {}, "nomination.withdrawn"))
    elif state != NominationState.DRAFT:
        reasons.append(Message(N_("This nomination has already been submitted."), {}, "nomination.already_submitted"))
    return Decision.from_reasons(reasons)


def can_withdraw(state: NominationState, phase: Phase, timeline: Timeline, now: datetime) -> Decision:
    """A nomination not yet withdrawn may be withdrawn until voting opens (``now < voting_open_dt``)."""
    reasons = []
    if state == NominationState.WITHDRAWN:
        reasons.append(Message(N_("This nomination has already been withdrawn."), {}, "nomination.withdrawn"))
    if not _before_voting(phase, timeline, now):
        reasons.append(
            Message(N_("A nomination can only be withdrawn until voting opens."), {}, "nomination.withdraw_closed")
        )
    return Decision.from_reasons(reasons)


def can_endorse(
    state: NominationState,
    phase: Phase,
    timeline: Timeline,
    now: datetime,
    *,
    endorser_status: CityStatus,
    is_nominator: bool,
    is_host: bool,
    has_endorsed: bool,
) -> Decision:
    """Whether a city may endorse a nomination now.

    The endorsing city must be a member in good standing, neither the nominating nor the host
    city, and must not have endorsed any nomination of this cycle yet (``has_endorsed``). Only
    submitted or eligible nominations may be endorsed, from submission until voting opens
    (so endorsements may still come during the eligibility review).
    """
    reasons = []
    if not in_good_standing(endorser_status):
        reasons.append(
            Message(N_("Only member cities in good standing can endorse a nomination."), {}, "endorsement.standing")
        )
    if is_nominator or is_host:
        reasons.append(Message(N_("A city can't endorse a nomination that concerns it."), {}, "endorsement.own"))
    if has_endorsed:
        reasons.append(
            Message(N_("Your city has already endorsed a nomination in this cycle."), {}, "endorsement.already")
        )
    if state not in ACTIVE_STATES:
        reasons.append(Message(N_("Only submitted nominations can be endorsed."), {}, "endorsement.state"))
    if not _before_voting(phase, timeline, now):
        reasons.append(Message(N_("Endorsements are only possible until voting opens."), {}, "endorsement.closed"))
    return Decision.from_reasons(reasons)


def can_review(state: NominationState, phase: Phase) -> Decision:
    """Whether the secretariat may mark a nomination eligible or ineligible (or change its mind).

    Only during the eligibility review phase, which lasts until voting opens; voting can't open
    while a submitted nomination awaits review, so the review is never cut short by the clock.
    """
    reasons = []
    if phase != Phase.NOMINATIONS_CLOSED:
        reasons.append(
            Message(N_("Eligibility is decided after the nomination deadline and before voting opens."), {},
                    "review.phase")
        )
    if state not in REVIEWABLE_STATES:
        reasons.append(Message(N_("Only submitted nominations can be reviewed."), {}, "review.state"))
    return Decision.from_reasons(reasons)


def _nomination_window(phase: Phase, timeline: Timeline, now: datetime) -> list[Message]:
    if phase == Phase.DRAFT:
        return [Message(N_("Nominations are not open yet."), {}, "nomination.not_open")]
    if phase != Phase.NOMINATIONS_OPEN or timeline.nominations.has_closed(now):
        return [Message(N_("The nomination deadline has passed."), {}, "nomination.deadline_passed")]
    return []


def _before_voting(phase: Phase, timeline: Timeline, now: datetime) -> bool:
    return phase in _BEFORE_VOTING and now < timeline.voting_open_dt

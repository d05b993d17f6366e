"""The roles a person may hold (docs/roles.md); one person may hold several."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from capital.domain.messages import N_, Titled


class Role(Titled, IntEnum):
    REPRESENTATIVE = 1
    BOARD = 2
    SECRETARIAT = 3
    # An outside expert invited for a cycle: reads the eligible dossiers and assesses them; no vote.
    ASSESSOR = 4
    OBSERVER = 5  # reads the audit log, the roll, the mail log and counted results; changes nothing


ROLE_TITLES = Role.set_titles({
    Role.REPRESENTATIVE: N_("City representative"),
    Role.BOARD: N_("Board member"),
    Role.SECRETARIAT: N_("Secretariat"),
    Role.ASSESSOR: N_("Assessor"),
    Role.OBSERVER: N_("Observer"),
})


class InvitationState(Titled, IntEnum):
    """Where an invitation stands; only a pending one can be accepted or withdrawn."""

    PENDING = 1
    ACCEPTED = 2
    WITHDRAWN = 3
    EXPIRED = 4

    @property
    def is_usable(self) -> bool:
        return self == InvitationState.PENDING


INVITATION_STATE_TITLES = InvitationState.set_titles({
    InvitationState.PENDING: N_("Pending until %(date)s"),
    InvitationState.ACCEPTED: N_("Accepted"),
    InvitationState.WITHDRAWN: N_("Withdrawn"),
    InvitationState.EXPIRED: N_("Expired"),
})

# Why a link that is no longer pending can't be used.
INVITATION_REFUSALS = {
    InvitationState.ACCEPTED: N_("This invitation has already been used. Sign in instead."),
    InvitationState.WITHDRAWN: N_("This invitation was withdrawn."),
    InvitationState.EXPIRED: N_("This invitation has expired. Ask the secretariat for a new one."),
}


def invitation_state(
    *, accepted_dt: datetime | None, revoked_dt: datetime | None, expires_dt: datetime, now: datetime
) -> InvitationState:
    """Accepted or withdrawn for good once it happened; otherwise pending until ``expires_dt`` (excluded)."""
    if accepted_dt is not None:
        return InvitationState.ACCEPTED
    if revoked_dt is not None:
        return InvitationState.WITHDRAWN
    if now >= expires_dt:
        return InvitationState.EXPIRED
    return InvitationState.PENDING

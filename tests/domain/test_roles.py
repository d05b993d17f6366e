"""Invitations: one rule says whether a link can still be used, and why not."""

from datetime import UTC, datetime, timedelta

import pytest

from capital.domain.roles import INVITATION_REFUSALS, InvitationState, invitation_state

NOW = datetime(2027, 2, 1, 12, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(("accepted", "revoked", "expires", "state"), [
    (None, None, NOW + SECOND, InvitationState.PENDING),
    (None, None, NOW, InvitationState.EXPIRED),  # at the very second it expires, it is too late
    (NOW - SECOND, None, NOW + SECOND, InvitationState.ACCEPTED),
    (None, NOW - SECOND, NOW + SECOND, InvitationState.WITHDRAWN),
    (NOW - SECOND, NOW - SECOND, NOW - SECOND, InvitationState.ACCEPTED),  # used beats everything
])
def test_an_invitation_is_usable_only_while_pending(accepted, revoked, expires, state):
    found = invitation_state(accepted_dt=accepted, revoked_dt=revoked, expires_dt=expires, now=NOW)
    assert found == state
    assert found.is_usable == (state == InvitationState.PENDING)


def test_every_unusable_state_says_why():
    assert set(INVITATION_REFUSALS) == {state for state in InvitationState if not state.is_usable}

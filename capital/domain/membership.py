"""Member cities' status and their signature of the Düsseldorf Declaration (docs/roles.md)."""

from __future__ import annotations

from enum import IntEnum

from capital.domain.messages import N_, Titled


class CityStatus(Titled, IntEnum):
    APPLICANT = 1
    MEMBER = 2
    SUSPENDED = 3
    LEFT = 4


CITY_STATUS_TITLES = CityStatus.set_titles({
    CityStatus.APPLICANT: N_("Applicant"),
    CityStatus.MEMBER: N_("Member"),
    CityStatus.SUSPENDED: N_("Suspended"),
    CityStatus.LEFT: N_("Left"),
})


class SignatureForm(Titled, IntEnum):
    """How a city signed the Declaration."""

    # The mayor signed "I agree upon the principles and goals ... and am committed".
    COMMITTED = 1
    # A representative signed "I acknowledge ... and agree to bring this Declaration to the
    # attention of the Mayor and/or Council".
    ACKNOWLEDGED = 2


SIGNATURE_FORM_TITLES = SignatureForm.set_titles({
    SignatureForm.COMMITTED: N_("Committed (signed by the mayor)"),
    SignatureForm.ACKNOWLEDGED: N_("Acknowledged (signed by a representative)"),
})


def in_good_standing(status: CityStatus) -> bool:
    """Whether a city with ``status`` may take part in a cycle: members only."""
    return status == CityStatus.MEMBER

"""The roles a person may hold (SPEC §2); one person may hold several."""

from __future__ import annotations

from enum import IntEnum

from capital.domain.messages import N_


class Role(IntEnum):
    REPRESENTATIVE = 1
    BOARD = 2
    SECRETARIAT = 3

    @property
    def title(self) -> str:
        return ROLE_TITLES[self]


ROLE_TITLES = {
    Role.REPRESENTATIVE: N_("City representative"),
    Role.BOARD: N_("Board member"),
    Role.SECRETARIAT: N_("Secretariat"),
}

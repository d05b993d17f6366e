"""The roles a person may hold (SPEC §2); one person may hold several."""

from __future__ import annotations

from enum import IntEnum

from capital.domain.messages import N_, Titled


class Role(Titled, IntEnum):
    REPRESENTATIVE = 1
    BOARD = 2
    SECRETARIAT = 3


ROLE_TITLES = Role.set_titles({
    Role.REPRESENTATIVE: N_("City representative"),
    Role.BOARD: N_("Board member"),
    Role.SECRETARIAT: N_("Secretariat"),
})

"""The second factor's rules (docs/roles.md): who needs one, which code is still good, recovery codes.

A time-based code (TOTP, RFC 6238) stands for a *time step* of ``TOTP_PERIOD`` seconds; a code
is accepted for the current step or one step either side (phones whose clock is a little off),
and each step is accepted at most once per person: the last accepted step is remembered, and a
code for it or any earlier step is refused. Recovery codes are random, shown once, and each
works once.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime

from capital.domain.messages import N_, Message
from capital.domain.roles import Role

TOTP_PERIOD = 30
TOTP_DIGITS = 6
TOTP_WINDOW = 1  # steps accepted either side of the current one
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: a code copied from paper is read back without doubt.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_CODE_LENGTH = 10  # 31^10: about 50 bits each
PASSKEY_NAME_LENGTH = 60

WRONG_CODE = Message(N_("This code is not right. Type the 6-digit code your authenticator app shows now, "
                        "or one of your recovery codes."), code="factor.code")
USED_CODE = Message(N_("This code was already used. Wait for your authenticator app to show the next one."),
                    code="factor.code.used")
NO_CODE = Message(N_("Type the 6-digit code from your authenticator app, or one of your recovery codes."),
                  code="factor.code.missing")


def requires_second_factor(roles: Iterable[Role], required: Iterable[Role]) -> bool:
    """Whether a person holding ``roles`` must sign in with a second factor."""
    return bool(set(roles) & set(required))


def time_step(now: datetime) -> int:
    """The TOTP time step ``now`` falls in."""
    return int(now.timestamp()) // TOTP_PERIOD


def candidate_steps(now: datetime, last_step: int | None) -> list[int]:
    """The steps a code typed at ``now`` may stand for, oldest first, leaving out those already used."""
    current = time_step(now)
    return [step for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1)
            if last_step is None or step > last_step]


def normalise_code(typed: str) -> str:
    """A typed code without the spaces and dashes people add, in lower case."""
    return "".join(typed.split()).replace("-", "").lower()


def is_totp_code(code: str) -> bool:
    return len(code) == TOTP_DIGITS and code.isascii() and code.isdigit()


def is_recovery_code(code: str) -> bool:
    return len(code) == RECOVERY_CODE_LENGTH and all(char in RECOVERY_ALPHABET for char in code)


def new_recovery_codes() -> list[str]:
    """Ten fresh recovery codes, normalised (show them with :func:`display_recovery_code`)."""
    return ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
            for _ in range(RECOVERY_CODE_COUNT)]


def display_recovery_code(code: str) -> str:
    """``abcde-fghjk``: two groups, easier to copy by hand."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"

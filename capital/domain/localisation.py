"""The languages Capital speaks and the time zones it knows (docs/operations.md).

English, French, German, Spanish, Arabic, Chinese and Russian: the six UN languages plus
German. The same list serves the pages, the mails and the dossier texts.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

LOCALES = ("en", "fr", "de", "es", "ar", "zh", "ru")
RTL_LOCALES = frozenset({"ar"})


@cache
def timezone_names() -> tuple[str, ...]:
    """The IANA time zone names this machine knows, sorted."""
    return tuple(sorted(available_timezones()))


def is_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows."""
    return name in timezone_names()

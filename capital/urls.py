"""URL helpers."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Control characters and spaces: a CR/LF would end up in the Location header.
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")


def safe_next_url(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or len(target) > 2000 or _UNSAFE.search(target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target

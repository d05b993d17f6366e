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


def same_origin(origin: str | None, referrer: str | None, *own: str) -> bool:
    """Whether a request came from one of the site's ``own`` URLs, by its ``Origin`` header,
    else its ``Referer``; False when it sent neither."""
    source = origin if origin and origin != "null" else referrer
    if not source:
        return False
    scheme_host = lambda url: (urlsplit(url).scheme, urlsplit(url).netloc)  # noqa: E731
    return scheme_host(source) in {scheme_host(url) for url in own}

"""The public site's clock, in one place: every embargo check of a request reads it here.

Views call ``clock.now()`` (not ``utcnow`` directly) so that a test can set the moment a
whole request sees, before or after an announcement time.
"""

from __future__ import annotations

from datetime import datetime

from capital.models.types import utcnow


def now() -> datetime:
    return utcnow()

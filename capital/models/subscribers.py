"""Members of the public who asked for the announcement by mail (docs/public.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from capital.extensions import db
from capital.models.types import UTCDateTime, utcnow


class Subscriber(db.Model):
    """A member of the public who asked for the announcement by mail."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    confirmed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

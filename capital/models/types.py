"""Column types shared by the models."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import IntEnum

from sqlalchemy import CheckConstraint, DateTime, Integer, types


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


class UTCDateTime(types.TypeDecorator):
    """An aware UTC datetime on every backend (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class IntEnumType(types.TypeDecorator):
    """Stores an IntEnum as its integer; pair it with :func:`enum_check`."""

    impl = Integer
    cache_ok = True

    def __init__(self, enum: type[IntEnum], *args, **kwargs):
        self.enum = enum
        super().__init__(*args, **kwargs)

    def process_bind_param(self, value, dialect):
        return None if value is None else int(self.enum(value))

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum(value)


def enum_check(column: str, enum: type[IntEnum]) -> CheckConstraint:
    """A check constraint that keeps ``column`` within ``enum``'s values."""
    values = ", ".join(str(int(member)) for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=f"valid_{column}")


def render_item(type_, obj, autogen_context):
    """Alembic hook: write our column types as the plain SQLAlchemy types they store."""
    if type_ == "type" and isinstance(obj, types.TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False

"""Listing pages: sort, filter and page in the database, never in Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import request
from sqlalchemy import Select, tuple_

from capital.extensions import db

PER_PAGE = 50
# Past this, a page number is nonsense; capping it keeps OFFSET inside what the database accepts.
MAX_PAGE = 100_000


@dataclass(frozen=True)
class Listing:
    pagination: object
    sort: str
    direction: str
    query: str


def paged(statement: Select, sort_columns: dict, default_sort: str, *, per_page: int = PER_PAGE,
          default_direction: str = "asc") -> Listing:
    """Apply ``?sort=&dir=&page=`` from the request; unknown sort keys fall back to the default."""
    sort = request.args.get("sort", default_sort)
    if sort not in sort_columns:
        sort = default_sort
    direction = request.args.get("dir", default_direction)
    direction = "desc" if direction == "desc" else "asc"
    column = sort_columns[sort]
    # The primary key last: with ties on the sort column, each row still has one fixed page.
    entity = statement.column_descriptions[0]["entity"]
    statement = statement.order_by(column.desc() if direction == "desc" else column.asc(), entity.id.asc())
    page = request.args.get("page", 1, type=int)
    page = min(max(page, 1), MAX_PAGE)
    pagination = db.paginate(statement, page=page, per_page=per_page, max_per_page=200, error_out=False)
    return Listing(pagination, sort, direction, request.args.get("q", ""))


@dataclass(frozen=True)
class KeysetPage:
    """A page of a listing read newest first by keyset: the rows before (or after) a cursor."""

    items: list
    newer: str | None  # the cursor of the page before this one, None on the first page
    older: str | None  # the cursor of the page after this one, None on the last
    is_first: bool
    args: dict  # the request's other query arguments (the filters), for the pager's links


# A cursor is "<ISO datetime>_<id>": the sort value and the key of the row a page starts after.
_CURSOR_SEPARATOR = "_"
_MAX_KEY = 2**63 - 1


def keyset_paged(statement: Select, column, key, *, per_page: int = PER_PAGE) -> KeysetPage:
    """``statement`` newest first by (``column``, ``key``): a datetime column and an integer key.

    ``?older=CURSOR`` gives the page after a cursor, ``?newer=CURSOR`` the one before it: each
    page is one read of ``per_page + 1`` rows along an index on (column, key), whatever the page
    and however many rows the table holds (no count, no OFFSET). A cursor that cannot be read
    gives the first page.
    """
    older, newer = _cursor(request.args.get("older")), _cursor(request.args.get("newer"))
    args = {name: value for name, value in request.args.items() if name not in ("older", "newer")}
    if newer is not None:
        rows = db.session.scalars(statement.where(tuple_(column, key) > newer)
                                  .order_by(column.asc(), key.asc()).limit(per_page + 1)).all()
        if len(rows) > per_page:  # newer rows still before these
            rows = rows[:per_page][::-1]
            return KeysetPage(rows, _cursor_of(rows[0], column, key), _cursor_of(rows[-1], column, key), False, args)
        older = None  # back at the top: the first page, full
    page = statement.where(tuple_(column, key) < older) if older is not None else statement
    rows = db.session.scalars(page.order_by(column.desc(), key.desc()).limit(per_page + 1)).all()
    has_older, rows = len(rows) > per_page, rows[:per_page]
    return KeysetPage(rows, _cursor_of(rows[0], column, key) if older is not None and rows else None,
                      _cursor_of(rows[-1], column, key) if has_older else None, older is None, args)


def _cursor_of(row, column, key) -> str:
    return f"{getattr(row, column.key).isoformat()}{_CURSOR_SEPARATOR}{getattr(row, key.key)}"


def _cursor(value: str | None) -> tuple[datetime, int] | None:
    if not value or _CURSOR_SEPARATOR not in value:
        return None
    moment, _, number = value.rpartition(_CURSOR_SEPARATOR)
    try:
        moment, number = datetime.fromisoformat(moment), int(number)
    except ValueError:
        return None
    if moment.tzinfo is None or not 0 <= number <= _MAX_KEY:
        return None
    return moment, number

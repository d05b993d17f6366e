"""Listing pages: sort, filter and page in the database, never in Python."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from sqlalchemy import Select

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


def paged(statement: Select, sort_columns: dict, default_sort: str, *, per_page: int = PER_PAGE) -> Listing:
    """Apply ``?sort=&dir=&page=`` from the request; unknown sort keys fall back to the default."""
    sort = request.args.get("sort", default_sort)
    if sort not in sort_columns:
        sort = default_sort
    direction = "desc" if request.args.get("dir") == "desc" else "asc"
    column = sort_columns[sort]
    # The primary key last: with ties on the sort column, each row still has one fixed page.
    entity = statement.column_descriptions[0]["entity"]
    statement = statement.order_by(column.desc() if direction == "desc" else column.asc(), entity.id.asc())
    page = request.args.get("page", 1, type=int)
    page = min(max(page, 1), MAX_PAGE)
    pagination = db.paginate(statement, page=page, per_page=per_page, max_per_page=200, error_out=False)
    return Listing(pagination, sort, direction, request.args.get("q", ""))

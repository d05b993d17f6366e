"""The OpenAPI 3 document of ``/api/v1/``, built from the code.

Each API view declares its response schema with :func:`documented`; :func:`build_spec`
walks the app's URL map, so every route of the blueprint and only those appear, with the
path parameters Flask really takes, and apispec's marshmallow plugin turns the very schemas
that serialise the responses into the document's components.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema
from werkzeug.routing import IntegerConverter

from capital.api.schemas import ErrorSchema
from capital.pagination import MAX_PAGE

MAX_PER_PAGE = 100
PER_PAGE = 20


@dataclass(frozen=True)
class Operation:
    summary: str
    schema: type[Schema] | None  # None: a free-form JSON object
    paged: bool
    errors: tuple[int, ...]
    description: str


OPERATIONS: dict[str, Operation] = {}


def documented(summary: str, schema: type[Schema] | None, *, paged: bool = False, errors: tuple[int, ...] = ()):
    """Declare what a GET view of the API answers (its docstring becomes the description)."""
    def decorate(view):
        OPERATIONS[view.__name__] = Operation(summary, schema, paged, errors, (view.__doc__ or "").strip())
        return view
    return decorate


_ERROR_TEXT = {400: "Bad request: a query parameter that is not as documented (a page or page size that is "
                    "not a whole number in range, ``null`` included), or characters no form or address holds.",
               404: "Not found, or not public yet.",
               503: "Briefly unavailable (the database is out of reach): retry after Retry-After seconds."}
# Any operation may meet malformed input (capital/inputs.py) and a database outage (capital/errors/handlers.py).
_ALWAYS_POSSIBLE = (400, 503)
_PAGE_PARAMETERS = [
    {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
     "description": "Pages past the maximum are answered as the maximum (empty)."},
    {"name": "per_page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": PER_PAGE}},
]


def openapi_path(rule: str) -> str:
    """A Flask rule (``/cycles/<int:year>``) as an OpenAPI path (``/cycles/{year}``)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _path_schema(converter) -> dict:
    """What a path argument's converter matches (``<int:…>`` is bounded: capital/inputs.py)."""
    if not isinstance(converter, IntegerConverter):
        return {"type": "string"}
    schema = {"type": "integer", "minimum": converter.min if converter.min is not None else (
        None if converter.signed else 0)}
    if converter.max is not None:
        schema["maximum"] = converter.max
    return {key: value for key, value in schema.items() if value is not None}


def build_spec(app, server_url: str, prefix: str) -> dict:
    """The document for the API blueprint's routes; paths are relative to ``server_url`` (which ends in ``prefix``)."""
    spec = APISpec(title="Capital of Living Together — public API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "Read-only: capitals, cycles with their public deadlines, nominees once "
                                        "nominations have closed, results once announced."},
                   servers=[{"url": server_url}])
    spec.components.schema("Error", schema=ErrorSchema)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        blueprint, _, name = rule.endpoint.partition(".")
        if blueprint != "api" or name not in OPERATIONS:
            continue
        operation = OPERATIONS[name]
        parameters = [{"name": arg, "in": "path", "required": True, "schema": _path_schema(rule._converters.get(arg))}
                      for arg in sorted(rule.arguments)]
        if operation.paged:
            parameters += _PAGE_PARAMETERS
        schema = operation.schema if operation.schema is not None else {"type": "object"}
        responses = {"200": {"description": operation.summary, "content": {"application/json": {"schema": schema}}}}
        for status in sorted({*operation.errors, *_ALWAYS_POSSIBLE}):
            responses[str(status)] = {"description": _ERROR_TEXT[status],
                                      "content": {"application/json": {"schema": "Error"}}}
        spec.path(path=openapi_path(rule.rule).removeprefix(prefix), operations={"get": {
            "operationId": name, "summary": operation.summary, "description": operation.description,
            "parameters": parameters, "responses": responses,
        }})
    return spec.to_dict()

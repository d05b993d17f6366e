"""The API's response shapes: marshmallow schemas that both serialise the responses and
describe them in the OpenAPI document, so the two cannot drift apart."""

from __future__ import annotations

from marshmallow import Schema, fields

from capital.domain.localisation import LOCALES
from capital.domain.phase import Phase
from capital.models import TALLY_METHODS

PHASES = [phase.name.lower() for phase in Phase]


class ErrorSchema(Schema):
    error = fields.String(required=True)
    message = fields.String(required=True)


class CitySchema(Schema):
    name = fields.String(required=True, metadata={"description": "The city's own name, in its own script."})
    name_latin = fields.String(required=True, metadata={"description": "Latin transliteration."})
    country_code = fields.String(required=True, metadata={"description": "ISO 3166-1 alpha-2."})
    latitude = fields.Float(required=True, allow_none=True)
    longitude = fields.Float(required=True, allow_none=True)


class CapitalSchema(Schema):
    years = fields.List(fields.Integer(), required=True,
                        metadata={"description": "The 16 May celebrations it hosts (two for a biennial cycle)."})
    city = fields.Nested(CitySchema, required=True)
    url = fields.String(required=True, metadata={"description": "The year page."})


class DeadlinesSchema(Schema):
    nominations_open = fields.DateTime(required=True, allow_none=True)
    nominations_close = fields.DateTime(required=True, allow_none=True)
    voting_open = fields.DateTime(required=True, allow_none=True)
    voting_close = fields.DateTime(required=True, allow_none=True)
    announcement = fields.DateTime(required=True, allow_none=True)


class CycleSchema(Schema):
    year = fields.Integer(required=True)
    years = fields.List(fields.Integer(), required=True)
    celebration_date = fields.Date(required=True)
    is_biennial = fields.Boolean(required=True)
    phase = fields.String(required=True, metadata={"enum": PHASES})
    method = fields.String(required=True, metadata={"enum": list(TALLY_METHODS)})
    deadlines = fields.Nested(DeadlinesSchema, required=True)
    nominees_public = fields.Boolean(required=True)
    result_public = fields.Boolean(required=True)
    capital = fields.Nested(CitySchema, required=True, allow_none=True,
                            metadata={"description": "Null until the result is public."})
    url = fields.String(required=True)


class NomineeSchema(Schema):
    title = fields.String(required=True)
    host_city = fields.Nested(CitySchema, required=True)
    nominating_city = fields.Nested(CitySchema, required=True)
    is_shortlisted = fields.Boolean(required=True, metadata={
        "description": "On the published shortlist; false before its publication time and without one."})


class RoundResultSchema(Schema):
    round = fields.Integer(required=True)
    method = fields.String(required=True, metadata={"enum": list(TALLY_METHODS)})
    winner = fields.String(required=True, allow_none=True)
    eligible_voters = fields.Integer(required=True)
    ballots_cast = fields.Integer(required=True)
    is_quorum_met = fields.Boolean(required=True)
    tie_break_order = fields.List(fields.String(), required=True)
    checksum = fields.String(required=True, metadata={"description": "SHA-256 of the published ballot file."})
    tally = fields.Dict(required=True, metadata={"description": "The tally engine's JSON (python -m capital.voting "
                                                                "--json): rounds or matrix, ranking, tie-breaks."})


class ResultSchema(Schema):
    year = fields.Integer(required=True)
    capital = fields.Nested(CitySchema, required=True, allow_none=True)
    rounds = fields.List(fields.Nested(RoundResultSchema), required=True)


class FinalistNoteSchema(Schema):
    city = fields.Nested(CitySchema, required=True)
    text = fields.String(required=True)


class ReportTextSchema(Schema):
    language = fields.String(required=True, metadata={"enum": list(LOCALES)})
    citation = fields.String(required=True, metadata={"description": "Paragraphs separated by blank lines."})
    reasons = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                          metadata={"description": "The reasons against each of the cycle's criteria, by "
                                                   "criterion; empty when the cycle has none."})
    finalists = fields.List(fields.Nested(FinalistNoteSchema), required=True,
                            metadata={"description": "A short paragraph on other finalists (optional)."})


class ReportCriterionSchema(Schema):
    id = fields.String(required=True, metadata={"description": "The key of this criterion's reasons in each text."})
    names = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                        metadata={"description": "The criterion's name in each language it has, by language."})


class ReportSchema(Schema):
    year = fields.Integer(required=True)
    capital = fields.Nested(CitySchema, required=True)
    criteria = fields.List(fields.Nested(ReportCriterionSchema), required=True,
                           metadata={"description": "The cycle's criteria, in their order; empty when it has none."})
    first_language = fields.String(required=True, metadata={
        "enum": list(LOCALES), "description": "The language the report was first written in."})
    languages = fields.List(fields.String(), required=True, metadata={"description": "Every language it exists in."})
    texts = fields.List(fields.Nested(ReportTextSchema), required=True)


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """A page of ``item``: the items and where the page stands."""
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item), required=True),
        "page": fields.Integer(required=True),
        "per_page": fields.Integer(required=True),
        "total": fields.Integer(required=True),
        "pages": fields.Integer(required=True),
    }, name=name)


CapitalPageSchema = page_schema(CapitalSchema, "CapitalPage")
CyclePageSchema = page_schema(CycleSchema, "CyclePage")
NomineePageSchema = page_schema(NomineeSchema, "NomineePage")

"""The criteria a cycle's dossiers are assessed against (docs/assessment.md).

A criterion has a name and a description in one or more of the seven languages, a scale with
a label at each end, and a weight. Readers see their own language where the criterion has it,
otherwise the first language it was written in, marked as such (:func:`localised`).

The defaults are the five themes of the 2019 Düsseldorf summit, plus the capacity to deliver
the 16 May celebration and its reach beyond the city (:data:`DEFAULT_CRITERIA`). The texts
are message ids: a new cycle gets them written out in every language from the catalogues.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from capital.domain.localisation import LOCALES
from capital.domain.messages import Message, N_
from capital.domain.phase import Phase

TEXT_FIELDS = ("name", "description", "low_label", "high_label")
DEFAULT_SCALE = (0, 5)
MAX_SCALE = 10  # a wider scale says no more than a finer note would
MAX_WEIGHT = Decimal(100)
MAX_CRITERIA = 20
NAME_LENGTH = 200
LABEL_LENGTH = 100
DESCRIPTION_LENGTH = 2000
_LENGTHS = {"name": NAME_LENGTH, "description": DESCRIPTION_LENGTH, "low_label": LABEL_LENGTH,
            "high_label": LABEL_LENGTH}

# The phases in which the secretariat may still change the criteria: once assessment opens
# they are what every assessor scores against, and they stay so for the record.
EDITABLE_PHASES = frozenset({Phase.DRAFT, Phase.NOMINATIONS_OPEN, Phase.NOMINATIONS_CLOSED})


@dataclass(frozen=True)
class CriterionText:
    """A criterion's words in one language."""

    locale: str
    name: str
    description: str = ""
    low_label: str = ""
    high_label: str = ""

    def to_dict(self) -> dict:
        return {"locale": self.locale, "name": self.name, "description": self.description,
                "low_label": self.low_label, "high_label": self.high_label}

    @classmethod
    def from_dict(cls, data: dict) -> CriterionText:
        return cls(data["locale"], *(data.get(name, "") for name in TEXT_FIELDS))


@dataclass(frozen=True)
class CriterionSpec:
    """What the secretariat writes for one criterion; ``texts`` in the order they were given."""

    texts: tuple[CriterionText, ...]
    scale_min: int = DEFAULT_SCALE[0]
    scale_max: int = DEFAULT_SCALE[1]
    weight: Decimal = Decimal(1)

    def texts_data(self) -> list[dict]:
        return [text.to_dict() for text in self.texts]


@dataclass(frozen=True)
class Localised:
    """A criterion's text for one reader: ``lang`` is the language it is in, ``is_own`` whether
    that is the reader's (when not, the page marks the text with its ``lang``)."""

    text: CriterionText
    lang: str
    is_own: bool


def localised(texts: list[dict] | tuple[CriterionText, ...], locale: str) -> Localised:
    """The text of a criterion for a reader of ``locale``: theirs, else the first one given."""
    parsed = [text if isinstance(text, CriterionText) else CriterionText.from_dict(text) for text in texts]
    if not parsed:
        raise ValueError("a criterion has at least one text")
    own = next((text for text in parsed if text.locale == locale), None)
    chosen = own or parsed[0]
    return Localised(chosen, chosen.locale, own is not None)


def weight_of(value) -> Decimal | None:
    """``value`` as a weight, or None when it is not a number."""
    try:
        weight = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return weight if weight.is_finite() else None


def criterion_problems(spec: CriterionSpec) -> list[Message]:
    """Every reason ``spec`` can't be a criterion; empty when it can."""
    found = []
    if not spec.texts:
        found.append(Message(N_("Give the criterion a name in at least one language."), {}, "criterion.no_text"))
    locales = [text.locale for text in spec.texts]
    if any(locale not in LOCALES for locale in locales):
        found.append(Message(N_("Choose a language from the list."), {}, "criterion.locale"))
    if len(set(locales)) != len(locales):
        found.append(Message(N_("Give each language once."), {}, "criterion.locale"))
    for text in spec.texts:
        if not text.name.strip():
            found.append(Message(N_("Give the criterion a name in this language."), {"language": text.locale},
                                 "criterion.name"))
        for name, limit in _LENGTHS.items():
            if len(getattr(text, name)) > limit:
                found.append(Message(N_("Use at most %(limit)s characters."), {"limit": limit, "language": text.locale},
                                     f"criterion.{name}"))
    if not (isinstance(spec.scale_min, int) and isinstance(spec.scale_max, int)
            and 0 <= spec.scale_min < spec.scale_max <= MAX_SCALE):
        found.append(Message(N_("The scale runs from a lower to a higher whole number, between 0 and %(max)s."),
                             {"max": MAX_SCALE}, "criterion.scale"))
    weight = weight_of(spec.weight)
    if weight is None or not Decimal(0) < weight <= MAX_WEIGHT:
        found.append(Message(N_("The weight must be above 0 and at most %(max)s."), {"max": MAX_WEIGHT},
                             "criterion.weight"))
    return found


def criteria_editable(phase: Phase) -> bool:
    """Whether a cycle in ``phase`` may still change its criteria (not once assessment opens)."""
    return phase in EDITABLE_PHASES


FROZEN_MESSAGE = N_("The criteria can't change once assessment has opened.")
TOO_MANY_MESSAGE = N_("A cycle has at most %(max)s criteria.")


@dataclass(frozen=True)
class DefaultCriterion:
    """A default criterion: message ids, written out in every language when a cycle is created."""

    name: str
    description: str
    low_label: str = N_("Not addressed")
    high_label: str = N_("Outstanding")
    weight: Decimal = field(default=Decimal(1))


DEFAULT_CRITERIA = (
    DefaultCriterion(
        N_("Communicative city"),
        N_("Urban planning and development that bring people together: public spaces, "
           "dialogue between residents and the city.")),
    DefaultCriterion(
        N_("Healthy city"),
        N_("Sustainable development and health: a city whose quality of life is shared by all.")),
    DefaultCriterion(
        N_("Resilient city"),
        N_("Security and protection: a city that is resilient and agile in the face of threats.")),
    DefaultCriterion(
        N_("Connective city"),
        N_("Digitalisation and civic engagement: residents taking part in the life of their city.")),
    DefaultCriterion(
        N_("Inclusive city"),
        N_("Diversity and inclusion: a city where everyone, whatever their origin, belongs.")),
    DefaultCriterion(
        N_("Capacity to deliver the 16 May celebration"),
        N_("A realistic programme, budget, partners and team to host the main activity of the "
           "International Day of Living Together in Peace.")),
    DefaultCriterion(
        N_("Reach beyond the city"),
        N_("How far the celebration carries: to other cities, countries and people who cannot be there.")),
)

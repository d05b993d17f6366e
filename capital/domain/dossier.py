"""A nomination's dossier and the check that it is complete (docs/rules.md)."""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from capital.domain.localisation import LOCALES
from capital.domain.messages import Message, N_, Titled



class Theme(Titled, IntEnum):
    """The five themes of the 2019 Düsseldorf summit."""

    COMMUNICATIVE = 1
    HEALTHY = 2
    RESILIENT = 3
    CONNECTIVE = 4
    INCLUSIVE = 5


THEME_TITLES = Theme.set_titles({
    Theme.COMMUNICATIVE: N_("Communicative city"),
    Theme.HEALTHY: N_("Healthy city"),
    Theme.RESILIENT: N_("Resilient city"),
    Theme.CONNECTIVE: N_("Connective city"),
    Theme.INCLUSIVE: N_("Inclusive city"),
})


class BudgetRange(Titled, StrEnum):
    """The celebration's budget, in euros; the value is what the database stores."""

    UNDER_10K = "under_10k"
    FROM_10K_TO_50K = "10k_50k"
    FROM_50K_TO_100K = "50k_100k"
    FROM_100K_TO_250K = "100k_250k"
    FROM_250K_TO_500K = "250k_500k"
    OVER_500K = "over_500k"

    @property
    def bounds(self) -> tuple[int, int | None]:
        """The range in euros, lower bound included, upper bound excluded (None: no limit)."""
        return _BUDGET_BOUNDS[self]


BUDGET_RANGE_TITLES = BudgetRange.set_titles({
    BudgetRange.UNDER_10K: N_("Less than €10,000"),
    BudgetRange.FROM_10K_TO_50K: N_("€10,000 to €50,000"),
    BudgetRange.FROM_50K_TO_100K: N_("€50,000 to €100,000"),
    BudgetRange.FROM_100K_TO_250K: N_("€100,000 to €250,000"),
    BudgetRange.FROM_250K_TO_500K: N_("€250,000 to €500,000"),
    BudgetRange.OVER_500K: N_("More than €500,000"),
})

_BUDGET_BOUNDS = {
    BudgetRange.UNDER_10K: (0, 10_000),
    BudgetRange.FROM_10K_TO_50K: (10_000, 50_000),
    BudgetRange.FROM_50K_TO_100K: (50_000, 100_000),
    BudgetRange.FROM_100K_TO_250K: (100_000, 250_000),
    BudgetRange.FROM_250K_TO_500K: (250_000, 500_000),
    BudgetRange.OVER_500K: (500_000, None),
}


@dataclass(frozen=True)
class DossierLimits:
    """The most words allowed in each text of a dossier (per language for summary and programme)."""

    title: int = 20
    summary: int = 300
    programme: int = 1500

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if type(value) is not int or value < 1:
                raise ValueError(f"word limit {name} must be a positive integer, got {value!r}")

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DossierLimits:
        """Limits from stored JSON; a missing key keeps its default, an unknown one is ignored."""
        data = data or {}
        return cls(**{name: data[name] for name in ("title", "summary", "programme") if name in data})


@dataclass
class DossierData:
    """The dossier as plain values, gathered from a form or the database.

    ``texts`` maps a locale (one of ``LOCALES``) to its ``(summary, programme)``.
    """

    title: str = ""
    texts: dict[str, tuple[str, str]] = field(default_factory=dict)
    themes: set[Theme] = field(default_factory=set)
    expected_participants: int | None = None
    partners: str = ""
    budget_range: BudgetRange | None = None
    has_letter: bool = False


def word_count(text: str) -> int:
    """The number of words in ``text``, in any of the supported languages.

    A word is a run of letters, digits and combining marks (so Arabic with its vowel marks is
    one word per word); an apostrophe or hyphen between two letters joins them ("l'amitié",
    "aujourd'hui", "vivre-ensemble" count once, as word processors count them), and so does a
    point or comma between digits ("10,000"). Chinese and Japanese are written without spaces:
    each ideograph or kana counts as one word.
    """
    count = 0
    in_word = False
    for index, char in enumerate(text):
        if _is_cjk(char):
            count += 1
            in_word = False
        elif _is_word_char(char):
            if not in_word:
                count += 1
                in_word = True
        elif in_word and _joins(text, index):
            continue
        else:
            in_word = False
    return count


def check_dossier(dossier: DossierData, limits: DossierLimits | None = None) -> list[Message]:
    """Every way ``dossier`` is incomplete or too long, in form order; empty when complete.

    Required: a title; at least one supported language with both summary and programme (a
    language with only one of them is reported too); at least one theme; expected
    participants above zero; a budget range; the mayor's letter. ``params["language"]`` is a
    locale code, which the web layer may replace by the language's name.
    """
    limits = limits or DossierLimits()
    problems: list[Message] = []
    title = dossier.title.strip()
    if not title:
        problems.append(Message(N_("Give the nomination a title."), {}, "dossier.title.missing"))
    elif (count := word_count(title)) > limits.title:
        problems.append(
            Message(
                N_("The title has %(count)s words; the limit is %(limit)s."),
                {"count": count, "limit": limits.title},
                "dossier.title.too_long",
            )
        )
    problems.extend(_check_texts(dossier.texts, limits))
    if not dossier.themes:
        problems.append(Message(N_("Choose at least one theme."), {}, "dossier.themes.missing"))
    if dossier.expected_participants is None:
        problems.append(Message(N_("Give the expected number of participants."), {}, "dossier.participants.missing"))
    elif dossier.expected_participants <= 0:
        problems.append(
            Message(N_("The expected number of participants must be above zero."), {}, "dossier.participants.invalid")
        )
    if dossier.budget_range is None:
        problems.append(Message(N_("Choose a budget range."), {}, "dossier.budget.missing"))
    if not dossier.has_letter:
        problems.append(
            Message(N_("Add the letter of commitment from the host city's mayor (PDF)."), {}, "dossier.letter.missing")
        )
    return problems


def _check_texts(texts: dict[str, tuple[str, str]], limits: DossierLimits) -> list[Message]:
    problems: list[Message] = []
    complete = 0
    for locale in sorted(texts, key=_locale_order):
        summary, programme = (part.strip() for part in texts[locale])
        if not summary and not programme:
            continue  # an empty language is simply not offered
        language = {"language": locale}
        if locale not in LOCALES:
            problems.append(
                Message(N_("Texts in %(language)s can't be accepted: choose a supported language."), language,
                        "dossier.texts.unsupported_language")
            )
            continue
        for text, name, limit in ((summary, "summary", limits.summary), (programme, "programme", limits.programme)):
            if not text:
                problems.append(Message(_MISSING_TEXT[name], language, f"dossier.{name}.missing"))
            elif (count := word_count(text)) > limit:
                params = {**language, "count": count, "limit": limit}
                problems.append(Message(_TOO_LONG_TEXT[name], params, f"dossier.{name}.too_long"))
        complete += bool(summary and programme)
    if not complete:
        problems.insert(
            0,
            Message(N_("Write the summary and the programme in at least one language."), {}, "dossier.texts.missing"),
        )
    return problems


_MISSING_TEXT = {
    "summary": N_("The summary in %(language)s is missing."),
    "programme": N_("The programme in %(language)s is missing."),
}
_TOO_LONG_TEXT = {
    "summary": N_("The summary in %(language)s has %(count)s words; the limit is %(limit)s."),
    "programme": N_("The programme in %(language)s has %(count)s words; the limit is %(limit)s."),
}


def _locale_order(locale: str) -> tuple[int, str]:
    return (LOCALES.index(locale) if locale in LOCALES else len(LOCALES), locale)


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0x3400 <= code <= 0x4DBF  # CJK extension A
        or 0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= code <= 0xFAFF  # CJK compatibility ideographs
        or 0x20000 <= code <= 0x3134F  # CJK extensions B to G
    )


def _is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LNM"


def _joins(text: str, index: int) -> bool:
    """Whether the punctuation at ``index`` sits inside a word rather than between words."""
    char = text[index]
    following = text[index + 1] if index + 1 < len(text) else ""
    if char in "'’-‐":
        return bool(following) and _is_word_char(following) and not _is_cjk(following)
    if char in ".,":
        return text[index - 1].isdigit() and following.isdigit()
    return False

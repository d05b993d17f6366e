"""The dossier: word counts in every supported language and the completeness check."""

from __future__ import annotations

from dataclasses import replace

import pytest

from capital.domain.dossier import (
    BUDGET_RANGE_TITLES,
    THEME_TITLES,
    BudgetRange,
    DossierData,
    DossierLimits,
    Theme,
    check_dossier,
    word_count,
)
from capital.domain.localisation import LOCALES


def complete_dossier(**changes) -> DossierData:
    dossier = DossierData(
        title="Córdoba, city of three cultures",
        texts={"en": ("A day of encounters.", "Morning: open doors. Evening: concert.")},
        themes={Theme.INCLUSIVE, Theme.CONNECTIVE},
        expected_participants=5000,
        partners="UNESCO chair, interfaith council",
        budget_range=BudgetRange.FROM_50K_TO_100K,
        has_letter=True,
    )
    return replace(dossier, **changes)


def codes(problems):
    return [problem.code for problem in problems]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", 0),
        ("   \n\t ", 0),
        ("Living together in peace", 4),
        ("  Living   together,\nin peace!  ", 4),
        ("L'amitié entre les peuples, aujourd'hui et demain.", 7),
        ("L’amitié d’aujourd’hui", 2),  # typographic apostrophes
        ("le vivre-ensemble", 2),
        ("Zusammenleben in Frieden für alle Städte", 6),
        ("Жить вместе в мире", 4),
        ("Vivir juntos en paz — ¿por qué no?", 7),
        ("城市和平共处", 6),  # each ideograph counts
        ("和平 共处。", 4),
        ("我们 love 和平", 5),
        ("العيش معاً في سلام", 4),
        ("مَرْحَبًا بِكُمْ في المَدِينَة", 4),  # vowel marks stay inside their words
        ("10,000 participants on 16.05.2027", 4),
        ("- * / ...", 0),
        ("'quoted' and -dashed-", 3),
    ],
)
def test_word_count(text, words):
    assert word_count(text) == words


def test_a_complete_dossier_has_no_problem():
    assert check_dossier(complete_dossier(), DossierLimits()) == []
    assert check_dossier(complete_dossier()) == []


def test_an_empty_dossier_lists_every_missing_field_in_form_order():
    assert codes(check_dossier(DossierData())) == [
        "dossier.title.missing",
        "dossier.texts.missing",
        "dossier.themes.missing",
        "dossier.participants.missing",
        "dossier.budget.missing",
        "dossier.letter.missing",
    ]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"title": "   "}, "dossier.title.missing"),
        ({"texts": {}}, "dossier.texts.missing"),
        ({"texts": {"en": ("  ", "")}}, "dossier.texts.missing"),
        ({"themes": set()}, "dossier.themes.missing"),
        ({"expected_participants": None}, "dossier.participants.missing"),
        ({"expected_participants": 0}, "dossier.participants.invalid"),
        ({"expected_participants": -20}, "dossier.participants.invalid"),
        ({"budget_range": None}, "dossier.budget.missing"),
        ({"has_letter": False}, "dossier.letter.missing"),
    ],
)
def test_each_missing_field_is_its_own_problem(changes, code):
    assert codes(check_dossier(complete_dossier(**changes))) == [code]


def test_partners_are_optional():
    assert check_dossier(complete_dossier(partners="")) == []


def test_a_half_written_language_is_reported_with_its_language():
    dossier = complete_dossier(texts={"en": ("Summary.", "Programme."), "fr": ("Résumé.", ""), "zh": ("", "节目")})
    problems = check_dossier(dossier)
    assert [(p.code, p.params) for p in problems] == [
        ("dossier.programme.missing", {"language": "fr"}),
        ("dossier.summary.missing", {"language": "zh"}),
    ]


def test_one_language_is_enough_but_it_needs_both_texts():
    only_summaries = complete_dossier(texts={"en": ("Summary.", ""), "ar": ("", "برنامج")})
    assert codes(check_dossier(only_summaries)) == [
        "dossier.texts.missing",
        "dossier.programme.missing",
        "dossier.summary.missing",
    ]
    assert check_dossier(complete_dossier(texts={"zh": ("和平共处", "五月十六日庆祝活动")})) == []


def test_unsupported_languages_are_refused():
    problems = check_dossier(complete_dossier(texts={"en": ("S.", "P."), "xx": ("S.", "P.")}))
    assert [(p.code, p.params) for p in problems] == [("dossier.texts.unsupported_language", {"language": "xx"})]


def test_word_limits_apply_to_the_title_and_to_each_language():
    limits = DossierLimits(title=3, summary=5, programme=6)
    at_the_limit = complete_dossier(title="one two three", texts={"fr": ("un deux trois quatre cinq", "a b c d e f")})
    assert check_dossier(at_the_limit, limits) == []
    over = complete_dossier(
        title="one two three four",
        texts={"fr": ("un deux trois quatre cinq six", "a b c d e f"), "zh": ("和平", "一二三四五六七")},
    )
    problems = check_dossier(over, limits)
    assert [(p.code, p.params) for p in problems] == [
        ("dossier.title.too_long", {"count": 4, "limit": 3}),
        ("dossier.summary.too_long", {"language": "fr", "count": 6, "limit": 5}),
        ("dossier.programme.too_long", {"language": "zh", "count": 7, "limit": 6}),
    ]


def test_default_limits_and_their_stored_form():
    assert DossierLimits() == DossierLimits(title=20, summary=300, programme=1500)
    assert DossierLimits.from_dict(DossierLimits(5, 6, 7).to_dict()) == DossierLimits(5, 6, 7)
    assert DossierLimits.from_dict({"summary": 100, "future_key": 1}) == DossierLimits(summary=100)
    assert DossierLimits.from_dict(None) == DossierLimits()


@pytest.mark.parametrize("bad", [0, -1, 2.5, "20", True])
def test_limits_must_be_positive_integers(bad):
    with pytest.raises(ValueError):
        DossierLimits(title=bad)


def test_messages_are_marked_not_formatted():
    problem = check_dossier(complete_dossier(title="a b c"), DossierLimits(title=2))[0]
    assert problem.message == "The title has %(count)s words; the limit is %(limit)s."
    assert problem.message % problem.params == "The title has 3 words; the limit is 2."


def test_themes_budget_ranges_and_locales():
    assert [theme.name for theme in Theme] == ["COMMUNICATIVE", "HEALTHY", "RESILIENT", "CONNECTIVE", "INCLUSIVE"]
    assert set(THEME_TITLES) == set(Theme) and set(BUDGET_RANGE_TITLES) == set(BudgetRange)
    assert Theme.HEALTHY.title == "Healthy city"
    ranges = list(BudgetRange)
    assert ranges[0].bounds[0] == 0 and ranges[-1].bounds[1] is None
    assert all(low.bounds[1] == high.bounds[0] for low, high in zip(ranges, ranges[1:]))
    assert all(len(budget.value) <= 20 for budget in BudgetRange)  # the database column's width
    assert BudgetRange("10k_50k") is BudgetRange.FROM_10K_TO_50K
    assert LOCALES == ("en", "fr", "de", "es", "ar", "zh", "ru")

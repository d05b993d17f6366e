"""Criteria: their validation, the reader's-language fallback, the defaults and when they freeze."""

from __future__ import annotations

from decimal import Decimal

from capital.domain.criteria import (
    DEFAULT_CRITERIA, MAX_SCALE, CriterionSpec, CriterionText, criteria_editable, criterion_problems, localised,
)
from capital.domain.dossier import THEME_TITLES
from capital.domain.phase import Phase

FRENCH = CriterionText("fr", "Ville inclusive", "Chacun y a sa place.", "Absent", "Exemplaire")
GERMAN = CriterionText("de", "Inklusive Stadt", "Jeder gehört dazu.")


def codes(spec: CriterionSpec) -> list[str]:
    return [problem.code for problem in criterion_problems(spec)]


def test_a_criterion_in_one_language_on_the_default_scale_is_valid():
    spec = CriterionSpec((FRENCH,))
    assert (spec.scale_min, spec.scale_max, spec.weight) == (0, 5, Decimal(1))
    assert criterion_problems(spec) == []


def test_a_criterion_needs_a_name_in_every_language_it_is_written_in():
    assert codes(CriterionSpec(())) == ["criterion.no_text"]
    assert codes(CriterionSpec((FRENCH, CriterionText("de", "  ", "Beschreibung ohne Namen")))) == ["criterion.name"]


def test_languages_are_the_seven_and_each_given_once():
    assert codes(CriterionSpec((CriterionText("it", "Città inclusiva"),))) == ["criterion.locale"]
    assert codes(CriterionSpec((FRENCH, FRENCH))) == ["criterion.locale"]


def test_the_scale_runs_upwards_within_its_bounds():
    assert codes(CriterionSpec((FRENCH,), 0, 10)) == []
    assert codes(CriterionSpec((FRENCH,), 1, 4)) == []
    for low, high in ((5, 5), (3, 1), (-1, 5), (0, MAX_SCALE + 1)):
        assert codes(CriterionSpec((FRENCH,), low, high)) == ["criterion.scale"], (low, high)


def test_the_weight_is_a_positive_number_up_to_a_hundred():
    assert codes(CriterionSpec((FRENCH,), weight=Decimal("0.5"))) == []
    assert codes(CriterionSpec((FRENCH,), weight=Decimal(100))) == []
    for weight in (Decimal(0), Decimal(-1), Decimal("100.01"), "many", Decimal("NaN")):
        assert codes(CriterionSpec((FRENCH,), weight=weight)) == ["criterion.weight"], weight


def test_texts_have_length_limits():
    long = CriterionText("fr", "x" * 201, "y" * 2001, "z" * 101)
    assert sorted(codes(CriterionSpec((long,)))) == ["criterion.description", "criterion.low_label", "criterion.name"]


def test_readers_see_their_own_language_where_it_exists():
    shown = localised((FRENCH, GERMAN), "de")
    assert (shown.text.name, shown.lang, shown.is_own) == ("Inklusive Stadt", "de", True)


def test_otherwise_the_first_language_given_marked_as_not_theirs():
    shown = localised([GERMAN.to_dict(), FRENCH.to_dict()], "ar")
    assert (shown.text.name, shown.lang, shown.is_own) == ("Inklusive Stadt", "de", False)


def test_the_defaults_are_the_five_duesseldorf_themes_then_delivery_and_reach():
    names = [default.name for default in DEFAULT_CRITERIA]
    assert names[:5] == list(THEME_TITLES.values())
    assert names[5:] == ["Capacity to deliver the 16 May celebration", "Reach beyond the city"]
    assert all(criterion_problems(CriterionSpec((CriterionText("en", d.name, d.description, d.low_label,
                                                                d.high_label),))) == []
               for d in DEFAULT_CRITERIA)


def test_criteria_change_until_assessment_opens_and_never_after():
    assert [phase for phase in Phase if criteria_editable(phase)] == [
        Phase.DRAFT, Phase.NOMINATIONS_OPEN, Phase.NOMINATIONS_CLOSED]

"""Eligibility rules: each rule alone, all together, configuration and membership statuses."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from capital.domain.dossier import BudgetRange, DossierData, DossierLimits, Theme
from capital.domain.eligibility import EligibilityRules, NominationFacts, evaluate
from capital.domain.membership import (
    CITY_STATUS_TITLES,
    SIGNATURE_FORM_TITLES,
    CityStatus,
    SignatureForm,
    in_good_standing,
)

DOSSIER = DossierData(
    title="Montréal, vivre ensemble",
    texts={"fr": ("Une journée de rencontres.", "Matin : portes ouvertes. Soir : concert.")},
    themes={Theme.COMMUNICATIVE},
    expected_participants=1200,
    budget_range=BudgetRange.UNDER_10K,
    has_letter=True,
)
FACTS = NominationFacts(
    cycle_year=2027,
    nominating_city_status=CityStatus.MEMBER,
    host_city_status=CityStatus.MEMBER,
    other_active_nominations=0,
    host_capital_years=frozenset({2019}),
    dossier=DOSSIER,
)


def codes(decision):
    return [reason.code for reason in decision.reasons]


def test_an_eligible_nomination():
    decision = evaluate(FACTS, EligibilityRules())
    assert decision.ok and decision and decision.reasons == ()
    assert evaluate(FACTS).ok  # the default rules


@pytest.mark.parametrize(
    ("changes", "rule", "code"),
    [
        ({"nominating_city_status": CityStatus.SUSPENDED}, "nominator_in_good_standing",
         "eligibility.nominator_standing"),
        ({"nominating_city_status": CityStatus.APPLICANT}, "nominator_in_good_standing",
         "eligibility.nominator_standing"),
        ({"host_city_status": CityStatus.LEFT}, "host_in_good_standing", "eligibility.host_standing"),
        ({"other_active_nominations": 1}, "one_nomination_per_city", "eligibility.one_per_city"),
        ({"host_capital_years": frozenset({2026})}, "recent_capital_years", "eligibility.recent_capital"),
        ({"dossier": replace(DOSSIER, has_letter=False)}, "host_consent_letter", "eligibility.host_consent"),
        ({"dossier": replace(DOSSIER, themes=set())}, "dossier_complete", "dossier.themes.missing"),
    ],
)
def test_each_rule_fails_alone_and_can_be_disabled(changes, rule, code):
    facts = replace(FACTS, **changes)
    decision = evaluate(facts, EligibilityRules())
    assert not decision.ok and codes(decision) == [code]
    disabled = EligibilityRules(**{rule: 0 if rule == "recent_capital_years" else False})
    if rule == "host_consent_letter":
        # with the consent rule off, the letter is still part of a complete dossier
        assert codes(evaluate(facts, disabled)) == ["dossier.letter.missing"]
        assert evaluate(facts, replace(disabled, dossier_complete=False)).ok
    else:
        assert evaluate(facts, disabled).ok


@pytest.mark.parametrize(
    ("capital_years", "years", "blocked_by"),
    [
        ({2026}, 2, 2026),
        ({2025}, 2, 2025),
        ({2024}, 2, None),
        ({2025, 2026}, 2, 2026),
        ({2025}, 1, None),
        ({2026}, 1, 2026),
        ({2026}, 0, None),
        ({2020}, 10, 2020),
        ({2027}, 2, None),  # the cycle's own year is not "before"
        ({2030}, 2, None),
        (set(), 2, None),
    ],
)
def test_recent_capitals_wait_their_turn(capital_years, years, blocked_by):
    facts = replace(FACTS, host_capital_years=frozenset(capital_years))
    decision = evaluate(facts, EligibilityRules(recent_capital_years=years))
    if blocked_by is None:
        assert decision.ok
    else:
        (reason,) = decision.reasons
        assert reason.params == {"year": blocked_by, "next_year": blocked_by + years + 1}
        assert reason.message % reason.params == (
            f"The host city was Capital of Living Together in {blocked_by}; "
            f"it can be nominated again from {blocked_by + years + 1}."
        )


def test_every_unmet_rule_is_reported_in_order():
    facts = NominationFacts(
        cycle_year=2027,
        nominating_city_status=CityStatus.LEFT,
        host_city_status=CityStatus.APPLICANT,
        other_active_nominations=2,
        host_capital_years=frozenset({2025}),
        dossier=DossierData(),
    )
    assert codes(evaluate(facts, EligibilityRules())) == [
        "eligibility.nominator_standing",
        "eligibility.host_standing",
        "eligibility.one_per_city",
        "eligibility.recent_capital",
        "eligibility.host_consent",
        "dossier.title.missing",
        "dossier.texts.missing",
        "dossier.themes.missing",
        "dossier.participants.missing",
        "dossier.budget.missing",
    ]


def test_the_cycle_word_limits_apply():
    strict = EligibilityRules(dossier_limits=DossierLimits(title=2))
    assert codes(evaluate(FACTS, strict)) == ["dossier.title.too_long"]


def test_rules_round_trip_through_json():
    rules = EligibilityRules(
        one_nomination_per_city=False, recent_capital_years=5, dossier_limits=DossierLimits(summary=250)
    )
    stored = json.loads(json.dumps(rules.to_dict()))
    assert EligibilityRules.from_dict(stored) == rules
    assert stored["dossier_limits"] == {"title": 20, "summary": 250, "programme": 1500}


@pytest.mark.parametrize("stored", [None, {}, {"unknown_future_rule": True}])
def test_missing_or_unknown_keys_give_the_defaults(stored):
    assert EligibilityRules.from_dict(stored) == EligibilityRules()


def test_partial_configuration_keeps_the_other_defaults():
    rules = EligibilityRules.from_dict({"recent_capital_years": 0, "dossier_limits": {"programme": 800}})
    assert rules == EligibilityRules(recent_capital_years=0, dossier_limits=DossierLimits(programme=800))


@pytest.mark.parametrize(
    "stored",
    [{"recent_capital_years": -1}, {"recent_capital_years": "2"}, {"host_consent_letter": "yes"},
     {"dossier_limits": {"title": 0}}],
)
def test_wrong_values_are_refused(stored):
    with pytest.raises(ValueError):
        EligibilityRules.from_dict(stored)


def test_only_members_are_in_good_standing():
    assert [status for status in CityStatus if in_good_standing(status)] == [CityStatus.MEMBER]
    assert [status.value for status in CityStatus] == [1, 2, 3, 4]
    assert set(CITY_STATUS_TITLES) == set(CityStatus) and CityStatus.SUSPENDED.title == "Suspended"


def test_signature_forms():
    assert (SignatureForm.COMMITTED.value, SignatureForm.ACKNOWLEDGED.value) == (1, 2)
    assert set(SIGNATURE_FORM_TITLES) == set(SignatureForm)

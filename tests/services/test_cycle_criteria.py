"""A cycle's criteria: the defaults in every language, copied with the cycle, frozen once assessment opens."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from capital.domain.criteria import CriterionSpec, CriterionText, localised
from capital.domain.localisation import LOCALES
from capital.domain.messages import RuleViolation
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.models import AuditEntry
from capital.services.criteria import (
    add_criterion, cycle_criteria, move_criterion, remove_criterion, spec_of, update_criterion,
)
from capital.services.cycles import create_cycle

YEAR = 2031
NOW = datetime(2030, 6, 1, tzinfo=UTC)
LYON = CriterionSpec((CriterionText("fr", "Héritage", "Ce qui reste après le 16 mai.", "Rien", "Durable"),),
                     scale_min=1, scale_max=4, weight=Decimal("2.5"))


@pytest.fixture
def secretariat(make_user):
    return make_user(Role.SECRETARIAT)


def test_a_new_cycle_gets_the_seven_default_criteria_in_all_seven_languages(db, secretariat):
    cycle = create_cycle(YEAR, actor=secretariat, now=NOW)
    criteria = cycle_criteria(cycle)
    assert [localised(c.texts, "en").text.name for c in criteria] == [
        "Communicative city", "Healthy city", "Resilient city", "Connective city", "Inclusive city",
        "Capacity to deliver the 16 May celebration", "Reach beyond the city"]
    assert all([text["locale"] for text in c.texts] == list(LOCALES) for c in criteria)
    german = localised(criteria[4].texts, "de")
    assert german.is_own and german.text.name == "Inklusive Stadt"
    assert localised(criteria[0].texts, "ar").text.name != "Communicative city"
    assert {(c.scale_min, c.scale_max, c.weight) for c in criteria} == {(0, 5, Decimal(1))}


def test_a_copied_cycle_takes_the_criteria_as_they_were_edited(db, secretariat):
    previous = create_cycle(YEAR, actor=secretariat, now=NOW)
    first = cycle_criteria(previous)[0]
    add_criterion(previous, LYON, actor=secretariat, now=NOW)
    remove_criterion(first, actor=secretariat, now=NOW)
    db.session.commit()
    copied = create_cycle(YEAR + 1, copy_from=previous, actor=secretariat, now=NOW)
    db.session.commit()
    assert [spec_of(c) for c in cycle_criteria(copied)] == [spec_of(c) for c in cycle_criteria(previous)]
    assert spec_of(cycle_criteria(copied)[-1]) == LYON
    assert len(cycle_criteria(copied)) == 7


def test_the_secretariat_adds_moves_and_changes_a_criterion_and_each_change_is_recorded(db, secretariat):
    cycle = create_cycle(YEAR, actor=secretariat, now=NOW)
    added = add_criterion(cycle, LYON, actor=secretariat, now=NOW)
    move_criterion(added, -1, actor=secretariat, now=NOW)
    assert cycle_criteria(cycle)[-2].id == added.id
    german = CriterionSpec((*LYON.texts, CriterionText("de", "Vermächtnis")), 0, 5, Decimal(1))
    update_criterion(added, german, actor=secretariat, now=NOW)
    db.session.commit()
    assert spec_of(added) == german
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.cycle_id == cycle.id)
                                 .order_by(AuditEntry.id)).all()
    assert actions[-3:] == ["criterion.added", "criterion.moved", "criterion.updated"]


def test_an_invalid_criterion_is_refused_with_its_reasons(db, secretariat):
    cycle = create_cycle(YEAR, actor=secretariat, now=NOW)
    with pytest.raises(RuleViolation) as refused:
        add_criterion(cycle, CriterionSpec((CriterionText("fr", ""),), 3, 2, Decimal(0)), actor=secretariat, now=NOW)
    assert {r.code for r in refused.value.reasons} == {"criterion.name", "criterion.scale", "criterion.weight"}


@pytest.mark.parametrize("phase", [Phase.ASSESSMENT, Phase.ASSESSED, Phase.VOTING_OPEN, Phase.ANNOUNCED])
def test_criteria_are_frozen_once_assessment_has_opened(db, secretariat, make_cycle, phase):
    cycle = create_cycle(YEAR, actor=secretariat, now=NOW)
    criterion = cycle_criteria(cycle)[0]
    before = spec_of(criterion)
    cycle.phase = phase
    db.session.commit()
    for attempt in (lambda: add_criterion(cycle, LYON, actor=secretariat, now=NOW),
                    lambda: update_criterion(criterion, LYON, actor=secretariat, now=NOW),
                    lambda: remove_criterion(criterion, actor=secretariat, now=NOW),
                    lambda: move_criterion(criterion, 1, actor=secretariat, now=NOW)):
        with pytest.raises(RuleViolation) as refused:
            attempt()
        assert refused.value.reason.code == "criterion.frozen"
        db.session.rollback()
    assert spec_of(cycle_criteria(cycle)[0]) == before and len(cycle_criteria(cycle)) == 7


def test_the_default_texts_come_from_each_language_catalogue(app):
    with app.app_context(), force_locale("fr"):
        from capital.services.criteria import default_specs

        french = [next(t for t in spec.texts if t.locale == "fr") for spec in default_specs()]
    assert french[0].name == "Ville communicante"

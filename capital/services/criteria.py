"""A cycle's criteria: the defaults, copying them with the cycle, and the secretariat's edits.

The criteria are what every assessor scores against, so they are frozen once assessment
opens (:func:`capital.domain.criteria.criteria_editable`): every change here checks it on the
cycle's locked row. Functions take the ``actor`` and ``now``, flush, and leave the commit to
the caller.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from capital.domain.criteria import (
    DEFAULT_CRITERIA, FROZEN_MESSAGE, MAX_CRITERIA, TOO_MANY_MESSAGE, CriterionSpec, CriterionText,
    criteria_editable, criterion_problems,
)
from capital.domain.localisation import LOCALES
from capital.domain.messages import Message, RuleViolation
from capital.extensions import db
from capital.models import Criterion, Cycle
from capital.services.audit import Actor, record


def cycle_criteria(cycle: Cycle) -> list[Criterion]:
    """The cycle's criteria in their order."""
    return list(db.session.scalars(
        select(Criterion).where(Criterion.cycle_id == cycle.id).order_by(Criterion.position, Criterion.id)))


def default_specs() -> list[CriterionSpec]:
    """The default criteria, written out in each of the seven languages from the catalogues."""
    specs = []
    for default in DEFAULT_CRITERIA:
        texts = []
        for locale in LOCALES:
            with force_locale(locale):
                texts.append(CriterionText(locale, gettext(default.name), gettext(default.description),
                                           gettext(default.low_label), gettext(default.high_label)))
        specs.append(CriterionSpec(tuple(texts), weight=default.weight))
    return specs


def spec_of(criterion: Criterion) -> CriterionSpec:
    return CriterionSpec(tuple(CriterionText.from_dict(text) for text in criterion.texts),
                         criterion.scale_min, criterion.scale_max, criterion.weight)


def give_criteria(cycle: Cycle, copy_from: Cycle | None = None) -> list[Criterion]:
    """Give a new cycle ``copy_from``'s criteria, or the defaults when it has none (or there is none)."""
    specs = [spec_of(criterion) for criterion in cycle_criteria(copy_from)] if copy_from is not None else []
    created = [_new(cycle, spec, position) for position, spec in enumerate(specs or default_specs())]
    db.session.flush()
    return created


def add_criterion(cycle: Cycle, spec: CriterionSpec, *, actor: Actor, now: datetime) -> Criterion:
    """Add a criterion at the end of the list, or raise :class:`RuleViolation` and add nothing."""
    cycle = _editable(cycle)
    _check(spec)
    count = db.session.scalar(select(func.count(Criterion.id)).where(Criterion.cycle_id == cycle.id))
    if count >= MAX_CRITERIA:
        raise RuleViolation(Message(TOO_MANY_MESSAGE, {"max": MAX_CRITERIA}, "criterion.too_many"))
    position = db.session.scalar(select(func.max(Criterion.position)).where(Criterion.cycle_id == cycle.id))
    criterion = _new(cycle, spec, 0 if position is None else position + 1)
    db.session.flush()
    record("criterion.added", criterion, actor=actor, now=now, cycle_id=cycle.id, data=_data(spec))
    return criterion


def update_criterion(criterion: Criterion, spec: CriterionSpec, *, actor: Actor, now: datetime) -> Criterion:
    """Replace a criterion's texts, scale and weight, or raise :class:`RuleViolation`."""
    _editable(criterion.cycle)
    _check(spec)
    before = _data(spec_of(criterion))
    criterion.texts = spec.texts_data()
    criterion.scale_min, criterion.scale_max, criterion.weight = spec.scale_min, spec.scale_max, spec.weight
    db.session.flush()
    record("criterion.updated", criterion, actor=actor, now=now, cycle_id=criterion.cycle_id,
           data={"before": before, "after": _data(spec)})
    return criterion


def remove_criterion(criterion: Criterion, *, actor: Actor, now: datetime) -> None:
    """Remove a criterion, or raise :class:`RuleViolation` once the criteria are frozen."""
    _editable(criterion.cycle)
    record("criterion.removed", criterion, actor=actor, now=now, cycle_id=criterion.cycle_id,
           data=_data(spec_of(criterion)))
    db.session.delete(criterion)
    db.session.flush()


def move_criterion(criterion: Criterion, offset: int, *, actor: Actor, now: datetime) -> None:
    """Move a criterion ``offset`` places up (negative) or down the list."""
    cycle = _editable(criterion.cycle)
    ordered = cycle_criteria(cycle)
    index = ordered.index(criterion)
    target = max(0, min(len(ordered) - 1, index + offset))
    ordered.insert(target, ordered.pop(index))
    for position, item in enumerate(ordered):
        item.position = position
    db.session.flush()
    record("criterion.moved", criterion, actor=actor, now=now, cycle_id=cycle.id,
           data={"from_position": index, "to_position": target})


def _new(cycle: Cycle, spec: CriterionSpec, position: int) -> Criterion:
    criterion = Criterion(cycle_id=cycle.id, position=position, texts=spec.texts_data(),
                          scale_min=spec.scale_min, scale_max=spec.scale_max, weight=spec.weight)
    db.session.add(criterion)
    return criterion


def _editable(cycle: Cycle) -> Cycle:
    # The cycle's row is locked: a phase change waits for the edit, or the edit sees the new phase.
    cycle = db.session.get(Cycle, cycle.id, with_for_update=True, populate_existing=True)
    if not criteria_editable(cycle.phase):
        raise RuleViolation(Message(FROZEN_MESSAGE, {}, "criterion.frozen"))
    return cycle


def _check(spec: CriterionSpec) -> None:
    problems = criterion_problems(spec)
    if problems:
        raise RuleViolation(*problems)


def _data(spec: CriterionSpec) -> dict:
    return {"texts": spec.texts_data(), "scale": [spec.scale_min, spec.scale_max], "weight": str(spec.weight)}

"""Nominations: drafts, dossier files, submission, withdrawal, endorsements and review (docs/rules.md).

Every function takes the acting user and ``now``; the domain decides whether the action is
allowed (raising :class:`RuleViolation` with the reasons when not), the function persists it
and writes the audit log. The caller commits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from capital.domain import nominations as rules
from capital.domain import revisions
from capital.domain.dossier import BudgetRange, DossierData, Theme
from capital.domain.eligibility import EligibilityRules, NominationFacts, evaluate
from capital.domain.localisation import LOCALES
from capital.domain.membership import CityStatus
from capital.domain.messages import Decision, Message, N_, RuleViolation
from capital.domain.nominations import ACTIVE_STATES, NominationState
from capital.domain.phase import Phase, dossiers_visible
from capital.domain.publication import shortlist_is_public
from capital.domain.roles import Role
from capital.domain.shortlist import finalist_update_decision as finalist_update_decision_rule
from capital.extensions import db
from capital.models import (
    Attachment, City, Cycle, EligibilityDecision, Endorsement, Nomination, NominationRevision, NominationText, User,
)
from capital.services.audit import record
from capital.services import voting
from capital.services.cycles import cycle_timeline
from capital.services.dispatch import on_commit
from capital.services.mail import absolute_url, queue_mail
from capital.uploads import FileStore, check_file_name, check_image, check_pdf, safe_display_name

MAX_IMAGES = 6
# A 12-megapixel phone photo (4032 × 3024) fits. Decoding costs about 8 bytes a pixel at the peak
# (the pixels, their upright copy and the re-encoding): 16 megapixels stay near 130 MB, where 40
# grew a worker by 300–450 MB from a 117 KB file (tests/test_uploads.py measures it).
MAX_IMAGE_PIXELS = 16_000_000
# The saves a conflict lists by name; older ones are counted.
CONFLICT_SAVES_SHOWN = 10
# ``version=UNCHECKED``: a change that comes from no page (demo data, scripts), so has no version to compare.
UNCHECKED = object()
OPEN_PHASES = (Phase.NOMINATIONS_OPEN, Phase.NOMINATIONS_CLOSED, Phase.ASSESSMENT, Phase.ASSESSED,
               Phase.SHORTLIST_VOTING, Phase.SHORTLIST_COUNTED, Phase.SHORTLISTED, Phase.VOTING_OPEN,
               Phase.VOTING_CLOSED, Phase.TALLIED)


@dataclass
class DossierInput:
    """What the dossier form sends; every field optional while the nomination is a draft."""

    title: str = ""
    host_city_id: int | None = None
    texts: dict[str, tuple[str, str]] = field(default_factory=dict)
    themes: set[Theme] = field(default_factory=set)
    expected_participants: int | None = None
    partners: str = ""
    budget_range: BudgetRange | None = None


def file_store() -> FileStore:
    return FileStore(current_app.config["UPLOAD_DIR"])


def current_cycle() -> Cycle | None:
    """The cycle in progress (nominations open through tallied), the earliest if several."""
    return db.session.scalar(select(Cycle).where(Cycle.phase.in_(OPEN_PHASES)).order_by(Cycle.year).limit(1))


def eligible_hosts() -> list[City]:
    """The cities a nomination may name as host: members in good standing."""
    return list(db.session.scalars(select(City).where(City.status == CityStatus.MEMBER).order_by(City.name_latin)))


# --- reading ------------------------------------------------------------------------------

def dossier_of(nomination: Nomination) -> DossierData:
    return DossierData(
        title=nomination.title,
        texts={text.locale: (text.summary, text.programme) for text in nomination.texts},
        themes={Theme(value) for value in nomination.themes or []},
        expected_participants=nomination.expected_participants,
        partners=nomination.partners,
        budget_range=BudgetRange(nomination.budget_range) if nomination.budget_range else None,
        has_letter=letter_of(nomination) is not None,
    )


def letter_of(nomination: Nomination) -> Attachment | None:
    return next((item for item in nomination.attachments if item.kind == "letter"), None)


def images_of(nomination: Nomination) -> list[Attachment]:
    return [item for item in nomination.attachments if item.kind == "image"]


def facts_of(nomination: Nomination) -> NominationFacts:
    cycle = nomination.cycle
    others = db.session.scalar(
        select(func.count(Nomination.id)).where(
            Nomination.cycle_id == cycle.id,
            Nomination.nominating_city_id == nomination.nominating_city_id,
            Nomination.id != nomination.id,
            Nomination.state.in_(ACTIVE_STATES),
        )
    )
    capital_years = frozenset(db.session.scalars(
        select(Cycle.year).where(Cycle.capital_city_id == nomination.host_city_id, Cycle.phase == Phase.ANNOUNCED)
    ))
    return NominationFacts(
        cycle_year=cycle.year,
        nominating_city_status=nomination.nominating_city.status,
        host_city_status=nomination.host_city.status,
        other_active_nominations=others,
        host_capital_years=capital_years,
        dossier=dossier_of(nomination),
    )


def check_rules(nomination: Nomination) -> Decision:
    """Every rule of the cycle the nomination does not meet yet (shown before submission)."""
    return evaluate(facts_of(nomination), EligibilityRules.from_dict(nomination.cycle.rules))


def is_city_representative(user: User, city_id: int) -> bool:
    return user.has_role(Role.REPRESENTATIVE) and user.city_id == city_id


def can_view(user: User, nomination: Nomination) -> bool:
    """Who may read a dossier: its own city always; nobody else a draft; the secretariat and
    other member cities a submitted one; the board and the invited assessors the eligible ones
    once nominations close."""
    if is_city_representative(user, nomination.nominating_city_id):
        return True
    if nomination.state == NominationState.DRAFT:
        return False
    if user.has_role(Role.SECRETARIAT):
        return True
    if user.has_role(Role.BOARD, Role.ASSESSOR) and nomination.state == NominationState.ELIGIBLE \
            and dossiers_visible(nomination.cycle.phase):
        return True
    return user.has_role(Role.REPRESENTATIVE) and nomination.state in ACTIVE_STATES


def can_download(user: User, nomination: Nomination) -> bool:
    """Dossier files go to the nominating city, the secretariat and (eligible dossiers) the board
    and the invited assessors."""
    if is_city_representative(user, nomination.nominating_city_id):
        return True
    return can_view(user, nomination) and user.has_role(Role.SECRETARIAT, Role.BOARD, Role.ASSESSOR)


def snapshot_of(nomination: Nomination) -> dict:
    """The dossier as a flat snapshot of plain values (see :mod:`capital.domain.revisions`)."""
    texts = {text.locale: text for text in nomination.texts}
    snapshot = {
        "state": nomination.state.name,
        "host_city": nomination.host_city.name,
        "title": nomination.title,
        "themes": sorted(int(value) for value in nomination.themes or []),
        "expected_participants": nomination.expected_participants,
        "partners": nomination.partners,
        "budget_range": nomination.budget_range,
    }
    for locale in LOCALES:
        snapshot[f"summary_{locale}"] = texts[locale].summary if locale in texts else ""
        snapshot[f"programme_{locale}"] = texts[locale].programme if locale in texts else ""
    # A file is its name and its digest, so a new letter under the old name is a change too.
    letter = letter_of(nomination)
    snapshot["letter"] = [letter.filename, letter.sha256] if letter else None
    snapshot["images"] = [[image.filename, image.sha256] for image in images_of(nomination)]
    return snapshot


def snapshot_of_input(data: DossierInput) -> dict:
    """What a dossier form holds, as :func:`snapshot_of` writes it (the fields of the form only)."""
    host = db.session.get(City, data.host_city_id) if data.host_city_id is not None else None
    snapshot = {
        "host_city": host.name if host else None,
        "title": data.title.strip(),
        "themes": sorted(int(theme) for theme in data.themes),
        "expected_participants": data.expected_participants,
        "partners": data.partners.strip(),
        "budget_range": data.budget_range.value if data.budget_range else None,
    }
    for locale in LOCALES:
        summary, programme = (part.strip() for part in data.texts.get(locale, ("", "")))
        snapshot[f"summary_{locale}"], snapshot[f"programme_{locale}"] = summary, programme
    return snapshot


@dataclass(frozen=True)
class DossierConflict:
    """What changed in a dossier since the version a person started from.

    ``saves`` are the latest changes in between, oldest first (at most ``CONFLICT_SAVES_SHOWN``;
    ``earlier`` counts the others); ``changes`` is their net effect, ``field -> [before, after]``.
    """

    started_from: int | None
    current: int
    saves: list[NominationRevision]
    earlier: int
    changes: dict


def conflict_since(nomination: Nomination, started_from: int | None) -> DossierConflict:
    """Who changed the dossier after version ``started_from``, when, and what (an unreadable
    version counts as the one before the latest change)."""
    current = nomination.version
    since = started_from if started_from is not None and started_from < current else current - 1
    rows = list(db.session.scalars(
        select(NominationRevision).where(NominationRevision.nomination_id == nomination.id,
                                         NominationRevision.version > since)
        .order_by(NominationRevision.version)))
    shown = rows[-CONFLICT_SAVES_SHOWN:]
    return DossierConflict(started_from=started_from, current=current, saves=shown,
                           earlier=len(rows) - len(shown),
                           changes=revisions.changes_since(row.changes for row in rows))


# --- acting -------------------------------------------------------------------------------

def _enforce(decision: Decision) -> None:
    if not decision.ok:
        raise RuleViolation(*decision.reasons)


def _lock(nomination: Nomination) -> Nomination:
    """Reload the nomination locked, so two tabs or two people can't interleave changes."""
    return db.session.get(Nomination, nomination.id, with_for_update=True, populate_existing=True)


def _check_version(nomination: Nomination, version) -> None:
    """Refuse a change that started from another version than the locked nomination's."""
    if version is not UNCHECKED:
        revisions.check_version(version, nomination.version)


def _revise(nomination: Nomination, before: dict, *, actor: User, now: datetime) -> bool:
    """Record what changed since the snapshot ``before`` and move the version on; False when nothing did."""
    changes = revisions.diff(before, snapshot_of(nomination))
    if not changes:
        return False
    nomination.version += 1
    db.session.add(NominationRevision(nomination_id=nomination.id, version=nomination.version,
                                      saved_by_id=actor.id, saved_dt=now, changes=changes))
    return True


def start_decision(cycle: Cycle, city: City, now: datetime) -> Decision:
    """Whether ``city`` may start a nomination in ``cycle`` now (the page offers the button only then)."""
    active = db.session.scalar(select(func.count(Nomination.id)).where(
        Nomination.cycle_id == cycle.id, Nomination.nominating_city_id == city.id,
        Nomination.state.in_(ACTIVE_STATES))) > 0
    return rules.can_start(cycle.phase, cycle_timeline(cycle), now, nominator_status=city.status,
                           has_active_nomination=active)


def edit_decision(nomination: Nomination, now: datetime) -> Decision:
    return rules.can_edit(nomination.state, nomination.cycle.phase, cycle_timeline(nomination.cycle), now)


def submit_decision(nomination: Nomination, now: datetime) -> Decision:
    """Whether the nomination can be submitted now: the window, its state, and every rule of the cycle."""
    window = rules.can_submit(nomination.state, nomination.cycle.phase, cycle_timeline(nomination.cycle), now)
    if not window:
        return window
    return check_rules(nomination)


def withdraw_decision(nomination: Nomination, now: datetime) -> Decision:
    return rules.can_withdraw(nomination.state, nomination.cycle.phase, cycle_timeline(nomination.cycle), now)


def endorse_decision(nomination: Nomination, city: City, now: datetime) -> Decision:
    has_endorsed = db.session.scalar(
        select(func.count(Endorsement.id)).where(Endorsement.cycle_id == nomination.cycle_id,
                                                 Endorsement.city_id == city.id)) > 0
    return rules.can_endorse(
        nomination.state, nomination.cycle.phase, cycle_timeline(nomination.cycle), now,
        endorser_status=city.status, is_nominator=city.id == nomination.nominating_city_id,
        is_host=city.id == nomination.host_city_id, has_endorsed=has_endorsed,
    )


def start_nomination(cycle: Cycle, city: City, host: City, *, actor: User, now: datetime) -> Nomination:
    # One start at a time per city, so two tabs can't both pass the "already nominated" check.
    db.session.execute(select(City.id).where(City.id == city.id).with_for_update())
    _enforce(start_decision(cycle, city, now))
    nomination = Nomination(cycle_id=cycle.id, nominating_city_id=city.id, host_city_id=host.id,
                            created_by_id=actor.id, created_dt=now, updated_dt=now, themes=[])
    db.session.add(nomination)
    db.session.flush()
    record("nomination.started", nomination, actor=actor, now=now, cycle_id=cycle.id,
           data={"city": city.id, "host": host.id})
    return nomination


def save_dossier(nomination: Nomination, data: DossierInput, *, actor: User, now: datetime,
                 version=UNCHECKED) -> None:
    """Save the dossier; a submitted nomination must stay complete and within the rules.

    ``version`` is the one the person's form started from: if the dossier changed since, nothing
    is saved (:class:`~capital.domain.revisions.StaleVersion`; see :func:`conflict_since`).
    """
    nomination = _lock(nomination)
    _enforce(rules.can_edit(nomination.state, nomination.cycle.phase, cycle_timeline(nomination.cycle), now))
    _check_version(nomination, version)
    before = snapshot_of(nomination)
    if data.host_city_id is not None and data.host_city_id != nomination.host_city_id:
        host = db.session.get(City, data.host_city_id)
        if host is None:
            raise RuleViolation(Message(N_("Choose a host city from the list."), {}, "nomination.host_unknown"))
        nomination.host_city_id = host.id
        nomination.host_city = host
    nomination.title = data.title.strip()
    nomination.themes = sorted(int(theme) for theme in data.themes)
    nomination.expected_participants = data.expected_participants
    nomination.partners = data.partners.strip()
    nomination.budget_range = data.budget_range.value if data.budget_range else None
    existing = {text.locale: text for text in nomination.texts}
    for locale in LOCALES:
        summary, programme = (part.strip() for part in data.texts.get(locale, ("", "")))
        if summary or programme:
            text = existing.get(locale) or NominationText(locale=locale)
            text.summary, text.programme = summary, programme
            if locale not in existing:
                nomination.texts.append(text)
        elif locale in existing:
            nomination.texts.remove(existing[locale])
    nomination.updated_dt = now
    db.session.flush()
    if nomination.state == NominationState.SUBMITTED:
        _enforce(check_rules(nomination))
    _revise(nomination, before, actor=actor, now=now)
    record("nomination.saved", nomination, actor=actor, now=now, cycle_id=nomination.cycle_id)


def attach_file(nomination: Nomination, kind: str, filename: str, data: bytes, *, actor: User,
                now: datetime, version=UNCHECKED) -> Attachment:
    """Check and store the mayor's letter (replacing any earlier one) or an image (``version``: as
    :func:`save_dossier`)."""
    nomination = _lock(nomination)
    _enforce(rules.can_edit(nomination.state, nomination.cycle.phase, cycle_timeline(nomination.cycle), now))
    _check_version(nomination, version)
    before = snapshot_of(nomination)
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    check_file_name(filename)
    name = safe_display_name(filename, default="letter.pdf" if kind == "letter" else "image")
    if kind == "letter":
        info = check_pdf(data, max_bytes=limit)
        stored, content_type, sha256 = data, "application/pdf", info.sha256
        if not name.lower().endswith(".pdf"):
            name += ".pdf"
    else:
        if len(images_of(nomination)) >= MAX_IMAGES:
            raise RuleViolation(Message(N_("A dossier can hold at most %(count)s images."), {"count": MAX_IMAGES},
                                        "upload.too_many_images"))
        image = check_image(data, max_bytes=limit, max_pixels=MAX_IMAGE_PIXELS)
        stored, content_type = image.data, image.mime
        sha256 = hashlib.sha256(stored).hexdigest()
        name = name.rsplit(".", 1)[0] + "." + image.ext
    store = file_store()
    key = store.save(stored)
    if kind == "letter" and (previous := letter_of(nomination)) is not None:
        nomination.attachments.remove(previous)
        on_commit(lambda old=previous.storage_key: store.delete(old))
    attachment = Attachment(kind=kind, storage_key=key, filename=name, content_type=content_type,
                            size=len(stored), sha256=sha256, uploaded_by_id=actor.id, uploaded_dt=now)
    nomination.attachments.append(attachment)
    nomination.updated_dt = now
    db.session.flush()
    _revise(nomination, before, actor=actor, now=now)
    record("nomination.file_added", nomination, actor=actor, now=now, cycle_id=nomination.cycle_id,
           data={"kind": kind, "sha256": sha256, "size": len(stored)})
    return attachment


def update_of(nomination: Nomination) -> Attachment | None:
    return next((item for item in nomination.attachments if item.kind == "update"), None)


def finalist_update_decision(nomination: Nomination, now: datetime) -> Decision:
    """Whether ``nomination`` may receive its finalist's update now (capital.domain.shortlist)."""
    cycle = nomination.cycle
    is_finalist = shortlist_is_public(cycle, now) and nomination.id in (voting.finalists(cycle) or ())
    return finalist_update_decision_rule(is_finalist, cycle_timeline(cycle), now)


def attach_finalist_update(nomination: Nomination, filename: str, data: bytes, *, actor: User,
                           now: datetime) -> Attachment:
    """Store a finalist's updated dossier or presentation (a PDF, checked like the mayor's letter),
    replacing an earlier one; refused outside the window, and for a nomination not on the shortlist."""
    nomination = _lock(nomination)
    _enforce(finalist_update_decision(nomination, now))
    check_file_name(filename)
    info = check_pdf(data, max_bytes=current_app.config["MAX_UPLOAD_BYTES"])
    name = safe_display_name(filename, default="update.pdf")
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    store = file_store()
    key = store.save(data)
    if (previous := update_of(nomination)) is not None:
        nomination.attachments.remove(previous)
        on_commit(lambda old=previous.storage_key: store.delete(old))
    attachment = Attachment(kind="update", storage_key=key, filename=name, content_type="application/pdf",
                            size=len(data), sha256=info.sha256, uploaded_by_id=actor.id, uploaded_dt=now)
    nomination.attachments.append(attachment)
    nomination.updated_dt = now
    db.session.flush()
    record("nomination.file_added", nomination, actor=actor, now=now, cycle_id=nomination.cycle_id,
           data={"kind": "update", "sha256": info.sha256, "size": len(data)})
    return attachment


def remove_file(nomination: Nomination, attachment: Attachment, *, actor: User, now: datetime,
                version=UNCHECKED) -> None:
    """Remove a file of the dossier (``version``: as :func:`save_dossier`)."""
    nomination = _lock(nomination)
    _enforce(rules.can_edit(nomination.state, nomination.cycle.phase, cycle_timeline(nomination.cycle), now))
    _check_version(nomination, version)
    before = snapshot_of(nomination)
    if nomination.state == NominationState.SUBMITTED and attachment.kind == "letter":
        raise RuleViolation(Message(N_("A submitted nomination must keep its letter; upload a new one to replace it."),
                                    {}, "nomination.letter_required"))
    nomination.attachments.remove(attachment)
    nomination.updated_dt = now
    _revise(nomination, before, actor=actor, now=now)
    store = file_store()
    on_commit(lambda key=attachment.storage_key: store.delete(key))
    record("nomination.file_removed", nomination, actor=actor, now=now, cycle_id=nomination.cycle_id,
           data={"kind": attachment.kind, "sha256": attachment.sha256})


def submit_nomination(nomination: Nomination, *, actor: User, now: datetime, version=UNCHECKED) -> None:
    """Submit a complete draft; the server clock decides the deadline. Queues the receipt.

    ``version`` is the one the confirmation page showed: a dossier changed since is not submitted.
    """
    # One submission at a time per nominating city, so "one nomination per city" holds.
    db.session.execute(select(City.id).where(City.id == nomination.nominating_city_id).with_for_update())
    nomination = _lock(nomination)
    _enforce(rules.can_submit(nomination.state, nomination.cycle.phase, cycle_timeline(nomination.cycle), now))
    _check_version(nomination, version)
    _enforce(check_rules(nomination))
    before = snapshot_of(nomination)
    nomination.state = NominationState.SUBMITTED
    nomination.submitted_dt = now
    nomination.updated_dt = now
    _revise(nomination, before, actor=actor, now=now)
    record("nomination.submitted", nomination, actor=actor, now=now, cycle_id=nomination.cycle_id)
    _mail_city(nomination, "nomination_received", N_("Your nomination for %(year)s is received"), now,
               dedupe=f"nomination-{nomination.id}", extra={"submitted_dt": now})


def withdraw_nomination(nomination: Nomination, *, actor: User, now: datetime) -> None:
    nomination = _lock(nomination)
    _enforce(rules.can_withdraw(nomination.state, nomination.cycle.phase, cycle_timeline(nomination.cycle), now))
    before = snapshot_of(nomination)
    previous = nomination.state
    nomination.state = NominationState.WITHDRAWN
    nomination.withdrawn_dt = now
    nomination.updated_dt = now
    _revise(nomination, before, actor=actor, now=now)
    record("nomination.withdrawn", nomination, actor=actor, now=now, cycle_id=nomination.cycle_id,
           data={"from": previous.name})


def endorse_nomination(nomination: Nomination, city: City, *, actor: User, now: datetime) -> Endorsement:
    """One endorsement per member city per cycle (also enforced by a unique constraint)."""
    db.session.execute(select(City.id).where(City.id == city.id).with_for_update())
    _enforce(endorse_decision(nomination, city, now))
    endorsement = Endorsement(cycle_id=nomination.cycle_id, nomination_id=nomination.id, city_id=city.id,
                              user_id=actor.id, created_dt=now)
    db.session.add(endorsement)
    db.session.flush()
    record("nomination.endorsed", nomination, actor=actor, now=now, cycle_id=nomination.cycle_id,
           data={"city": city.id})
    return endorsement


def decide_eligibility(nomination: Nomination, *, eligible: bool, reason: str, actor: User,
                       now: datetime) -> EligibilityDecision:
    """The secretariat's decision, with the reason the city will read; the city is told by mail."""
    nomination = _lock(nomination)
    _enforce(rules.can_review(nomination.state, nomination.cycle.phase))
    reason = reason.strip()
    if not eligible and not reason:
        raise RuleViolation(Message(N_("Give the reason the nomination is not eligible."), {}, "review.reason_missing"))
    report = [{"code": item.code, "params": item.params} for item in check_rules(nomination).reasons]
    decision = EligibilityDecision(is_eligible=eligible, reason=reason, rule_report=report,
                                   decided_by_id=actor.id, decided_dt=now)
    nomination.decisions.append(decision)
    nomination.state = NominationState.ELIGIBLE if eligible else NominationState.INELIGIBLE
    nomination.updated_dt = now
    db.session.flush()
    record("nomination.eligible" if eligible else "nomination.ineligible", nomination, actor=actor, now=now,
           cycle_id=nomination.cycle_id, data={"reason": reason, "rules_unmet": [item["code"] for item in report]})
    _mail_city(nomination, "eligibility_decision",
               N_("Your nomination is eligible") if eligible else N_("Your nomination is not eligible"), now,
               dedupe=f"decision-{decision.id}", extra={"eligible": eligible, "reason": reason})
    return decision


def _mail_city(nomination: Nomination, kind: str, subject: str, now: datetime, *, dedupe: str, extra: dict) -> None:
    """Mail every representative of the nominating city, each in their language, and its contact."""
    city = nomination.nominating_city
    representatives = db.session.scalars(
        select(User).where(User.city_id == city.id, User.is_active_account.is_(True))
    ).all()
    recipients = {user.email: user.mail_language for user in representatives if user.has_role(Role.REPRESENTATIVE)}
    recipients.setdefault(city.contact_email, next(iter(recipients.values()), "en"))
    link = absolute_url("nominations.show", nomination_id=nomination.id)
    for email, locale in recipients.items():
        queue_mail(kind, recipient=email, locale=locale, now=now, cycle_id=nomination.cycle_id, city_id=city.id,
                   dedupe=dedupe, subject=subject,
                   context={"year": nomination.cycle.year, "title": nomination.title, "city": city.name,
                            "host": nomination.host_city.name, "link": link, **extra})

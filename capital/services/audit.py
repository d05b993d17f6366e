"""Recording state changes in the audit log, chained by hash, and checking the chain."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from sqlalchemy import Select, event, func, or_, select, text
from sqlalchemy.orm import Session

from capital.domain.audit_chain import FIELDS, GENESIS, Break, Summary, entry_hash, first_break
from capital.domain.messages import N_
from capital.extensions import db
from capital.models import AuditEntry, User

_UNCHAINED = "capital_audit_unchained"
# The PostgreSQL advisory lock that lets one transaction at a time append to the chain.
CHAIN_LOCK_KEY = 0x4341505F41554454  # "CAP_AUDT"

Actor = User | str  # a person, or the name of what acted: "worker", "cli", "system"

# What each recorded action is called on the history pages; a title may name the phases
# of a phase change (``old``, ``new``), which the page fills in from the entry's data.
ACTION_TITLES = {
    "account.deactivated": N_("Account deactivated"),
    "account.reactivated": N_("Account reactivated"),
    "account.settings_changed": N_("Personal settings changed"),
    "assessment.submitted": N_("Assessment submitted"),
    "board_term.added": N_("Board term added"),
    "city.created": N_("City added"),
    "city.updated": N_("City changed"),
    "city.signature_recorded": N_("Declaration signature recorded"),
    "criterion.added": N_("Criterion added"),
    "criterion.updated": N_("Criterion changed"),
    "criterion.removed": N_("Criterion removed"),
    "criterion.moved": N_("Criterion moved"),
    "cycle.archived": N_("Cycle added to the archive"),
    "cycle.created": N_("Cycle created"),
    "cycle.updated": N_("Timeline or rules changed"),
    "cycle.phase_changed": N_("Phase changed from “%(old)s” to “%(new)s”"),
    "cycle.nominations_opened": N_("Nominations opened"),
    "cycle.capital_designated": N_("Capital designated"),
    "cycle.runner_up_designated": N_("Runner-up designated"),
    "invitation.sent": N_("Invitation sent"),
    "mail.retried": N_("Failed mail queued again"),
    "mail.bodies_dropped": N_("Texts of old sent mail dropped (retention)"),
    "invitation.accepted": N_("Invitation accepted"),
    "invitation.revoked": N_("Invitation withdrawn"),
    "nomination.started": N_("Nomination started"),
    "nomination.saved": N_("Dossier saved"),
    "nomination.file_added": N_("File added to a dossier"),
    "nomination.file_removed": N_("File removed from a dossier"),
    "nomination.submitted": N_("Nomination submitted"),
    "nomination.withdrawn": N_("Nomination withdrawn"),
    "nomination.endorsed": N_("Nomination endorsed"),
    "nomination.eligible": N_("Nomination found eligible"),
    "nomination.ineligible": N_("Nomination found not eligible"),
    "password.reset": N_("Password changed"),
    "password_reset.requested": N_("Password reset requested"),
    "report.rapporteur_assigned": N_("Rapporteur of the jury report chosen"),
    "report.saved": N_("Draft of the jury report saved"),
    "role.granted": N_("Role granted"),
    "role.revoked": N_("Role taken away"),
    "voting.round_opened": N_("Voting round opened: roll frozen, tie-break drawn"),
    "voting.recused": N_("Board member stood aside (conflict of interest)"),
    "voting.voted": N_("Board member voted"),
    "voting.round_closed": N_("Voting round closed: ballots shuffled"),
    "voting.tallied": N_("Votes counted"),
    "subscriber.unsubscribed": N_("Unsubscribed from the announcements"),
    "second_factor.app_added": N_("Authenticator app set up"),
    "second_factor.app_replaced": N_("Authenticator app replaced"),
    "second_factor.app_removed": N_("Authenticator app removed"),
    "second_factor.passkey_added": N_("Passkey added"),
    "second_factor.passkey_renamed": N_("Passkey renamed"),
    "second_factor.passkey_removed": N_("Passkey removed"),
    "second_factor.recovery_codes_made": N_("New recovery codes made"),
    "second_factor.recovery_code_used": N_("Recovery code used to sign in"),
    "second_factor.reset": N_("Second factor reset by the secretariat"),
    "person.erased": N_("Personal data erased (name and addresses replaced by a pseudonym)"),
}


# Who acted when no person did, as the actor filter takes them.
AUTOMATIC_ACTORS = ("worker", "cli", "system")


def record(action: str, obj: Any, *, actor: Actor, now: datetime, cycle_id: int | None = None,
           data: dict | None = None) -> AuditEntry:
    """Add an audit entry saying ``actor`` did ``action`` to ``obj`` at ``now``.

    ``obj`` may be a proxy such as ``current_user``: the entry names the object behind it."""
    obj = obj._get_current_object() if hasattr(obj, "_get_current_object") else obj
    entry = AuditEntry(
        dt=now,
        action=action,
        object_type=type(obj).__name__,
        object_id=str(getattr(obj, "id", obj)),
        cycle_id=cycle_id,
        data=data or {},
    )
    if isinstance(actor, User):
        entry.actor_id = actor.id
    else:
        entry.actor_label = actor
    db.session.add(entry)
    db.session.info[_UNCHAINED] = True
    return entry


@event.listens_for(Session, "before_commit")
def _chain_on_commit(session: Session) -> None:
    if session.info.pop(_UNCHAINED, False):
        chain_pending(session)


def chain_pending(session: Session) -> int:
    """Give this transaction's new entries their place in the chain; returns how many.

    Runs just before commit, so the lock is held only for the end of the transaction. On
    PostgreSQL a transaction-level advisory lock serialises appenders (released at commit or
    rollback), and the chain head is read after taking it; SQLite has one writer at a time and
    this transaction already holds the write lock once its entries are flushed.
    """
    session.flush()
    if session.get_bind(AuditEntry.__mapper__).dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    head = session.execute(select(AuditEntry.seq, AuditEntry.entry_hash).where(AuditEntry.seq.is_not(None))
                           .order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq, prev = (head.seq, head.entry_hash) if head else (0, GENESIS)
    pending = session.scalars(select(AuditEntry).where(AuditEntry.seq.is_(None)).order_by(AuditEntry.id)).all()
    for entry in pending:
        seq += 1
        entry.seq, entry.prev_hash = seq, prev
        entry.entry_hash = prev = entry_hash({name: getattr(entry, name) for name in FIELDS}, prev)
    session.flush()
    return len(pending)


def chain_head_at(moment: datetime) -> str | None:
    """The hash of the audit chain's last entry recorded at or before ``moment`` (None: none yet)."""
    return db.session.scalar(select(AuditEntry.entry_hash).where(AuditEntry.seq.is_not(None), AuditEntry.dt <= moment)
                             .order_by(AuditEntry.seq.desc()).limit(1))


def verify_chain() -> Break | Summary:
    """Check the whole audit log: the first :class:`Break` in its hash chain, or a :class:`Summary`."""
    columns = [getattr(AuditEntry, name) for name in (*FIELDS, "prev_hash", "entry_hash")]
    # Unchained entries (no seq) come last, where first_break reports them.
    query = select(*columns).order_by(AuditEntry.seq.is_(None), AuditEntry.seq, AuditEntry.id)
    rows = db.session.execute(query.execution_options(yield_per=1000))
    try:
        return first_break(dict(row) for row in rows.mappings())
    finally:
        rows.close()  # the walk may stop early, before the server-side cursor is exhausted


# --- reading the log ------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditFilter:
    """Which entries a reader of the log asks for; every part left empty matches everything."""

    actor: str = ""  # part of a person's name, their whole address, or one of AUTOMATIC_ACTORS
    action: str = ""
    cycle_id: int | None = None
    since: datetime | None = None  # included
    until: datetime | None = None  # excluded


def filtered_entries(filters: AuditFilter) -> Select:
    """The entries ``filters`` asks for, as a statement the caller orders and pages."""
    statement = select(AuditEntry)
    needle = filters.actor.strip().lower()
    if needle in AUTOMATIC_ACTORS:
        statement = statement.where(AuditEntry.actor_label == needle)
    elif needle:
        people = select(User.id).where(or_(func.lower(User.email) == needle,
                                           func.lower(User.name).contains(needle, autoescape=True)))
        statement = statement.where(AuditEntry.actor_id.in_(people))
    if filters.action:
        statement = statement.where(AuditEntry.action == filters.action)
    if filters.cycle_id is not None:
        statement = statement.where(AuditEntry.cycle_id == filters.cycle_id)
    if filters.since is not None:
        statement = statement.where(AuditEntry.dt >= filters.since)
    if filters.until is not None:
        statement = statement.where(AuditEntry.dt < filters.until)
    return statement


# The columns of an export, in order: the hashed fields, who the actor is, and the chain's hashes, so
# that anyone holding a whole export can check the chain with capital.domain.audit_chain.
EXPORT_COLUMNS = ("seq", "id", "dt", "actor_id", "actor_label", "actor_name", "action", "object_type", "object_id",
                  "cycle_id", "data", "prev_hash", "entry_hash")


def export_rows(filters: AuditFilter) -> Iterator[dict]:
    """The entries ``filters`` asks for, in the chain's order, as plain values (``dt`` in ISO 8601 UTC)."""
    entries = filtered_entries(filters).subquery()
    query = (select(entries, User.name.label("actor_name")).outerjoin(User, User.id == entries.c.actor_id)
             .order_by(entries.c.seq.is_(None), entries.c.seq, entries.c.id))
    rows = db.session.execute(query.execution_options(yield_per=1000))
    try:
        for row in rows.mappings():
            values = {name: row[name] for name in EXPORT_COLUMNS}
            values["dt"] = values["dt"].isoformat()
            values["actor_name"] = values["actor_name"] or ""
            yield values
    finally:
        rows.close()


def export_json_lines(filters: AuditFilter) -> Iterator[str]:
    """The export as JSON lines: one object per entry."""
    for values in export_rows(filters):
        yield json.dumps(values, ensure_ascii=False, separators=(",", ":")) + "\n"


# A cell a spreadsheet would run as a formula (CWE-1236) is kept as text by a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    value = str(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def export_csv(filters: AuditFilter) -> Iterator[str]:
    """The export as CSV (UTF-8, a header line, ``data`` as JSON text), a line at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield line(EXPORT_COLUMNS)
    for values in export_rows(filters):
        yield line(_cell(values[name]) for name in EXPORT_COLUMNS)

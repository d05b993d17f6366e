"""Recording state changes in the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from capital.domain.messages import N_
from capital.extensions import db
from capital.models import AuditEntry, User

Actor = User | str  # a person, or the name of what acted: "worker", "cli", "system"

# What each recorded action is called on the history pages; a title may name the phases
# of a phase change (``old``, ``new``), which the page fills in from the entry's data.
ACTION_TITLES = {
    "account.deactivated": N_("Account deactivated"),
    "account.reactivated": N_("Account reactivated"),
    "account.settings_changed": N_("Personal settings changed"),
    "board_term.added": N_("Board term added"),
    "city.created": N_("City added"),
    "city.updated": N_("City changed"),
    "city.signature_recorded": N_("Declaration signature recorded"),
    "cycle.archived": N_("Cycle added to the archive"),
    "cycle.created": N_("Cycle created"),
    "cycle.updated": N_("Timeline or rules changed"),
    "cycle.phase_changed": N_("Phase changed from “%(old)s” to “%(new)s”"),
    "cycle.nominations_opened": N_("Nominations opened"),
    "cycle.capital_designated": N_("Capital designated"),
    "cycle.runner_up_designated": N_("Runner-up designated"),
    "invitation.sent": N_("Invitation sent"),
    "mail.retried": N_("Failed mail queued again"),
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
    "role.granted": N_("Role granted"),
    "role.revoked": N_("Role taken away"),
    "voting.round_opened": N_("Voting round opened: roll frozen, tie-break drawn"),
    "voting.recused": N_("Board member stood aside (conflict of interest)"),
    "voting.voted": N_("Board member voted"),
    "voting.round_closed": N_("Voting round closed: ballots shuffled"),
    "voting.tallied": N_("Votes counted"),
    "subscriber.unsubscribed": N_("Unsubscribed from the announcements"),
}


def record(action: str, obj: Any, *, actor: Actor, now: datetime, cycle_id: int | None = None,
           data: dict | None = None) -> AuditEntry:
    """Add an audit entry saying ``actor`` did ``action`` to ``obj`` at ``now``."""
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
    return entry

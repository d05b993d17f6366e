"""A designation cycle: one 16 May celebration, its timeline and its rules (docs/cycle.md)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from capital.domain.phase import Phase
from capital.extensions import db
from capital.models.types import IntEnumType, UTCDateTime, enum_check, utcnow

from capital.voting import METHODS

# The final vote's methods: every ranked method (approval counts the shortlist, never the final vote).
TALLY_METHODS = tuple(method for method in METHODS if method != "approval")
NOMINATION_REMINDER_DAYS = (14, 3, 1)


class Cycle(db.Model):
    __tablename__ = "cycles"
    __table_args__ = (
        enum_check("phase", Phase),
        CheckConstraint("quorum_share > 0 AND quorum_share <= 1", name="quorum_share_range"),
        CheckConstraint(f"method IN ({', '.join(repr(method) for method in TALLY_METHODS)})", name="known_method"),
        CheckConstraint("max_rounds >= 1", name="max_rounds_positive"),
        CheckConstraint("shortlist_size >= 0", name="shortlist_size_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)  # the year of the 16 May celebration
    celebration_date: Mapped[date]
    title: Mapped[str] = mapped_column(String(200), default="")
    is_biennial: Mapped[bool] = mapped_column(default=False)
    phase: Mapped[Phase] = mapped_column(IntEnumType(Phase), default=Phase.DRAFT, index=True)
    phase_changed_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    nominations_open_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    nominations_close_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_open_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_close_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    announcement_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The optional stages' deadlines (capital.domain.timeline.STAGE_FIELDS): set exactly when
    # the cycle holds the stage.
    assessment_open_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assessment_close_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shortlist_open_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shortlist_close_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shortlist_publication_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finalist_update_close_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    method: Mapped[str] = mapped_column(String(20), default="schulze")
    quorum_share: Mapped[Decimal] = mapped_column(Numeric(4, 3), default=Decimal("0.5"))
    max_rounds: Mapped[int] = mapped_column(default=2)
    is_secret: Mapped[bool] = mapped_column(default=True)
    allows_ballot_replacement: Mapped[bool] = mapped_column(default=False)
    requires_recusal: Mapped[bool] = mapped_column(default=True)
    # A stored row without these is a cycle without the stages (as every cycle before them);
    # new cycles get them on by default from capital.services.cycles.CycleSettings.
    has_assessment: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    shortlist_size: Mapped[int] = mapped_column(default=0, server_default="0")  # 0: no shortlist
    # Eligibility rules and dossier limits, as capital.domain.eligibility stores them.
    rules: Mapped[dict] = mapped_column(JSON, default=dict)
    # Days before the nomination deadline on which cities that have not submitted are reminded,
    # and the reminders already written (so a tick writes each round once).
    nomination_reminder_days: Mapped[list] = mapped_column(JSON, default=lambda: list(NOMINATION_REMINDER_DAYS))
    nomination_reminders_done: Mapped[list] = mapped_column(JSON, default=list)

    capital_city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id", ondelete="RESTRICT"))
    # Why no capital was designated (capital.services.voting.NO_CAPITAL_REASONS), once it is so.
    no_capital_reason: Mapped[str | None] = mapped_column(String(40))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    capital_city = relationship("City", foreign_keys=[capital_city_id])
    rounds: Mapped[list[VotingRound]] = relationship(
        back_populates="cycle", order_by="VotingRound.number", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Cycle {self.year} {self.phase.name}>"


class VotingRound(db.Model):
    """One round of the board vote; a second round follows when quorum is not met."""

    __tablename__ = "voting_rounds"
    __table_args__ = (db.UniqueConstraint("cycle_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(default=1)  # the final vote's rounds from 1; the shortlist vote is 0
    # The board's approval vote for the shortlist (docs/vote.md), with the same roll, receipts and secrecy.
    is_shortlist: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    opens_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    # Drawn and published when voting opens; the tally breaks ties by it and nothing else.
    tie_break_order: Mapped[list] = mapped_column(JSON, default=list)  # nomination ids, most favoured first
    tie_break_seed: Mapped[str] = mapped_column(String(64), default="")  # the order follows from it alone
    # The voter roll frozen when the round opened: board members' user ids.
    roll: Mapped[list] = mapped_column(JSON, default=list)
    closed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    cycle: Mapped[Cycle] = relationship(back_populates="rounds")

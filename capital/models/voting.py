"""The board vote: participation, ballots, recusals and results (docs/vote.md).

In secret mode *who voted* (:class:`Participation`) and *what was voted* (:class:`Ballot`)
live in separate tables with nothing to join them: ballots have random ids, no voter
column and no timestamp, so neither order nor time links a ballot to a participation.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from capital.extensions import db
from capital.models.types import UTCDateTime, utcnow


def _random_id() -> str:
    return uuid.uuid4().hex


class Participation(db.Model):
    __tablename__ = "participations"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("voting_rounds.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    voted_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Ballot(db.Model):
    __tablename__ = "ballots"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_random_id)
    round_id: Mapped[int] = mapped_column(ForeignKey("voting_rounds.id", ondelete="CASCADE"), index=True)
    # Published beside the ballot after the announcement so each voter can check it.
    receipt_code: Mapped[str] = mapped_column(String(32), unique=True)
    # A list of lists of nomination ids, best first; ties share a list.
    ranking: Mapped[list] = mapped_column(JSON)
    # Only in open (non-secret) mode does a ballot name its voter.
    voter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Lets a voter replace their ballot (when the cycle allows it) without a stored link:
    # only the voter holds the secret whose hash this is.
    replacement_hash: Mapped[str | None] = mapped_column(String(64))


class Recusal(db.Model):
    """A board member's declared conflict of interest for a cycle."""

    __tablename__ = "recusals"
    __table_args__ = (UniqueConstraint("cycle_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text, default="")
    is_automatic: Mapped[bool] = mapped_column(default=False)
    declared_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Result(db.Model):
    """A round's tally, kept whole so anyone can check it against the published ballots."""

    __tablename__ = "results"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("voting_rounds.id", ondelete="CASCADE"), unique=True)
    method: Mapped[str] = mapped_column(String(20))
    winner_nomination_id: Mapped[int | None] = mapped_column(ForeignKey("nominations.id", ondelete="SET NULL"))
    tally: Mapped[dict] = mapped_column(JSON)  # capital.voting Result.to_dict()
    eligible_voters: Mapped[int]
    ballots_cast: Mapped[int]
    is_quorum_met: Mapped[bool]
    checksum: Mapped[str] = mapped_column(String(64))  # sha256 of the published ballot file
    ballot_file: Mapped[str] = mapped_column(Text, default="")  # the ballot file counted, byte for byte
    tallied_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    round = relationship("VotingRound")


class Designation(db.Model):
    """A city designated capital by a cycle: the announced winner, then any runner-up that
    replaced a designated city that withdrew (with the secretariat's public reason)."""

    __tablename__ = "designations"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id", ondelete="CASCADE"))
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="RESTRICT"))
    is_runner_up: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    designated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    designated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    nomination = relationship("Nomination")
    city = relationship("City")

"""Member cities and their signatures of the Düsseldorf Declaration (docs/roles.md)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from capital.domain.membership import CityStatus, SignatureForm
from capital.extensions import db
from capital.models.types import IntEnumType, UTCDateTime, enum_check, utcnow


class City(db.Model):
    __tablename__ = "cities"
    __table_args__ = (enum_check("status", CityStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The name as the city writes it, and a Latin transliteration for sorting and search.
    name: Mapped[str] = mapped_column(String(200))
    name_latin: Mapped[str] = mapped_column(String(200), index=True)
    country_code: Mapped[str] = mapped_column(String(2), index=True)  # ISO 3166-1 alpha-2
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name, e.g. Europe/Berlin
    contact_email: Mapped[str] = mapped_column(String(254))
    population: Mapped[int | None]
    logo_key: Mapped[str | None] = mapped_column(String(100))  # key in the file store
    # Where the city is, in decimal degrees (WGS 84), for the archive's map.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    status: Mapped[CityStatus] = mapped_column(IntEnumType(CityStatus), default=CityStatus.APPLICANT, index=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    signatures: Mapped[list[DeclarationSignature]] = relationship(
        back_populates="city", order_by="DeclarationSignature.signed_on", cascade="all, delete-orphan"
    )

    @property
    def latest_signature(self) -> DeclarationSignature | None:
        return self.signatures[-1] if self.signatures else None

    def __repr__(self) -> str:
        return f"<City {self.id} {self.name_latin}>"


class DeclarationSignature(db.Model):
    """A signature of the Declaration: the mayor's commitment or a representative's acknowledgement."""

    __tablename__ = "declaration_signatures"
    __table_args__ = (enum_check("form", SignatureForm),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"), index=True)
    form: Mapped[SignatureForm] = mapped_column(IntEnumType(SignatureForm))
    signed_on: Mapped[date]
    signatory_name: Mapped[str] = mapped_column(String(200))
    signatory_title: Mapped[str] = mapped_column(String(200), default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")

    city: Mapped[City] = relationship(back_populates="signatures")

"""Member cities: their profile, their status and their signatures of the Declaration (docs/roles.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import cache

from babel import Locale

from capital.domain.localisation import is_timezone
from capital.domain.membership import CityStatus, SignatureForm
from capital.domain.messages import Message, N_, RuleViolation
from capital.extensions import db
from capital.models import City, DeclarationSignature
from capital.services.audit import Actor, record

# Babel's territories include groupings and placeholders that are not countries.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


@cache
def country_codes() -> frozenset[str]:
    """The ISO 3166-1 alpha-2 codes Babel knows as countries or territories."""
    return frozenset(code for code in Locale("en").territories
                     if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES)


def is_country_code(code: str) -> bool:
    return code in country_codes()


@dataclass(frozen=True)
class CityProfile:
    """What the secretariat enters about a city."""

    name: str
    name_latin: str
    country_code: str
    timezone: str
    contact_email: str
    population: int | None = None
    status: CityStatus = CityStatus.APPLICANT

    def problems(self) -> list[Message]:
        found = []
        if not is_country_code(self.country_code):
            found.append(Message(N_("This is not a known country code."), {}, "city.country_code"))
        if not is_timezone(self.timezone):
            found.append(Message(N_("This is not a known time zone."), {}, "city.timezone"))
        if self.population is not None and self.population < 0:
            found.append(Message(N_("The population can't be negative."), {}, "city.population"))
        return found


def create_city(profile: CityProfile, *, actor: Actor, now: datetime) -> City:
    """A new city with ``profile``, or :class:`RuleViolation` with every problem."""
    _enforce(profile)
    city = City(created_dt=now)
    _apply(city, profile)
    db.session.add(city)
    db.session.flush()
    record("city.created", city, actor=actor, now=now, data=_profile_data(profile))
    return city


def update_city(city: City, profile: CityProfile, *, actor: Actor, now: datetime) -> City:
    """Change the city's profile and status, or raise :class:`RuleViolation` and change nothing."""
    _enforce(profile)
    before = _profile_data(profile_of(city))
    _apply(city, profile)
    after = _profile_data(profile_of(city))
    changes = {name: [before[name], value] for name, value in after.items() if before[name] != value}
    if changes:
        db.session.flush()
        record("city.updated", city, actor=actor, now=now, data={"changes": changes})
    return city


def profile_of(city: City) -> CityProfile:
    return CityProfile(name=city.name, name_latin=city.name_latin, country_code=city.country_code,
                       timezone=city.timezone, contact_email=city.contact_email, population=city.population,
                       status=city.status)


def record_signature(city: City, *, form: SignatureForm, signed_on: date, signatory_name: str,
                     signatory_title: str = "", place: str = "", actor: Actor, now: datetime) -> DeclarationSignature:
    """Record that ``city`` signed the Declaration on ``signed_on`` (not in the future)."""
    if signed_on > now.date():
        raise RuleViolation(Message(N_("The signature date can't be in the future."), {}, "signature.future"))
    signature = DeclarationSignature(form=form, signed_on=signed_on, signatory_name=signatory_name.strip(),
                                     signatory_title=signatory_title.strip(), place=place.strip())
    city.signatures.append(signature)
    db.session.flush()
    record("city.signature_recorded", city, actor=actor, now=now,
           data={"signature_id": signature.id, "form": form.name, "signed_on": signed_on.isoformat(),
                 "signatory": signature.signatory_name})
    return signature


def _enforce(profile: CityProfile) -> None:
    problems = profile.problems()
    if problems:
        raise RuleViolation(*problems)


def _apply(city: City, profile: CityProfile) -> None:
    city.name = profile.name.strip()
    city.name_latin = profile.name_latin.strip() or city.name
    city.country_code = profile.country_code
    city.timezone = profile.timezone
    city.contact_email = profile.contact_email.strip().lower()
    city.population = profile.population
    city.status = profile.status


def _profile_data(profile: CityProfile) -> dict:
    data = asdict(profile)
    data["status"] = profile.status.name
    return data

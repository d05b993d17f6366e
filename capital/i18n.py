"""Locale and time zone selection, and the helpers templates use to show dates."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel import dates as babel_dates
from babel.dates import get_timezone_location
from babel.numbers import format_percent
from babel.units import format_unit
from flask import current_app, g, request, session
from flask_babel import format_date, format_decimal, format_time, get_locale, get_timezone, gettext as _, lazy_gettext as _l  # noqa: F401
from flask_login import current_user

from capital.domain.criteria import Localised, localised
from capital.domain.localisation import LOCALES, RTL_LOCALES, is_timezone
from capital.domain.report import reader_language
from capital.extensions import babel
from capital.forms import error_links

# Each language's name in itself, for the switcher.
LANGUAGE_NAMES = {
    "en": "English",
    "fr": "Français",
    "de": "Deutsch",
    "es": "Español",
    "ar": "العربية",
    "zh": "中文",
    "ru": "Русский",
}


def select_locale() -> str:
    """The user's saved choice, then this session's choice, then the browser's preference."""
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    """The user's time zone, then their city's, then UTC."""
    if current_user and current_user.is_authenticated:
        for name in (current_user.timezone, current_user.city.timezone if current_user.city else None):
            if name and is_timezone(name):
                return name
    return "UTC"


def text_direction() -> str:
    return "rtl" if str(get_locale()) in RTL_LOCALES else "ltr"


@contextmanager
def force_timezone(name: str):
    """Show dates in ``name`` inside the block (a mail is dated in its recipient's zone)."""
    saved = g.get("forced_timezone")
    g.forced_timezone = ZoneInfo(name if is_timezone(name) else "UTC")
    try:
        yield
    finally:
        g.forced_timezone = saved


def format_dt_with_offset(value: datetime | None, format: str = "medium") -> str:
    """A moment as people read a deadline: "16 January 2027, 13:00 Düsseldorf time (CET, UTC+01:00)".

    In the reader's language and time zone, without seconds; the place is the reader's city when
    the zone is its zone, else the zone's main city as CLDR names it in the reader's language.
    ``format`` is kept for callers that name one; every date-and-time goes through here.
    """
    if value is None:
        return ""
    zone = g.get("forced_timezone") or get_timezone()  # a mail: the recipient's zone
    local = value.astimezone(zone)
    locale = get_locale()
    if locale.language == "en" and not locale.territory:
        locale = Locale("en", "GB")  # international English: "16 January 2027, 13:00"
    pattern = str(locale.datetime_formats["medium"]).format(locale.time_formats["short"].pattern,
                                                            locale.date_formats["long"].pattern)
    when = babel_dates.format_datetime(local, pattern, tzinfo=zone, locale=locale)
    place, label = _place(zone), _zone_label(local)
    if str(get_locale()) in RTL_LOCALES:  # keep Latin names and offsets whole inside right-to-left text
        place, label = f"\u2068{place}\u2069", f"\u2068{label}\u2069"
    return _("%(datetime)s %(place)s time (%(zone)s)", datetime=when, place=place, zone=label)


def _place(zone) -> str:
    city = current_user.city if current_user and current_user.is_authenticated else None
    if city is not None and city.timezone == str(zone):
        return city.name
    if str(zone) in ("UTC", "Etc/UTC"):
        return "UTC"
    return get_timezone_location(zone, locale=get_locale(), return_city=True)


def _zone_label(local: datetime) -> str:
    offset = local.strftime("%z")
    utc = f"UTC{offset[:3]}:{offset[3:]}"
    abbreviation = local.strftime("%Z")
    return f"{abbreviation}, {utc}" if abbreviation.isalpha() and abbreviation != "UTC" else utc


def zone_name(name: str) -> str:
    """A time zone as CLDR names it in the reader's language ("Germany Time", "Heure : Allemagne")."""
    try:
        return get_timezone_location(ZoneInfo(name), locale=get_locale())
    except (ZoneInfoNotFoundError, ValueError, LookupError):
        return name


# CLDR region codes naming the groups of the time-zone picker (oceans join the nearest continent).
_ZONE_REGIONS = {"Europe": "150", "Atlantic": "150", "Arctic": "150", "Africa": "002", "Indian": "002",
                 "America": "019", "Asia": "142", "Australia": "009", "Pacific": "009", "Antarctica": "AQ"}
# Offered first, before the long lists: the zones of most member cities.
COMMON_ZONES = ("UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Moscow",
                "Africa/Cairo", "Africa/Lagos", "Asia/Dubai", "Asia/Riyadh", "Asia/Shanghai", "Asia/Tokyo",
                "America/New_York", "America/Mexico_City", "America/Sao_Paulo")


def timezone_choices(names, *, first: tuple[str, ...] = ()) -> dict[str, list[tuple[str, str]]]:
    """The time zones among ``names`` for a picker: grouped by region, named in the reader's language.

    Common zones (and ``first``) come first; technical entries (``Factory``, ``Etc/GMT+5``, old
    aliases without a region) are left out. The values stay IANA names.
    """
    locale = get_locale()
    return _timezone_choices(str(locale), tuple(sorted(names)), first)


@lru_cache(maxsize=32)
def _timezone_choices(locale: str, names: tuple[str, ...], first: tuple[str, ...]):
    known = set(names)
    label = {name: _zone_label_for(name, locale) for name in names
             if name == "UTC" or name.split("/", 1)[0] in _ZONE_REGIONS}
    common = [name for name in dict.fromkeys((*first, *COMMON_ZONES)) if name in known and name in label]
    groups: dict[str, list[tuple[str, str]]] = {_("Frequently used"): [(name, label[name]) for name in common]}
    regions = Locale.parse(locale).territories
    for name in sorted(label, key=lambda item: label[item].casefold()):
        if name != "UTC":
            groups.setdefault(regions[_ZONE_REGIONS[name.split("/", 1)[0]]], []).append((name, label[name]))
    return groups


def _zone_label_for(name: str, locale: str) -> str:
    if name == "UTC":
        return _("Coordinated Universal Time (UTC)")
    return get_timezone_location(ZoneInfo(name), locale=locale)


def kilobytes(size: int) -> str:
    """A file size in kilobytes (at least 1), with the reader's number format and unit ("12 ko")."""
    return format_unit(max(1, -(-size // 1024)), "digital-kilobyte", length="short", locale=get_locale())


def percent(share: float) -> str:
    """A share (0.5) as the reader writes a percentage ("50 %" in French), decimals kept."""
    return format_percent(share, locale=get_locale(), decimal_quantization=False)


def language_name(code: str) -> str:
    """A language as the reader's language names it ("Französisch" for a German reader)."""
    return get_locale().languages.get(code, LANGUAGE_NAMES.get(code, code))


def translate(message) -> str:
    """A domain :class:`~capital.domain.messages.Message` in the reader's language."""
    params = dict(message.params)
    if "language" in params:  # dossier messages name a locale code; show the language's name
        params["language"] = language_name(params["language"])
    return _(message.message, **params)


def country_name(code: str) -> str:
    """An ISO 3166-1 code as the reader's language names the country."""
    return get_locale().territories.get(code, code)


def in_reader_language(texts) -> Localised:
    """A criterion's texts in the reader's language, or its first language, saying which."""
    return localised(texts, str(get_locale()))


def init_app(app) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters["dt"] = format_dt_with_offset
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["tr"] = translate
    app.jinja_env.filters["country"] = country_name
    app.jinja_env.filters["language"] = language_name
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.filters["zone_name"] = zone_name
    app.jinja_env.filters["kilobytes"] = kilobytes
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["localised"] = in_reader_language
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.globals["error_links"] = error_links
    app.jinja_env.globals["report_language"] = reader_language

    @app.context_processor
    def inject_i18n():
        return {
            "current_locale": str(get_locale()),
            "text_direction": text_direction(),
            "language_names": LANGUAGE_NAMES,
        }

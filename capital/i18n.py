"""Locale and time zone selection, and the helpers templates use to show dates."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, request, session
from flask_babel import format_date, format_datetime, get_locale, gettext as _, lazy_gettext as _l  # noqa: F401
from flask_login import current_user

from capital.domain.localisation import LOCALES, RTL_LOCALES, is_timezone
from capital.extensions import babel

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


def format_dt_with_offset(value: datetime | None, format: str = "medium") -> str:
    """A datetime in the reader's zone and language, followed by its UTC offset."""
    if value is None:
        return ""
    from flask_babel import get_timezone

    local = value.astimezone(get_timezone())
    offset = local.strftime("%z")
    return f"{format_datetime(value, format)} (UTC{offset[:3]}:{offset[3:]})"


def translate(message) -> str:
    """A domain :class:`~capital.domain.messages.Message` in the reader's language."""
    params = dict(message.params)
    if "language" in params:  # dossier messages name a locale code; show the language's name
        params["language"] = LANGUAGE_NAMES.get(params["language"], params["language"])
    return _(message.message, **params)


def country_name(code: str) -> str:
    """An ISO 3166-1 code as the reader's language names the country."""
    return get_locale().territories.get(code, code)


def init_app(app) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters["dt"] = format_dt_with_offset
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["tr"] = translate
    app.jinja_env.filters["country"] = country_name
    app.jinja_env.add_extension("jinja2.ext.i18n")

    @app.context_processor
    def inject_i18n():
        return {
            "current_locale": str(get_locale()),
            "text_direction": text_direction(),
            "language_names": LANGUAGE_NAMES,
        }

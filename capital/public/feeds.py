"""The Atom feed of announcements and the iCalendar file of the current cycle, in the reader's language."""

from __future__ import annotations

from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

from flask import current_app, url_for
from icalendar import Calendar, Event

from capital.domain.criteria import localised
from capital.domain.timeline import DEADLINE_LABELS, timeline_fields
from capital.i18n import _
from capital.models import Cycle
from capital.services.public import Capital

ATOM = "http://www.w3.org/2005/Atom"


def _absolute(endpoint: str, **values) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def _tag(parent, name: str, text: str | None = None, **attributes) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{name}", attributes)
    element.text = text
    return element


def atom_feed(capitals: list[Capital], locale: str, citations: dict | None = None,
              shortlists: list[tuple[Cycle, list[str]]] = ()) -> bytes:
    """One entry per public announcement, latest first, then one per published shortlist (its cycle and
    its finalists' names), latest first; an announcement whose cycle has a jury report carries its
    citation and its reasons against the criteria (``citations``: cycle id -> the report as the reader
    sees it)."""
    citations = citations or {}
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": locale})
    _tag(feed, "id", _absolute("public.feed"))
    _tag(feed, "title", _("Capital of Living Together: announcements"))
    _tag(feed, "link", rel="self", href=_absolute("public.feed"))
    _tag(feed, "link", rel="alternate", href=_absolute("public.archive"))
    published = [announced_at(c.cycle) for c in capitals]
    moments = published + [cycle.shortlist_publication_dt for cycle, _ in shortlists]
    _tag(feed, "updated", max(moments).isoformat() if moments else "2019-05-16T00:00:00+00:00")
    author = _tag(feed, "author")
    _tag(author, "name", _("International Observatory of Mayors on Living Together"))
    for capital, when in zip(capitals, published):
        year = capital.years[0]
        entry = _tag(feed, "entry")
        _tag(entry, "id", _absolute("public.year_page", year=year))
        _tag(entry, "title", _("%(city)s is the Capital of Living Together %(year)s.", city=capital.city.name,
                               year=", ".join(map(str, capital.years))))
        _tag(entry, "link", rel="alternate", href=_absolute("public.year_page", year=year))
        _tag(entry, "updated", when.isoformat())
        _tag(entry, "published", when.isoformat())
        _tag(entry, "summary", _("%(city)s hosts the main celebration of the International Day of Living Together "
                                 "in Peace on 16 May %(year)s.", city=capital.city.name, year=year))
        report = citations.get(capital.cycle.id)
        if report is not None:
            # The report in its own language (the reader's, or the one it was first written in): the
            # citation, then each criterion's name (in that language where it has one) and its reasons.
            blocks = [*report.citation]
            for note in report.reasons:
                blocks += [localised(note.texts, report.locale).text.name, *note.paragraphs]
            content = _tag(entry, "content", "\n\n".join(blocks), type="text")
            content.set("xml:lang", report.locale)
    for cycle, finalists in shortlists:
        entry = _tag(feed, "entry")
        _tag(entry, "id", _absolute("public.year_page", year=cycle.year) + "#shortlist")
        _tag(entry, "title", _("The shortlist of the Capital of Living Together %(year)s", year=cycle.year))
        _tag(entry, "link", rel="alternate", href=_absolute("public.year_page", year=cycle.year))
        _tag(entry, "updated", cycle.shortlist_publication_dt.isoformat())
        _tag(entry, "published", cycle.shortlist_publication_dt.isoformat())
        _tag(entry, "summary", _("Shortlisted: %(names)s.", names=", ".join(finalists)))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def announced_at(cycle: Cycle) -> datetime:
    """When the announcement was made public: its announcement time, else when the phase changed."""
    return cycle.announcement_dt or cycle.phase_changed_dt


def icalendar_file(cycle: Cycle | None, finalists: list[str] = ()) -> bytes:
    """The cycle's public deadlines and its 16 May celebration(s) as an iCalendar file; the shortlist's
    publication names the ``finalists`` (given once the shortlist is public)."""
    calendar = Calendar()
    calendar.add("prodid", "-//International Observatory of Mayors on Living Together//Capital//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("Capital of Living Together"))
    if cycle is None:
        return calendar.to_ical()
    host = current_app.config["BASE_URL"].split("://")[-1].split("/")[0].split(":")[0]
    page = _absolute("public.year_page", year=cycle.year)
    for name in timeline_fields(cycle):
        moment = getattr(cycle, name)
        if moment is None:
            continue
        event = Event()
        event.add("uid", f"{cycle.year}-{name.removesuffix('_dt').replace('_', '-')}@{host}")
        event.add("dtstamp", cycle.phase_changed_dt)
        event.add("dtstart", moment)
        event.add("dtend", moment + timedelta(minutes=30))
        event.add("summary", _("%(deadline)s — Capital of Living Together %(year)s",
                               deadline=_(DEADLINE_LABELS[name]), year=cycle.year))
        event.add("url", page)
        if name == "shortlist_publication_dt" and finalists:
            event.add("description", _("Shortlisted: %(names)s.", names=", ".join(finalists)))
        calendar.add_component(event)
    for year in range(cycle.celebration_date.year, cycle.celebration_date.year + (2 if cycle.is_biennial else 1)):
        event = Event()
        day = cycle.celebration_date.replace(year=year)
        event.add("uid", f"{year}-celebration@{host}")
        event.add("dtstamp", cycle.phase_changed_dt)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        event.add("summary", _("International Day of Living Together in Peace"))
        event.add("description", _("The main celebration is hosted by the Capital of Living Together %(year)s.",
                                   year=year))
        event.add("url", page)
        calendar.add_component(event)
    return calendar.to_ical()

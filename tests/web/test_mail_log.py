"""The secretariat's mail log at any size: newest first, page after page by keyset, each mail once."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from capital.domain.roles import Role
from capital.models import Mail, MailState
from tests.web.test_query_counts import counted

NOW = datetime(2031, 3, 16, 12, 0, tzinfo=UTC)
ROW = re.compile(r"<tr><td>[^<]*</td><td>([^<]+)</td>")
LINK = re.compile(r'<a rel="(prev|next)" href="([^"]+)">')


@pytest.fixture
def outbox(db):
    """130 mails, some recorded at the same second (the key tells them apart), every fourth refused."""
    mails = [Mail(dedupe_key=f"-:test:{n}", kind="test", recipient=f"r{n}@city.example", locale="en", subject="s",
                  body_text="t", body_html="<p>t</p>", message_id=f"<{n}@capital>",
                  state=MailState.FAILED if n % 4 == 0 else MailState.SENT, next_attempt_dt=NOW,
                  created_dt=NOW - timedelta(seconds=n // 3)) for n in range(130)]
    db.session.add_all(mails)
    db.session.commit()
    # Newest first; among mails of one moment, the last recorded first.
    return [m.recipient for m in sorted(mails, key=lambda m: (m.created_dt, m.id), reverse=True)]


def _walk(client, url: str, rel: str) -> tuple[list[list[str]], list[str]]:
    """Follow the pager's ``rel`` link from ``url`` to the end: each page's recipients, and its address."""
    pages, urls = [], []
    while url:
        page = client.get(url).get_data(as_text=True)
        pages.append(ROW.findall(page))
        urls.append(url)
        url = next((html.unescape(href) for found, href in LINK.findall(page) if found == rel), None)
    return pages, urls


def test_the_mail_log_pages_through_every_mail_once_and_back(client, db, make_user, outbox):
    client.login(make_user(Role.SECRETARIAT).email)
    pages, urls = _walk(client, "/secretariat/mail", "next")
    assert [len(page) for page in pages] == [50, 50, 30]
    assert [row for page in pages for row in page] == outbox
    first = client.get("/secretariat/mail").get_data(as_text=True)
    assert 'rel="prev"' not in first and "Newest" not in first
    assert "Newest" in client.get(urls[-1]).get_data(as_text=True)
    # Back from the last page, "Newer" after "Newer": the same pages.
    assert _walk(client, urls[-1], "prev")[0] == pages[::-1]


def test_the_refused_mails_page_by_keyset_too(client, db, make_user, outbox):
    client.login(make_user(Role.SECRETARIAT).email)
    pages, _ = _walk(client, f"/secretariat/mail?state={int(MailState.FAILED)}", "next")
    refused = [r for r in outbox if int(r[1:].split("@")[0]) % 4 == 0]
    assert [row for page in pages for row in page] == refused and len(pages) == 1


@pytest.mark.parametrize("cursor", ["", "nonsense", "2031-03-16T12:00:00_x", "2031-03-16T12:00:00_5",
                                    "9999-12-31T00:00:00+00:00_99999999999999999999", "2031-03-16T12:00:00+00:00_-1"])
def test_a_cursor_that_cannot_be_read_gives_the_first_page(client, db, make_user, outbox, cursor):
    client.login(make_user(Role.SECRETARIAT).email)
    for name in ("older", "newer"):
        response = client.get(f"/secretariat/mail?{name}={cursor}")
        assert response.status_code == 200
        assert ROW.findall(response.get_data(as_text=True)) == outbox[:50]


def test_a_deep_page_costs_the_same_queries_as_the_first(client, db, make_user, outbox):
    client.login(make_user(Role.SECRETARIAT).email)
    with counted(db) as first:
        page = client.get("/secretariat/mail").get_data(as_text=True)
    deeper = html.unescape(dict(LINK.findall(page))["next"])
    with counted(db) as second:
        client.get(deeper)
    assert len(second) == len(first)
    assert not any("OFFSET" in statement.upper() or "count(" in statement.lower() for statement in second)

"""Finalists upload an updated dossier or presentation (a PDF, checked like the mayor's letter) until a deadline."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from capital.domain.roles import Role
from capital.models import Attachment
from capital.public import clock
from capital.services import voting
from capital.services.cycles import advance_due_cycles
from tests.conftest import VOTE_YEAR, pdf_bytes
from tests.web.test_nomination_pages import upload

OPENS, CLOSES = datetime(VOTE_YEAR, 1, 20, 12, tzinfo=UTC), datetime(VOTE_YEAR, 2, 1, 12, tzinfo=UTC)
PUBLICATION, UPDATES_CLOSE = datetime(VOTE_YEAR, 2, 5, 12, tzinfo=UTC), datetime(VOTE_YEAR, 2, 20, 12, tzinfo=UTC)


def publish_shortlist(db, make_vote):
    """A vote whose shortlist of two is published at PUBLICATION: every member approved Venlo alone."""
    vote = make_vote(hosts=("Palermo", "Venlo", "Lyon"), members=3, shortlist_size=2, shortlist_open_dt=OPENS,
                     shortlist_close_dt=CLOSES, shortlist_publication_dt=PUBLICATION,
                     finalist_update_close_dt=UPDATES_CLOSE)
    advance_due_cycles(OPENS)
    db.session.commit()
    for member in vote.members:
        voting.cast_ballot(vote.cycle, member, ((vote.ids()["Venlo"],),), now=OPENS + timedelta(hours=1),
                           shortlist=True)
        db.session.commit()
    advance_due_cycles(CLOSES)
    advance_due_cycles(PUBLICATION)
    db.session.commit()
    return vote


@pytest.fixture
def shortlisted(db, make_vote):
    return publish_shortlist(db, make_vote)


def _representative(client, make_user, vote, host):
    nomination = next(n for n in vote.nominations if n.host_city.name == host)
    user = make_user(Role.REPRESENTATIVE, city=nomination.nominating_city)
    client.login(user.email)
    return nomination


def _at(monkeypatch, moment):
    import capital.nominations.routes as routes

    monkeypatch.setattr(routes, "utcnow", lambda: moment)  # the moment the nomination pages see
    monkeypatch.setattr(clock, "now", lambda: moment)


def test_a_finalist_uploads_an_updated_pdf_until_the_deadline(client, db, make_user, shortlisted, monkeypatch):
    nomination = _representative(client, make_user, shortlisted, "Venlo")
    _at(monkeypatch, UPDATES_CLOSE - timedelta(seconds=1))
    url = f"/city/nominations/{nomination.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Finalist: updated dossier or presentation" in page and 'name="update"' in page
    response = client.post(f"{url}/finalist-update", {"update": upload(pdf_bytes(2), "update.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    [update] = db.session.scalars(select(Attachment).where(Attachment.kind == "update")).all()
    assert update.nomination_id == nomination.id and update.content_type == "application/pdf"
    assert "update.pdf" in client.get(url).get_data(as_text=True)
    # Not a PDF: refused at the field, nothing replaced.
    refused = client.post(f"{url}/finalist-update", {"update": upload(b"GIF89a not a pdf", "update.pdf")},
                          content_type="multipart/form-data").get_data(as_text=True)
    assert 'class="error-summary"' in refused and 'id="update-error"' in refused
    assert db.session.scalar(select(Attachment.id).where(Attachment.kind == "update")) == update.id


def test_after_the_deadline_or_for_a_nomination_not_on_the_shortlist_it_is_refused(
        client, db, make_user, shortlisted, monkeypatch):
    nomination = _representative(client, make_user, shortlisted, "Venlo")
    _at(monkeypatch, UPDATES_CLOSE)
    url = f"/city/nominations/{nomination.id}"
    assert 'name="update"' not in client.get(url).get_data(as_text=True)
    page = client.post(f"{url}/finalist-update", {"update": upload(pdf_bytes(), "late.pdf")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "until their deadline only" in page
    client.post("/account/logout")
    other = _representative(client, make_user, shortlisted, "Lyon")
    _at(monkeypatch, PUBLICATION + timedelta(days=1))
    page = client.post(f"/city/nominations/{other.id}/finalist-update", {"update": upload(pdf_bytes(), "u.pdf")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "Only a finalist may upload an updated dossier." in page
    assert db.session.scalar(select(Attachment.id).where(Attachment.kind == "update")) is None

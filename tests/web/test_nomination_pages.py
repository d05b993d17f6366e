"""A city representative files a nomination; the secretariat reviews it; others endorse it."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from capital.domain.nominations import NominationState
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.models import Attachment, AuditEntry, Endorsement, Mail, Nomination
from capital.models.types import utcnow
from tests.conftest import WebClient, pdf_bytes

COMPLETE = {
    "title": "Living together on the Rhine",
    "summary_en": "A day of open doors, shared meals and music in every district.",
    "programme_en": "Morning: open mosques, churches and synagogues. Noon: a long table on the Rhine promenade.",
    "themes": ["1", "5"],
    "expected_participants": "20000",
    "partners": "Tonhalle, city districts, schools",
    "budget_range": "100k_250k",
}


@pytest.fixture
def city(make_city):
    return make_city("Düsseldorf", country="DE", timezone="Europe/Berlin")


@pytest.fixture
def rep(make_user, city):
    return make_user(Role.REPRESENTATIVE, city=city, email="rep@duesseldorf.example")


@pytest.fixture
def cycle(make_cycle):
    return make_cycle()


def start(client, host_id) -> int:
    response = client.post("/city/nominations/new", {"host_city_id": host_id})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/nominations/(\d+)/edit", response.headers["Location"]).group(1))


def opened_version(nomination_id) -> str:
    """The version a page opened now carries (tests/web/test_dossier_conflicts.py opens stale ones)."""
    from capital.extensions import db

    return str(db.session.get(Nomination, nomination_id, populate_existing=True).version)


def save(client, nomination_id, host_id, fields=COMPLETE, files=None):
    """Save the dossier as from a page just opened, unless ``fields`` carries its own ``version``."""
    data = dict(fields, host_city_id=str(host_id))
    data.setdefault("version", opened_version(nomination_id))
    data.update(files or {})
    return client.post(f"/city/nominations/{nomination_id}/edit", data, content_type="multipart/form-data")


def submit(client, nomination_id, **kwargs):
    """Confirm the submission from the confirmation page just opened."""
    return client.post(f"/city/nominations/{nomination_id}/submit", {"version": opened_version(nomination_id)},
                       **kwargs)


def upload(data: bytes, name: str):
    import io

    return (io.BytesIO(data), name)


def file_a_complete_draft(client, city) -> int:
    nomination_id = start(client, city.id)
    response = save(client, nomination_id, city.id, files={"letter": upload(pdf_bytes(), "Brief des OB.pdf")})
    assert response.status_code == 302, response.get_data(as_text=True)
    return nomination_id


def test_a_representative_files_and_submits_a_nomination(app, client, db, rep, city, cycle):
    client.login(rep.email)
    dashboard = client.get("/city/").get_data(as_text=True)
    assert "has not started a nomination" in dashboard

    nomination_id = start(client, city.id)
    page = client.get(f"/city/nominations/{nomination_id}/edit").get_data(as_text=True)
    for missing in ("Give the nomination a title.", "Choose at least one theme.", "Choose a budget range.",
                    "The letter of commitment from the host city"):
        assert missing in page  # every unmet rule shown before submission

    response = save(client, nomination_id, city.id, files={"letter": upload(pdf_bytes(), "Brief des OB.pdf")})
    assert response.status_code == 302
    page = client.get(f"/city/nominations/{nomination_id}/edit").get_data(as_text=True)
    assert "Your dossier meets every rule of this cycle." in page
    assert "Brief des OB.pdf" in page

    confirm = client.get(f"/city/nominations/{nomination_id}/submit").get_data(as_text=True)
    assert "You are about to submit" in confirm
    nomination = db.session.get(Nomination, nomination_id)
    assert nomination.state == NominationState.DRAFT  # the GET changed nothing

    response = submit(client, nomination_id)
    assert response.status_code == 302
    db.session.expire_all()
    nomination = db.session.get(Nomination, nomination_id)
    assert nomination.state == NominationState.SUBMITTED and nomination.submitted_dt is not None
    receipts = db.session.scalars(select(Mail).where(Mail.kind == "nomination_received")).all()
    assert {mail.recipient for mail in receipts} == {"rep@duesseldorf.example", city.contact_email}
    assert "Living together on the Rhine" in receipts[0].body_text
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(nomination_id))))
    assert {"nomination.started", "nomination.saved", "nomination.file_added", "nomination.submitted"} <= actions


def test_an_incomplete_draft_cannot_be_submitted(client, db, rep, city, cycle):
    client.login(rep.email)
    nomination_id = start(client, city.id)
    response = submit(client, nomination_id, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Give the nomination a title." in page
    assert db.session.get(Nomination, nomination_id).state == NominationState.DRAFT
    assert db.session.scalar(select(func.count(Mail.id))) == 0


def test_submission_after_the_deadline_is_refused_whatever_the_page_showed(client, db, rep, city, cycle):
    client.login(rep.email)
    nomination_id = file_a_complete_draft(client, city)
    client.get(f"/city/nominations/{nomination_id}/submit")  # the page was shown before the deadline
    cycle.nominations_close_dt = utcnow() - timedelta(seconds=1)
    db.session.commit()
    page = submit(client, nomination_id, follow_redirects=True).get_data(as_text=True)
    assert "The nomination deadline has passed." in page
    db.session.expire_all()
    assert db.session.get(Nomination, nomination_id).state == NominationState.DRAFT


def test_a_save_after_the_deadline_changes_nothing(client, db, rep, city, cycle):
    client.login(rep.email)
    nomination_id = file_a_complete_draft(client, city)
    cycle.nominations_close_dt = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = save(client, nomination_id, city.id, dict(COMPLETE, title="Changed too late"))
    assert "The nomination deadline has passed." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Nomination, nomination_id).title == COMPLETE["title"]


def test_the_deadline_is_shown_in_the_reader_time_zone_with_its_offset(client, rep, city, cycle):
    client.login(rep.email)
    nomination_id = start(client, city.id)
    page = client.get(f"/city/nominations/{nomination_id}/edit").get_data(as_text=True)
    local = cycle.nominations_close_dt.astimezone(ZoneInfo("Europe/Berlin"))
    offset = local.strftime("%z")
    # "16 January 2027, 13:00 Düsseldorf time (CET, UTC+01:00)": the city's name, no seconds.
    expected = (f"{local.day} {local:%B} {local.year}, {local:%H:%M} Düsseldorf time "
                f"({local:%Z}, UTC{offset[:3]}:{offset[3:]})")
    assert expected in page
    assert f"{local:%H:%M}:{local:%S}" not in page


def scripted_pdf() -> bytes:
    """A real PDF that runs JavaScript when opened."""
    import io

    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1)")})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("payload,name,message", [
    (b"<html><body>not a pdf</body></html>", "letter.pdf", "not a PDF"),
    (b"PK\x03\x04" + b"\x00" * 200, "letter.pdf", "not a PDF"),
    (b"\x7fELF\x02\x01\x01" + b"\x00" * 200, "letter.pdf", "not a PDF"),
    (pdf_bytes()[:200], "letter.pdf", ""),
    (scripted_pdf(), "letter.pdf", "active content (JavaScript)"),
])
def test_a_file_that_is_not_a_real_pdf_is_refused(app, client, db, rep, city, cycle, payload, name, message):
    client.login(rep.email)
    nomination_id = start(client, city.id)
    response = save(client, nomination_id, city.id, files={"letter": upload(payload, name)})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "error-summary" in page and message in page
    assert db.session.scalar(select(func.count(Attachment.id))) == 0
    assert not any(path.is_file() for path in app.config["UPLOAD_DIR"].rglob("*"))


def test_an_oversized_letter_is_refused_with_the_limit(app, client, db, rep, city, cycle, monkeypatch):
    # A small limit keeps the request under the test client's in-memory threshold.
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 400 * 1024)
    client.login(rep.email)
    nomination_id = start(client, city.id)
    big = pdf_bytes()
    big += b"%" + b"0" * (app.config["MAX_UPLOAD_BYTES"] + 1 - len(big))
    response = save(client, nomination_id, city.id, files={"letter": upload(big, "letter.pdf")})
    assert "The file is larger than 0.4 MB." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Attachment.id))) == 0


@pytest.mark.parametrize("name", ["../../etc/passwd.pdf", "/etc/letter.pdf", "uploads/../../letter.pdf"])
def test_a_path_like_file_name_is_refused(app, client, db, rep, city, cycle, name):
    client.login(rep.email)
    nomination_id = start(client, city.id)
    response = save(client, nomination_id, city.id, files={"letter": upload(pdf_bytes(), name)})
    assert "The file name must not contain a folder path." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Attachment.id))) == 0
    assert not any(path.is_file() for path in app.config["UPLOAD_DIR"].rglob("*"))


def test_a_letter_is_stored_under_a_random_name_and_served_as_an_attachment(app, client, db, rep, city, cycle):
    client.login(rep.email)
    nomination_id = start(client, city.id)
    disguised = "lettre\u202efdp.exe"  # a right-to-left override that shows "lettreexe.pdf"
    save(client, nomination_id, city.id, files={"letter": upload(pdf_bytes(), disguised)})
    attachment = db.session.scalar(select(Attachment))
    assert "\u202e" not in attachment.filename and attachment.filename.endswith(".pdf")
    stored = list(path for path in app.config["UPLOAD_DIR"].rglob("*") if path.is_file())
    assert [path.name for path in stored] == [attachment.storage_key]
    assert "lettre" not in attachment.storage_key

    download = client.get(f"/city/nominations/{nomination_id}/files/{attachment.id}")
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.data == stored[0].read_bytes()


def test_another_city_cannot_see_or_touch_a_draft(app, client, db, rep, city, cycle, make_city, make_user):
    client.login(rep.email)
    nomination_id = file_a_complete_draft(client, city)
    attachment_id = db.session.scalar(select(Attachment.id))

    other = WebClient(app.test_client())
    other.login(make_user(Role.REPRESENTATIVE, city=make_city("Venlo", country="NL")).email)
    assert other.get(f"/city/nominations/{nomination_id}").status_code == 404
    assert other.get(f"/city/nominations/{nomination_id}/edit").status_code == 404
    assert other.get(f"/city/nominations/{nomination_id}/files/{attachment_id}").status_code == 404
    assert submit(other, nomination_id).status_code == 404
    assert other.post(f"/city/nominations/{nomination_id}/withdraw").status_code == 404

    secretariat = WebClient(app.test_client())
    secretariat.login(make_user(Role.SECRETARIAT).email)
    assert secretariat.get(f"/review/{nomination_id}").status_code == 404
    assert secretariat.get(f"/city/nominations/{nomination_id}").status_code == 404
    assert db.session.get(Nomination, nomination_id).state == NominationState.DRAFT


def test_a_form_without_csrf_token_changes_nothing(client, db, rep, city, cycle):
    client.login(rep.email)
    nomination_id = file_a_complete_draft(client, city)
    response = client.post_raw(f"/city/nominations/{nomination_id}/submit")
    assert response.status_code == 400
    assert db.session.get(Nomination, nomination_id).state == NominationState.DRAFT


def _submitted(client, db, city):
    nomination_id = file_a_complete_draft(client, city)
    assert submit(client, nomination_id).status_code == 302
    return nomination_id


def test_member_cities_endorse_once_per_cycle(app, client, db, rep, city, cycle, make_city, make_user):
    client.login(rep.email)
    nomination_id = _submitted(client, db, city)

    venlo = WebClient(app.test_client())
    venlo.login(make_user(Role.REPRESENTATIVE, city=make_city("Venlo", country="NL")).email)
    assert "Living together on the Rhine" in venlo.get("/city/").get_data(as_text=True)
    page = venlo.post(f"/city/nominations/{nomination_id}/endorse", follow_redirects=True).get_data(as_text=True)
    assert "Your city endorses this nomination." in page
    again = venlo.post(f"/city/nominations/{nomination_id}/endorse", follow_redirects=True).get_data(as_text=True)
    assert "already endorsed" in again
    assert db.session.scalar(select(func.count(Endorsement.id))) == 1
    assert "Venlo" in client.get(f"/city/nominations/{nomination_id}").get_data(as_text=True)

    own = client.post(f"/city/nominations/{nomination_id}/endorse", follow_redirects=True).get_data(as_text=True)
    assert "can&#39;t endorse a nomination that concerns it" in own


def test_the_secretariat_marks_a_nomination_eligible_or_not(app, client, db, rep, city, cycle, make_user):
    client.login(rep.email)
    nomination_id = _submitted(client, db, city)
    secretariat = WebClient(app.test_client())
    secretariat.login(make_user(Role.SECRETARIAT).email)

    early = secretariat.post(f"/review/{nomination_id}", {"decision": "eligible", "reason": ""})
    assert "Eligibility is decided after the nomination deadline" in early.get_data(as_text=True)

    cycle.phase = Phase.NOMINATIONS_CLOSED
    db.session.commit()
    no_reason = secretariat.post(f"/review/{nomination_id}", {"decision": "ineligible", "reason": ""})
    assert "Give the reason the nomination is not eligible." in no_reason.get_data(as_text=True)
    assert db.session.get(Nomination, nomination_id).state == NominationState.SUBMITTED

    assert secretariat.post(f"/review/{nomination_id}",
                            {"decision": "ineligible", "reason": "The letter is not signed."}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Nomination, nomination_id).state == NominationState.INELIGIBLE
    page = client.get(f"/city/nominations/{nomination_id}").get_data(as_text=True)
    assert "The letter is not signed." in page
    decision_mail = db.session.scalar(select(Mail).where(Mail.kind == "eligibility_decision",
                                                         Mail.recipient == rep.email))
    assert "The letter is not signed." in decision_mail.body_text

    secretariat.post(f"/review/{nomination_id}", {"decision": "eligible", "reason": "Signed letter received."})
    db.session.expire_all()
    assert db.session.get(Nomination, nomination_id).state == NominationState.ELIGIBLE


def test_the_board_reads_eligible_dossiers_once_nominations_close(app, client, db, rep, city, cycle, make_user):
    client.login(rep.email)
    nomination_id = _submitted(client, db, city)
    board = WebClient(app.test_client())
    board.login(make_user(Role.BOARD).email)
    assert board.get(f"/city/nominations/{nomination_id}").status_code == 404
    assert "once nominations have closed" in board.get("/review/board").get_data(as_text=True)

    cycle.phase = Phase.NOMINATIONS_CLOSED
    db.session.commit()
    from capital.services.nominations import decide_eligibility

    decide_eligibility(db.session.get(Nomination, nomination_id), eligible=True, reason="",
                       actor=make_user(Role.SECRETARIAT), now=utcnow())
    db.session.commit()
    assert "Living together on the Rhine" in board.get("/review/board").get_data(as_text=True)
    page = board.get(f"/city/nominations/{nomination_id}")
    assert page.status_code == 200 and "A day of open doors" in page.get_data(as_text=True)
    attachment_id = db.session.scalar(select(Attachment.id))
    assert board.get(f"/city/nominations/{nomination_id}/files/{attachment_id}").status_code == 200


def test_the_public_sees_nominees_once_nominations_close(client, db, rep, city, cycle):
    client.login(rep.email)
    _submitted(client, db, city)
    refused = client.post("/city/nominations/new", {"host_city_id": city.id}, follow_redirects=True)
    assert "already submitted a nomination" in refused.get_data(as_text=True)  # no second, hopeless draft
    assert db.session.scalar(select(func.count(Nomination.id))) == 1
    client.post("/account/logout")
    assert "once nominations have closed" in client.get("/nominees").get_data(as_text=True)
    cycle.phase = Phase.NOMINATIONS_CLOSED
    db.session.commit()
    page = client.get("/nominees").get_data(as_text=True)
    assert "Living together on the Rhine" in page and "Düsseldorf" in page
    assert page.count("<li><strong>") == 1  # the draft is not public


def test_withdrawal_until_voting_opens(client, db, rep, city, cycle):
    client.login(rep.email)
    nomination_id = _submitted(client, db, city)
    cycle.voting_open_dt = utcnow() - timedelta(seconds=1)
    cycle.nominations_close_dt = utcnow() - timedelta(days=1)
    cycle.phase = Phase.NOMINATIONS_CLOSED
    db.session.commit()
    page = client.post(f"/city/nominations/{nomination_id}/withdraw", follow_redirects=True).get_data(as_text=True)
    assert "can only be withdrawn until voting opens" in page
    cycle.voting_open_dt = utcnow() + timedelta(days=1)
    db.session.commit()
    assert "You are about to withdraw" in client.get(f"/city/nominations/{nomination_id}/withdraw").get_data(as_text=True)
    client.post(f"/city/nominations/{nomination_id}/withdraw")
    db.session.expire_all()
    assert db.session.get(Nomination, nomination_id).state == NominationState.WITHDRAWN


def test_a_submitted_dossier_stays_complete_when_edited(client, db, rep, city, cycle):
    client.login(rep.email)
    nomination_id = _submitted(client, db, city)
    response = save(client, nomination_id, city.id, dict(COMPLETE, title=""))
    assert "Give the nomination a title." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Nomination, nomination_id).title == COMPLETE["title"]
    save(client, nomination_id, city.id, dict(COMPLETE, title="Living together on the Rhine and beyond"))
    db.session.expire_all()
    assert db.session.get(Nomination, nomination_id).title == "Living together on the Rhine and beyond"


def test_images_are_re_encoded_without_their_metadata(app, client, db, rep, city, cycle):
    import io

    from PIL import Image

    photo = Image.new("RGB", (64, 48), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"  # Make
    exif[0x8825] = {2: (48.0, 51.0, 0.0)}  # GPS latitude: where the photo was taken
    raw = io.BytesIO()
    photo.save(raw, format="JPEG", exif=exif)
    assert b"Camera maker" in raw.getvalue()

    client.login(rep.email)
    nomination_id = start(client, city.id)
    save(client, nomination_id, city.id, files={"image": upload(raw.getvalue(), "fête.jpeg")})
    attachment = db.session.scalar(select(Attachment).where(Attachment.kind == "image"))
    assert attachment.content_type == "image/jpeg" and attachment.filename.endswith(".jpg")
    stored = (app.config["UPLOAD_DIR"] / attachment.storage_key[:2] / attachment.storage_key).read_bytes()
    assert b"Camera maker" not in stored
    assert Image.open(io.BytesIO(stored)).getexif() == {}

    refused = save(client, nomination_id, city.id, files={"image": upload(b"GIF89a not really", "x.gif")})
    assert "error-summary" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Attachment.id))) == 1


def test_the_cycle_history_names_each_step(app, client, db, rep, city, cycle, make_user):
    client.login(rep.email)
    _submitted(client, db, city)
    secretariat = WebClient(app.test_client())
    secretariat.login(make_user(Role.SECRETARIAT).email)
    page = secretariat.get(f"/secretariat/cycles/{cycle.id}?sort=dt&dir=desc").get_data(as_text=True)
    assert "Nomination submitted" in page and "Dossier saved" in page
    assert "nomination.submitted" not in page

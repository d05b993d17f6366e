"""The board's ballot at n = 5, 50 and 200 nominations: its render time and its bytes, beside plain Jinja
writing the same markup and a bare Flask page returning the same bytes.

Run from the repository root against an empty PostgreSQL database of its own (its tables are replaced)::

    createdb -h 127.0.0.1 -U postgres bench_ballot
    .venv/bin/python bench/ballot.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_ballot [--smoke]

For each size the run writes a cycle with n eligible nominations and a board, opens the vote
through the real services, signs a board member in and asks for ``/board/vote`` in process. It
times the page's template render inside that real request (between Flask's
``before_render_template`` and ``template_rendered`` signals) and the whole request, and counts
its bytes and its SQL statements. Beside it: a plain ``jinja2`` template that writes the same
markup from plain dictionaries (checked byte for byte against the page), and a bare Flask route
returning the page's bytes. Each time is the fastest of ``--repeat`` runs, after a warm-up.

Targets (issue 16), at n = 200: the render takes at most 3× plain Jinja's time for the same
markup, and the page is at most 150 KB. The last line is ``targets met`` or ``targets NOT met: …``.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.year_page import bench_environment, empty_database  # noqa: E402

SIZES = (5, 50, 200)
SMOKE_SIZES = (2, 5)
PASSWORD = "bench-password-of-a-board-member"
TARGET_RATIO = 3.0
TARGET_BYTES = 150_000
YEAR = 2031
# The markup of one ballot line, as capital/templates/board/_ballot_macros.html writes it.
PLAIN_LINE = (
    '\n<div class="field rank"><label for="rank_{{ r.id }}">{{ r.label }}</label>'
    '<p class="hint" id="rank_{{ r.id }}-hint">{{ r.nominated_by }} <a href="{{ r.url }}">{{ r.dossier }}</a></p>'
    '<input class="rank-input" type="text" inputmode="numeric" autocomplete="off" size="3" maxlength="3" '
    'id="rank_{{ r.id }}" name="rank_{{ r.id }}" value="" aria-describedby="rank_{{ r.id }}-hint"></div>'
)
PLAIN_PAGE = "{{ head }}{% for r in rows %}" + PLAIN_LINE + "{% endfor %}{{ tail }}"


def seed(app, count: int, now: datetime) -> str:
    """A reviewed cycle with ``count`` eligible nominations and a board of three, voting opened by the
    real services; returns the e-mail address of the member who signs in."""
    from capital.domain.nominations import NominationState
    from capital.domain.phase import Phase
    from capital.domain.roles import Role
    from capital.domain.timeline import celebration_day
    from capital.extensions import db
    from capital.models import BoardTerm, City, Cycle, Nomination, RoleGrant, User
    from capital.services.accounts import hash_password
    from capital.services.cycles import open_voting

    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        cycle = Cycle(year=YEAR, celebration_date=celebration_day(YEAR), phase=Phase.NOMINATIONS_CLOSED,
                      phase_changed_dt=now, nominations_open_dt=now - timedelta(days=90),
                      nominations_close_dt=now - timedelta(days=30), voting_open_dt=now - timedelta(hours=1),
                      voting_close_dt=now + timedelta(days=20), announcement_dt=now + timedelta(days=30),
                      requires_recusal=False, created_dt=now)
        cities = [City(name=f"Ville {n}", name_latin=f"Ville {n}", country_code="FR", timezone="Europe/Paris",
                       contact_email=f"office@ville{n}.example", created_dt=now) for n in range(1, count + 1)]
        db.session.add_all([cycle, *cities])
        db.session.flush()
        db.session.add_all(Nomination(cycle_id=cycle.id, nominating_city_id=city.id, host_city_id=city.id,
                                      state=NominationState.ELIGIBLE, created_dt=now, updated_dt=now,
                                      title=f"{city.name} lives together, street by street") for city in cities)
        password = hash_password(PASSWORD)
        for n in range(1, 4):
            member = User(email=f"member{n}@board.example", name=f"Member {n}", locale="en", password_hash=password,
                          is_active_account=True, created_dt=now, session_generation=0)
            db.session.add(member)
            db.session.flush()
            db.session.add_all([RoleGrant(user_id=member.id, role=Role.BOARD, granted_dt=now),
                                BoardTerm(user_id=member.id, starts_on=date(now.year - 1, 1, 1),
                                          ends_on=date(now.year + 1, 12, 31), note="")])
        db.session.flush()
        open_voting(cycle, actor="worker", now=now, by_hand=False)
        db.session.commit()
    return "member1@board.example"


def signed_in(app, email: str):
    client = app.test_client()
    token = lambda page: re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # noqa: E731
    answer = client.post("/account/login", data={"email": email, "password": PASSWORD,
                                                 "csrf_token": token(client.get("/account/login").get_data(as_text=True))})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    return client


def measure(app, client, count: int, repeat: int) -> dict:
    """The ballot page: fastest render and request (ms), bytes, SQL statements; plain Jinja and bare Flask beside it."""
    import flask
    import jinja2
    from markupsafe import Markup
    from sqlalchemy import event

    from capital.extensions import db

    marks: dict[str, float] = {}
    flask.before_render_template.connect(lambda *a, **k: marks.__setitem__("start", time.perf_counter()), app,
                                         weak=False)
    flask.template_rendered.connect(lambda *a, **k: marks.__setitem__("end", time.perf_counter()), app, weak=False)
    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda *a, **k: statements.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    renders, requests, body, queries = [], [], b"", 0
    for attempt in range(repeat + 1):
        statements.clear()
        started = time.perf_counter()
        response = client.get("/board/vote")
        elapsed = time.perf_counter() - started
        assert response.status_code == 200
        body, queries = response.data, len(statements)
        if attempt:  # the first is the warm-up
            renders.append(marks["end"] - marks["start"])
            requests.append(elapsed)
    event.remove(engine, "before_cursor_execute", listener)
    page = body.decode()
    assert page.count('class="rank-input"') == count, "the page does not have one rank field per nomination"

    # The same markup from plain dictionaries: the page's head and tail, and one line per nomination.
    start = page.index('\n<div class="field rank"')
    end = page.index("</fieldset>", start)
    end = page.rindex("</div>", start, end) + len("</div>")
    lines = [{"id": int(m.group(1)), "label": Markup(m.group(2)).unescape(),
              "nominated_by": Markup(m.group(3)).unescape(), "url": m.group(4), "dossier": Markup(m.group(5)).unescape()}
             for m in re.finditer(r'<label for="rank_(\d+)">(.*?)</label><p class="hint" id="rank_\d+-hint">(.*?) '
                                  r'<a href="([^"]+)">(.*?)</a></p>', page[start:end])]
    template = jinja2.Environment(autoescape=True).from_string(PLAIN_PAGE)
    context = {"head": Markup(page[:start]), "tail": Markup(page[end:]), "rows": lines}
    same = template.render(**context) == page
    plain = []
    for attempt in range(repeat + 1):
        started = time.perf_counter()
        template.render(**context)
        if attempt:
            plain.append(time.perf_counter() - started)

    bare = flask.Flask("bare")
    bare.add_url_rule("/", "page", lambda: body)
    bare_client, served = bare.test_client(), []
    for attempt in range(repeat + 1):
        started = time.perf_counter()
        assert bare_client.get("/").data == body
        if attempt:
            served.append(time.perf_counter() - started)
    return {"n": count, "bytes": len(body), "queries": queries, "render_ms": min(renders) * 1000,
            "request_ms": min(requests) * 1000, "plain_ms": min(plain) * 1000, "bare_ms": min(served) * 1000,
            "same_markup": same}


def report(rows: list[dict]) -> list[str]:
    print(f"{'page':<14}{'n':>5}{'bytes':>10}{'SQL':>5}{'render ms':>11}{'plain Jinja ms':>16}{'ratio':>7}"
          f"{'request ms':>12}{'bare Flask ms':>15}{'same markup':>13}")
    for row in rows:
        ratio = row["render_ms"] / row["plain_ms"]
        print(f"{'final ballot':<14}{row['n']:>5}{row['bytes']:>10}{row['queries']:>5}{row['render_ms']:>11.2f}"
              f"{row['plain_ms']:>16.2f}{ratio:>7.2f}{row['request_ms']:>12.2f}{row['bare_ms']:>15.3f}"
              f"{'yes' if row['same_markup'] else 'NO':>13}")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        per_line = (last["bytes"] - first["bytes"]) / (last["n"] - first["n"])
        print(f"growth from n = {first['n']} to {last['n']}: {per_line:.0f} bytes and "
              f"{(last['render_ms'] - first['render_ms']) * 1000 / (last['n'] - first['n']):.1f} µs of render per line")
    largest = rows[-1]
    missed = []
    ratio = largest["render_ms"] / largest["plain_ms"]
    print(f"at n = {largest['n']}: render {ratio:.2f}× plain Jinja (target ≤ {TARGET_RATIO:.0f}×), "
          f"{largest['bytes'] / 1000:.0f} KB (target ≤ {TARGET_BYTES // 1000} KB)")
    if ratio > TARGET_RATIO:
        missed.append(f"final ballot render {ratio:.2f}× plain Jinja at n = {largest['n']} (target ≤ {TARGET_RATIO:.0f}×)")
    if largest["bytes"] > TARGET_BYTES:
        missed.append(f"final ballot {largest['bytes']} bytes at n = {largest['n']} (target ≤ {TARGET_BYTES})")
    if not all(row["same_markup"] for row in rows):
        missed.append("plain Jinja did not write the same markup as the page")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="an empty PostgreSQL database (its tables are replaced)")
    parser.add_argument("--repeat", type=int, default=20, help="runs of each page; the fastest counts")
    parser.add_argument("--smoke", action="store_true", help="the tiniest run: does the bench still work?")
    args = parser.parse_args()
    sizes, repeat = (SMOKE_SIZES, 2) if args.smoke else (SIZES, args.repeat)
    instance = Path(tempfile.mkdtemp(prefix="capital-ballot-"))
    env = bench_environment(instance, args.database_url, None)
    empty_database(env)
    os.environ.update(env)
    from flask_migrate import upgrade

    from capital import create_app

    app = create_app()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with app.app_context():
        upgrade()
    now = datetime.now(UTC).replace(microsecond=0)
    rows = []
    for count in sizes:
        email = seed(app, count, now)
        rows.append(measure(app, signed_in(app, email), count, repeat))
    with app.app_context():
        from capital.extensions import db

        db.engine.dispose()
    print(f"load average: {open('/proc/loadavg').read().split()[0]}")
    missed = report(rows)
    print("targets met" if not missed else "targets NOT met: " + "; ".join(missed))
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())

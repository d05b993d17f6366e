"""Benchmark the outbox: localized mails sent by two worker processes, against a plain smtplib loop.

Run from the repository root, against a PostgreSQL database of its own (its schema is dropped
and rebuilt)::

    .venv/bin/python bench/mail.py [--mails 10000] [--workers 2] [--batch 200] \\
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_mail]

It writes ``--mails`` mails to the outbox (the call for nominations, each in one of the seven
languages, dated in its recipient's time zone), starts an SMTP sink (aiosmtpd) in a process of
its own on a loopback port, and then, in the same run:

- the limit: one plain ``smtplib`` loop over one connection sending the same messages, already
  built, to the same sink (no database, no bookkeeping);
- the outbox: ``--workers`` processes, each running the sender (``send_due_mail``: claim a batch
  with ``FOR UPDATE SKIP LOCKED``, send it over one connection, mark each row sent) until the
  outbox is empty.

It prints mails per second for both, their ratio, and the duplicates the sink received (the
same Message-ID twice). The target: at least half the limit, zero duplicates. If the sink or a
worker dies, the run ends at once with an error naming it. ``--smoke``: 50 mails, one worker (a
check that the bench runs, not a figure).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
import smtplib
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LOCALES = ("en", "fr", "de", "es", "ar", "zh", "ru")
ZONES = ("Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Africa/Cairo", "Asia/Shanghai",
         "Europe/Moscow")
NOW = datetime(2030, 10, 16, 12, 0, tzinfo=UTC)


# --- the SMTP sink, in a process of its own ------------------------------------------------------

def _sink(port: int, pipe) -> None:
    from aiosmtpd.controller import Controller

    class Handler:
        def __init__(self):
            self.seen: dict[str, int] = {}

        async def handle_DATA(self, server, session, envelope):
            message_id = ""
            for line in envelope.content.split(b"\r\n"):
                if line.lower().startswith(b"message-id:"):
                    message_id = line.split(b":", 1)[1].strip().decode()
                    break
                if not line:
                    break
            self.seen[message_id] = self.seen.get(message_id, 0) + 1
            return "250 OK"

    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    pipe.send("ready")
    while True:
        command = pipe.recv()
        if command == "stats":
            total = sum(handler.seen.values())
            pipe.send((total, len(handler.seen), total - len(handler.seen)))
        elif command == "reset":
            handler.seen.clear()
            pipe.send("ok")
        else:
            controller.stop()
            pipe.send("bye")
            return


# --- the app ---------------------------------------------------------------------------------------

def _app(database_url: str, smtp_port: int, batch: int):
    os.environ.update(DATABASE_URL=database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_port),
                      SECRET_KEY="bench-mail-secret-key-of-at-least-32-chars", CAPITAL_CHECK_SERVICES_AT_START="false",
                      CAPITAL_MAIL_BATCH_SIZE=str(batch))
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    from capital import create_app

    return create_app()


def _worker(database_url: str, smtp_port: int, batch: int, start, results) -> None:
    app = _app(database_url, smtp_port, batch)
    from capital.services.mail import send_due_mail

    with app.app_context():
        start.wait()
        sent = send_due_mail(NOW, batch_size=batch)
    results.put(sent)


def _prepare(app, count: int) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from capital.domain.messages import N_
    from capital.extensions import db
    from capital.services.mail import queue_mail

    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        deadline = datetime(2031, 1, 16, 12, 0, tzinfo=UTC)
        for n in range(count):
            queue_mail("call_for_nominations", recipient=f"person{n}@city{n % 97}.example",
                       locale=LOCALES[n % 7], timezone=ZONES[n % 7], now=NOW, deliver_now=False,
                       subject=N_("Call for nominations: Capital of Living Together %(year)s"),
                       context={"year": 2031, "city": f"City {n % 97}", "deadline": deadline,
                                "dates": [(N_("Nomination deadline"), deadline)],
                                "link": "https://capital.example/city/"})
            if n % 1000 == 999:
                db.session.commit()
        db.session.commit()


def _messages(app) -> list:
    from sqlalchemy import select

    from capital.extensions import db
    from capital.models import Mail
    from capital.services.mail import build_message

    with app.app_context():
        return [build_message(mail) for mail in db.session.scalars(select(Mail).order_by(Mail.id))]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ask(pipe, sink, command: str | None = None, timeout: float = 120):
    """Send ``command`` to the sink (if any) and wait for its answer; a dead sink ends the run."""
    if command is not None:
        pipe.send(command)
    deadline = time.monotonic() + timeout
    while not pipe.poll(0.2):
        if not sink.is_alive():
            raise SystemExit(f"the SMTP sink died (exit code {sink.exitcode}): no figure")
        if time.monotonic() > deadline:
            raise SystemExit(f"the SMTP sink did not answer {command or 'its start'!r} in {timeout:.0f} s")
    return pipe.recv()


def _results(results, workers, timeout: float = 600) -> list[int]:
    """What each worker sent; a worker that died ends the run."""
    sent, deadline = [], time.monotonic() + timeout
    while len(sent) < len(workers):
        try:
            sent.append(results.get(timeout=0.5))
        except queue.Empty:
            dead = [w for w in workers if not w.is_alive() and w.exitcode != 0]
            if dead:
                raise SystemExit(f"a worker died (exit code {dead[0].exitcode}): no figure") from None
            if time.monotonic() > deadline:
                raise SystemExit(f"the workers did not finish in {timeout:.0f} s") from None
    return sent


def _plain_loop(messages, port: int) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for message in messages:
            smtp.send_message(message)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_mail"))
    parser.add_argument("--smoke", action="store_true", help="the tiniest run: does the bench still work?")
    args = parser.parse_args()
    if args.smoke:
        args.mails, args.workers = 50, 1

    context = multiprocessing.get_context("spawn")
    port = _free_port()
    ours, theirs = context.Pipe()
    sink = context.Process(target=_sink, args=(port, theirs), daemon=True)
    sink.start()
    assert _ask(ours, sink, timeout=30) == "ready"

    app = _app(args.database_url, port, args.batch)
    started = time.perf_counter()
    _prepare(app, args.mails)
    written = time.perf_counter() - started
    print(f"wrote {args.mails} localized mails to the outbox in {written:.1f} s ({args.mails / written:,.0f}/s)")

    messages = _messages(app)
    limit_seconds = _plain_loop(messages, port)
    total, unique, _ = _ask(ours, sink, "stats")
    assert total == unique == args.mails, (total, unique)
    _ask(ours, sink, "reset")

    start, results = context.Event(), context.Queue()
    workers = [context.Process(target=_worker, args=(args.database_url, port, args.batch, start, results))
               for _ in range(args.workers)]
    for process in workers:
        process.start()
    time.sleep(3)  # the workers build their app, then wait for the start
    started = time.perf_counter()
    start.set()
    sent = _results(results, workers)
    outbox_seconds = time.perf_counter() - started
    for process in workers:
        process.join()
    total, unique, duplicates = _ask(ours, sink, "stats")
    _ask(ours, sink, "stop")

    from sqlalchemy import func, select

    from capital.extensions import db
    from capital.models import Mail, MailState

    with app.app_context():
        marked = db.session.scalar(select(func.count(Mail.id)).where(Mail.state == MailState.SENT))
        db.engine.dispose()

    limit_rate, outbox_rate = args.mails / limit_seconds, args.mails / outbox_seconds
    print(f"{'':<44}{'mails':>8}{'seconds':>10}{'mails/s':>10}")
    print(f"{'limit: smtplib loop, one connection':<44}{args.mails:>8}{limit_seconds:>10.2f}{limit_rate:>10,.0f}")
    print(f"{f'outbox: {args.workers} worker processes, batches of {args.batch}':<44}{sum(sent):>8}"
          f"{outbox_seconds:>10.2f}{outbox_rate:>10,.0f}")
    print(f"outbox / limit: {outbox_rate / limit_rate:.2f} (target >= 0.5)")
    print(f"received by the sink: {total}, distinct Message-IDs: {unique}, duplicates: {duplicates} (target 0)")
    print(f"marked SENT in the outbox: {marked} of {args.mails}; sent per worker: {sent}")
    missed = ([f"the outbox at {outbox_rate / limit_rate:.2f} of the limit"] * (outbox_rate / limit_rate < 0.5)
              + [f"{duplicates} duplicates"] * (duplicates > 0) + [f"{marked} of {args.mails} marked sent"]
              * (marked != args.mails))
    print("targets met" if not missed else "targets NOT met: " + "; ".join(missed))
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())

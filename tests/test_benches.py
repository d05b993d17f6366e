"""Benchmarks that cannot rot: every script of bench/ runs at its tiniest size (``--smoke``) from a clean
copy of the repository's tracked files, and prints its table and its verdict."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from capital.config import ROOT
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL

pytestmark = pytest.mark.redis  # and PostgreSQL: each bench gets a database of its own

BENCHES = sorted(path.name for path in (ROOT / "bench").glob("*.py") if "__main__" in path.read_text("utf-8"))


def _clean_copy(folder: Path) -> Path:
    """The files git tracks, as a fresh clone has them (nothing untracked or built can help a bench)."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in tracked.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, folder / name)
    for catalog in (ROOT / "translations").glob("*/LC_MESSAGES/messages.mo"):  # built by `make catalogs`
        shutil.copy2(catalog, folder / catalog.relative_to(ROOT))
    return folder


def _database(name: str) -> str:
    """A database of the bench's own on the test server, empty."""
    url = make_url(TEST_DATABASE_URL)
    database = f"{url.database}_bench_{name}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    engine.dispose()
    return url.set(database=database).render_as_string(hide_password=False)


def _arguments(copy: Path, bench: str, redis_url: str) -> list[str]:
    usage = subprocess.run([sys.executable, f"bench/{bench}", "--help"], cwd=copy, capture_output=True, text=True,
                           timeout=60).stdout
    assert "--smoke" in usage, f"bench/{bench} takes no --smoke (bench/README.md)"
    arguments = ["--smoke"]
    if "--database-url" in usage:
        arguments += ["--database-url", _database(bench.removesuffix(".py"))]
    if "--redis-url" in usage and bench == "scale.py":  # its worker's broker, emptied by the run
        arguments += ["--redis-url", redis_url]
    return arguments


@pytest.mark.timeout(1200)  # gunicorn, Celery and wrk start in each: slow on a loaded machine, not stuck
def test_every_bench_runs_at_its_tiniest_size_and_prints_its_table(tmp_path):
    assert {"mail.py", "year_page.py", "load.py", "scale.py", "tally.py", "ballot.py"} <= set(BENCHES)
    copy = _clean_copy(tmp_path / "checkout")
    redis_url = TEST_REDIS_URL.rsplit("/", 1)[0] + "/12"
    pending, finished = list(BENCHES), {}
    while pending:  # two at a time: the suite waits less, and two cores are not overrun
        runs = {bench: subprocess.Popen([sys.executable, f"bench/{bench}", *_arguments(copy, bench, redis_url)],
                                        cwd=copy, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for bench in pending[:2]}
        pending = pending[2:]
        finished.update({bench: (process, *process.communicate(timeout=600)) for bench, process in runs.items()})
    for bench, (process, output, errors) in finished.items():
        assert "Traceback" not in errors, f"{bench}:\n{errors[-3000:]}"
        lines = [line for line in output.splitlines() if line.strip()]
        # Its table: a header and rows of figures; its verdict (a tiny run need not meet the targets).
        assert sum(bool(re.search(r"\d", line)) for line in lines) >= 3, f"{bench}:\n{output}"
        assert process.returncode in (0, 1) and lines[-1].startswith(("targets met", "targets NOT met: ")), \
            f"{bench}:\n{output}\n{errors[-3000:]}"

"""The promises the package layout makes, checked in a fresh interpreter."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB_STACK = ("flask", "sqlalchemy", "celery")

# Imports capital.voting and every capital.domain module, runs the recount
# command line (its --help, then a real count), and prints what got loaded.
PROBE = """
import contextlib, io, json, pkgutil, runpy, sys
import capital.domain, capital.voting
domain = [info.name for info in pkgutil.walk_packages(capital.domain.__path__, "capital.domain.")]
for name in domain:
    __import__(name)
statuses = []
for argv in (["--help"], ["--method", "irv", sys.argv[1]]):
    sys.argv = ["python -m capital.voting", *argv]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        try:
            runpy.run_module("capital.voting", run_name="__main__", alter_sys=True)
        except SystemExit as exit:
            statuses.append((exit.code, out.getvalue()))
print(json.dumps({"domain": domain, "statuses": statuses, "modules": sorted(sys.modules)}))
"""


def test_domain_and_voting_load_no_web_stack(tmp_path):
    ballots = tmp_path / "ballots.txt"
    ballots.write_text("3: Venlo > Lyon\n2: Lyon\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", PROBE, str(ballots)], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    report = json.loads(done.stdout)
    assert "capital.domain.phases" in report["domain"]
    (help_status, help_text), (count_status, count_text) = report["statuses"]
    assert help_status == 0 and "usage: python -m capital.voting" in help_text
    assert count_status == 0 and "Winner: Venlo" in count_text
    loaded = [name for name in report["modules"]
              if name.split(".")[0] in WEB_STACK or name.startswith("flask_")]
    assert loaded == []


def test_the_package_still_offers_create_app_and_config_error():
    import capital
    from capital import ConfigError, create_app
    from capital.config import ConfigError as Original

    assert ConfigError is Original
    assert callable(create_app)
    assert set(capital.__all__) == {"ConfigError", "create_app"}

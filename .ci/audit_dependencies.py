"""pip-audit over the pinned constraints.txt, saying plainly when nothing could be checked.

pip-audit exits 0 when its vulnerability service cannot be reached (every dependency is then
"skipped"), and prints "No known vulnerabilities found" even when it audited none of the pins,
which would pass silently. This asks PyPI's JSON API, then OSV, counts the pins of
constraints.txt that the report really audited, and reports:
  exit 1  a pinned dependency has a known vulnerability not listed in .ci/pip-audit-exceptions.txt;
  exit 0  every pin audited and clean, or (with a loud NOT AUDITED message) no service audited them
          all from this machine; CAPITAL_SCAN_STRICT=1 makes that last case exit 2.
"""

from __future__ import annotations

import json
import os
import re
import subprocess  # nosec B404: runs pip-audit, a fixed command
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXCEPTIONS = ROOT / ".ci" / "pip-audit-exceptions.txt"
CONSTRAINTS = ROOT / "constraints.txt"


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def pins() -> set[str]:
    """The names pinned in constraints.txt (``name==version``), normalised."""
    lines = CONSTRAINTS.read_text(encoding="utf-8").splitlines()
    return {_name(match.group(1)) for line in lines if (match := re.match(r"\s*([A-Za-z0-9][\w.-]*)\s*==", line))}


def exceptions() -> list[str]:
    """Vulnerability ids accepted on purpose: one a line, ``ID  reason``; # starts a comment."""
    lines = EXCEPTIONS.read_text(encoding="utf-8").splitlines() if EXCEPTIONS.exists() else []
    return [line.split()[0] for line in lines if line.strip() and not line.lstrip().startswith("#")]


def audit(service: str) -> tuple[dict | None, str]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "pip_audit", "-r", str(CONSTRAINTS), "--no-deps",
                   "--disable-pip", "--progress-spinner", "off", "-s", service, "-f", "json", "-o", str(report)]
        for ident in exceptions():
            command += ["--ignore-vuln", ident]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)  # nosec B603
        error = (done.stderr.strip().splitlines() or [""])[-1]
        return (json.loads(report.read_text()) if report.exists() and report.stat().st_size else None), error


def main() -> int:
    for service in ("pypi", "osv"):
        report, error = audit(service)
        if report is None:
            print(f"pip-audit ({service}): no report: {error}")
            continue
        dependencies = report["dependencies"]
        vulnerable = [dep for dep in dependencies if dep.get("vulns")]
        if vulnerable:
            for dep in vulnerable:
                ids = ", ".join(vuln["id"] for vuln in dep["vulns"])
                print(f"VULNERABLE {dep['name']} {dep['version']}: {ids}")
            print(f"pip-audit ({service}): {len(vulnerable)} pinned dependencies with known vulnerabilities; "
                  f"upgrade the pin in constraints.txt or justify it in {EXCEPTIONS.relative_to(ROOT)}")
            return 1
        skipped = [dep for dep in dependencies if dep.get("skip_reason")]
        pinned = pins()
        missing = pinned - {_name(dep["name"]) for dep in dependencies if not dep.get("skip_reason")}
        if not missing:
            print(f"pip-audit ({service}): {len(pinned)} pinned dependencies audited, no known vulnerability "
                  f"({len(exceptions())} documented exceptions)")
            return 0
        reason = skipped[0]["skip_reason"] if skipped else "absent from the report"
        print(f"pip-audit ({service}): {len(missing)} of {len(pinned)} pinned dependencies not audited "
              f"(such as {sorted(missing)[0]}): {reason}")
    print("NOT AUDITED: no vulnerability service (PyPI's JSON API, OSV) answered from this machine; "
          "the pinned dependencies were NOT checked for known vulnerabilities. Run `make scan` where one answers.")
    return 2 if os.environ.get("CAPITAL_SCAN_STRICT") == "1" else 0


if __name__ == "__main__":
    sys.exit(main())

"""The dependency audit of `make scan` fails on a known vulnerability and says plainly when it checked nothing.

pip-audit itself is replaced by a stand-in writing the report it would write, so these run without a network.
"""

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "audit_dependencies.py"


@pytest.fixture
def audit(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("# pins\nFlask==3.1.9\n")
    monkeypatch.setattr(module, "CONSTRAINTS", constraints, raising=False)
    answers, commands = {}, []

    def fake_run(command, **kwargs):
        commands.append(command)
        service = command[command.index("-s") + 1]
        report = answers.get(service)
        if isinstance(report, dict):
            Path(command[command.index("-o") + 1]).write_text(json.dumps(report))
            return subprocess.CompletedProcess(command, 0, "", "No known vulnerabilities found")
        return subprocess.CompletedProcess(command, 1, "", "ConnectionError: Failed to resolve the service")

    monkeypatch.setattr(module.subprocess, "run", fake_run)
    module.answers, module.commands = answers, commands
    return module


def test_a_vulnerable_pin_fails_the_scan_and_is_named(audit, capsys):
    audit.answers["pypi"] = {"dependencies": [
        {"name": "flask", "version": "3.1.9", "vulns": []},
        {"name": "jinja2", "version": "3.1.0", "vulns": [{"id": "PYSEC-0000-1", "fix_versions": ["3.1.5"]}]},
    ]}
    assert audit.main() == 1
    out = capsys.readouterr().out
    assert "VULNERABLE jinja2 3.1.0: PYSEC-0000-1" in out
    assert "constraints.txt" in audit.commands[0][audit.commands[0].index("-r") + 1]


def test_a_clean_audit_passes_with_a_count(audit, capsys):
    audit.answers["pypi"] = {"dependencies": [{"name": "flask", "version": "3.1.9", "vulns": []}]}
    assert audit.main() == 0
    assert "pip-audit (pypi): 1 pinned dependencies audited, no known vulnerability" in capsys.readouterr().out


def test_unreachable_services_say_not_audited_and_fail_only_when_strict(audit, capsys, monkeypatch):
    audit.answers["pypi"] = {"dependencies": [
        {"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be audited: flask (3.1.9)"}]}
    assert audit.main() == 0
    out = capsys.readouterr().out
    assert "1 of 1 pinned dependencies not audited" in out
    assert "pip-audit (osv): no report: ConnectionError" in out
    assert "NOT AUDITED" in out
    monkeypatch.setenv("CAPITAL_SCAN_STRICT", "1")
    assert audit.main() == 2


def test_osv_is_asked_when_pypi_checks_nothing(audit, capsys):
    audit.answers["osv"] = {"dependencies": [{"name": "flask", "version": "3.1.9", "vulns": []}]}
    assert audit.main() == 0
    assert "pip-audit (osv): 1 pinned dependencies audited, no known vulnerability" in capsys.readouterr().out


def test_documented_exceptions_are_passed_to_pip_audit(audit, tmp_path, monkeypatch):
    exceptions = tmp_path / "exceptions.txt"
    exceptions.write_text("# accepted\nGHSA-aaaa-bbbb-cccc  only reachable through a feature we do not use\n")
    monkeypatch.setattr(audit, "EXCEPTIONS", exceptions)
    audit.answers["pypi"] = {"dependencies": []}
    audit.main()
    command = audit.commands[0]
    assert command[command.index("--ignore-vuln") + 1] == "GHSA-aaaa-bbbb-cccc"


@pytest.mark.parametrize("report", [{"dependencies": []}, {"dependencies": [{"name": "jinja2", "version": "3.1.6",
                                                                            "vulns": []}]}])
def test_a_report_that_audits_none_of_the_pins_never_passes(audit, capsys, monkeypatch, report):
    # pip-audit then prints "No known vulnerabilities found" and exits 0, having audited nothing pinned.
    audit.answers["pypi"] = audit.answers["osv"] = report
    assert audit.main() == 0
    out = capsys.readouterr().out
    assert "1 of 1 pinned dependencies not audited (such as flask)" in out and "NOT AUDITED" in out
    assert "no known vulnerability" not in out
    monkeypatch.setenv("CAPITAL_SCAN_STRICT", "1")
    assert audit.main() == 2


def test_the_real_constraints_are_counted_pin_by_pin():
    spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pinned = module.pins()
    assert len(pinned) > 100 and {"flask", "sqlalchemy", "pillow", "pypdf"} <= pinned

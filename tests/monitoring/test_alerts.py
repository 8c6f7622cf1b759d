"""The alert rules under Prometheus's own tools, Debian's package as `make setup`
installs it: promtool accepts alerts.yml, its unit tests in alerts_test.yml pass, and
every alert there has a case that fires it and one where it must stay quiet."""
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

RULES = Path(__file__).resolve().parents[2] / "monitoring" / "prometheus"


def promtool(*args: str) -> None:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is missing: `make setup` installs Debian's prometheus package")
    done = subprocess.run([binary, *args], cwd=RULES, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"promtool {' '.join(args)}:\n{done.stdout}{done.stderr}"


def test_promtool_accepts_the_rules():
    promtool("check", "rules", "alerts.yml")


def test_the_rules_pass_their_unit_tests():
    promtool("test", "rules", "alerts_test.yml")


def test_every_alert_has_a_case_that_fires_it_and_one_that_must_not():
    alerts = {r["alert"] for g in yaml.safe_load((RULES / "alerts.yml").read_text())["groups"] for r in g["rules"]
              if "alert" in r}
    cases = [c for t in yaml.safe_load((RULES / "alerts_test.yml").read_text())["tests"] for c in t["alert_rule_test"]]
    assert len(alerts) >= 7
    assert alerts - {c["alertname"] for c in cases if c["exp_alerts"]} == set(), "alerts that no case fires"
    assert alerts - {c["alertname"] for c in cases if not c["exp_alerts"]} == set(), "alerts no case keeps quiet"

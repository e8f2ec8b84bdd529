"""The alert rules pass the real ``promtool check rules`` and ``promtool test rules``; the dashboard's
queries parse as PromQL; every metric either one queries is one the plugin exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from imagegate._models import ImageRequest

from .support import FlakyProvider

ASSETS = Path(__file__).resolve().parents[1] / "src" / "imagegate_observability" / "assets"
RULES = ASSETS / "alerts" / "imagegate.rules.yml"
RULE_TESTS = ASSETS / "alerts" / "imagegate.rules.test.yml"
DASHBOARD = ASSETS / "dashboards" / "imagegate.json"
METRIC = re.compile(r"\bimagegate_[a-z0-9_]+")
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is not installed (apt-get install -y prometheus); CI installs it")


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def dashboard_queries() -> list[str]:
    document = json.loads(DASHBOARD.read_text())
    queries = [target["expr"] for panel in document["panels"] for target in panel.get("targets", [])]
    queries += [var["query"]["query"] for var in document["templating"]["list"] if isinstance(var.get("query"), dict)]
    return queries


def rule_queries() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


@needs_promtool
def test_promtool_checks_the_rules() -> None:
    done = promtool("check", "rules", RULES.name, cwd=RULES.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 5 rules found" in done.stdout


@needs_promtool
def test_promtool_unit_tests_the_rules() -> None:
    done = promtool("test", "rules", RULE_TESTS.name, cwd=RULE_TESTS.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


@needs_promtool
def test_dashboard_queries_parse_as_promql(tmp_path: Path) -> None:
    """Each panel query, with Grafana's variables filled in, becomes a recording rule to check."""
    queries = [q for q in dashboard_queries() if not q.startswith("label_values(")]
    filled = [q.replace("$__rate_interval", "5m").replace("$frontend", ".*").replace("$model", ".*")
              for q in queries]
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query{index}", "expr": expr} for index, expr in enumerate(filled)]}]}
    (tmp_path / "dashboard.rules.yml").write_text(yaml.safe_dump(rules))
    done = promtool("check", "rules", "dashboard.rules.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(filled)} rules found" in done.stdout


async def test_every_queried_metric_is_exported(make_gateway: Any) -> None:
    """Drive requests that touch every metric, then compare with the names the registry exposes."""
    from imagegate_observability.metrics import METRIC_NAMES
    from imagegate_observability.telemetry import telemetry_for

    gateway = await make_gateway(FlakyProvider(failures=1))
    await gateway.run("generate", ImageRequest(prompt="x", model="flaky-model"))
    registry = telemetry_for(gateway).metrics.registry
    exported = {sample.name for family in registry.collect() for sample in family.samples}
    assert {name for name in exported if not name.endswith("_created")} >= set(METRIC_NAMES) - {
        "imagegate_request_duration_seconds", "imagegate_upstream_duration_seconds",
        "imagegate_deprecated_requests_total"}
    dashboard = {m for q in dashboard_queries() for m in METRIC.findall(q)}
    rules = {m for q in rule_queries() for m in METRIC.findall(q)}
    assert dashboard and rules
    assert dashboard - exported == set()
    assert rules - exported == set()
    assert {"imagegate_requests_total", "imagegate_cost_usd_total",
            "imagegate_request_duration_seconds_bucket"} <= rules

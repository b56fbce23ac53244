"""`bench/run.py --quick` runs every section end to end and writes results.json with every key.

A smoke test of the benchmark, not a benchmark: nothing here looks at how fast anything is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # the whole benchmark, at tiny sizes

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "bench" / "run.py"

TOP = {
    "schema",
    "quick",
    "machine",
    "load_before",
    "load_after",
    "config",
    "cold_start",
    "discovery",
    "engines",
    "throughput",
    "limits",
    "explain",
    "targets",
    "elapsed_s",
    "output",
}
MACHINE = {
    "hostname",
    "platform",
    "machine",
    "cpu",
    "cpus",
    "cpus_usable",
    "python",
    "python_implementation",
    "python_executable",
    "versions",
    "libyaml",
    "git",
    "date",
}
SUMMARY = {"median", "min", "p90", "max", "n"}
COLD = {
    "runs",
    "warmups",
    "assess_command",
    "assess_via",
    "floor_command",
    "pycache_prefix",
    "assess_wall_ms",
    "floor_wall_ms",
    "assess_cpu_ms",
    "floor_cpu_ms",
    "assess_max_rss_mb",
    "floor_max_rss_mb",
    "ratio",
    "ratio_cpu",
    "ratio_min_cpu",
    "breakdown",
    "imports",
    "profile",
}
PACK = {
    "pack",
    "rules",
    "scopes",
    "stages",
    "cases_per_pass",
    "distinct_cases",
    "facts_per_case",
    "engine_calls_per_case",
    "engines",
    "durable_rulesets",
    "mismatches",
    "errors",
    "fired_per_case",
}
ENGINE = {"build_ms", "ms_per_case", "wall_ms_per_case", "us_per_rule", "cases_per_s", "passes", "x_closure"}
THROUGHPUT = {
    "engine",
    "generation",
    "runs",
    "speedup",
    "parallel_efficiency",
    "machine_scaling_reference",
    "rss",
    "rejected",
}
RUN_KEYS = {
    "processes",
    "cases",
    "wall_s",
    "start_s",
    "cases_per_s",
    "ms_per_case",
    "cpu_ms_per_case",
    "cpu_utilisation",
    "rejected",
    "json_mb",
    "workers",
    "grades",
}
RSS = {"early_cases", "early_mb", "final_cases", "final_mb", "growth"}
TARGETS = {
    "cold_start_ratio",
    "durable_vs_closure_at_50",
    "durable_driver_over_c_at_50",
    "durable_driver_over_c_at_1000",
    "packs_beyond_ruleset_limits",
    "durable_linear_in_rules",
    "engines_agree",
    "worker_rss_flat",
    "template_bombs_bounded",
    "lint_near_linear",
    "explain_big_table",
}


def missing(keys: set, found: dict) -> set:
    return keys - set(found)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    pytest.importorskip("assessor.engines.durable_rules_engine")
    out = tmp_path_factory.mktemp("bench") / "results.json"
    run = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-4000:]
    assert "TARGETS" in run.stdout  # the table was printed
    return json.loads(out.read_text(encoding="utf-8"))


def test_top_level_and_machine(results):
    assert not missing(TOP, results)
    assert results["quick"] is True
    assert not missing(MACHINE, results["machine"])


def test_cold_start(results):
    cold = results["cold_start"]
    assert not missing(COLD, cold)
    for key in ("assess_wall_ms", "floor_wall_ms", "assess_cpu_ms", "floor_cpu_ms"):
        assert not missing(SUMMARY, cold[key]), key
    assert cold["breakdown"]["stages"] and all(
        {"stage", "cpu_ms", "wall_ms"} <= set(s) for s in cold["breakdown"]["stages"]
    )
    assert {"modules_beyond_floor", "self_ms_beyond_floor", "top"} <= set(cold["imports"])
    assert {"total_ms", "by_area_ms", "top_tottime"} <= set(cold["profile"])


def test_engines(results):
    packs = {p["pack"]: p for p in results["engines"]["packs"]}
    assert set(packs) == {"bundled", "generated-50", "generated-200", "generated-1000"}
    for name, pack in packs.items():
        assert not missing(PACK, pack), name
        assert set(pack["engines"]) == {"durable", "durable_c", "durable_own", "python", "closure"}, name
        for kind, figures in pack["engines"].items():
            assert not missing(ENGINE, figures), (name, kind)
        # the C calls replayed are the driver's: as many actions as rules fired (more if split);
        # durable's own calls alone also run the sentinels
        messages = pack["engines"]["durable_c"]["messages_per_case"]
        assert messages >= pack["fired_per_case"] > 0, name
        assert pack["engines"]["durable_own"]["messages_per_case"] > messages, name
        assert pack["engines"]["durable"]["x_durable_c"] > 0, name
        assert pack["engines"]["durable_c"]["x_durable_own"] > 0, name
        assert pack["engines"]["durable"]["x_durable_own"] > 0, name
    assert packs["generated-1000"]["rules"] == 1000
    assert set(results["engines"]["growth"]) == {"durable", "durable_c", "durable_own", "python", "closure"}


def test_throughput(results):
    thr = results["throughput"]
    assert not missing(THROUGHPUT, thr)
    assert [r["processes"] for r in thr["runs"]] == [1, 2]
    for run in thr["runs"]:
        assert not missing(RUN_KEYS, run)
        assert run["cases"] == results["config"]["cases"]
    assert not missing(RSS, thr["rss"])
    assert {"cases", "varied_values_per_case", "mb_written", "seconds"} <= set(thr["generation"])


def test_targets(results):
    targets = {t["id"]: t for t in results["targets"]}
    assert set(targets) == TARGETS
    for t in targets.values():
        assert {"target", "limit", "value", "pass"} <= set(t)
        assert t["pass"] in (True, False)


def test_explain(results):
    ex = results["explain"]
    assert {"rows", "runs", "plain_s", "explain_s", "ratio"} <= set(ex)
    assert ex["rows"] == 50 and not missing(SUMMARY, ex["explain_s"])

"""Cold start: `assess CASE` in a fresh process against the import floor, and where the time goes.

Every child runs with bytecode caching on (PYTHONDONTWRITEBYTECODE removed) and its .pyc files
under a pycache prefix of the benchmark's own, so timing never depends on whether the
environment that launched the benchmark allows writing .pyc files, and the checkout stays clean.
Warm-up runs fill that cache (and any on-disk cache the assessor keeps) before timing.
"""

from __future__ import annotations

import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import CASE, ROOT, summary


def _engine_path() -> str:
    import importlib.util

    spec = importlib.util.find_spec("assessor.engines.durable_rules_engine")
    if spec is None or spec.origin is None:
        raise SystemExit("bench: the durable engine is not built (make install)")
    return spec.origin


# What any assess run must import: its libraries and durable's C engine (loaded from its file,
# without the assessor package around it). Until the engine was built into the package this
# was `durable.lang`, durable-rules' Python DSL, which the driver never imported.
FLOOR_IMPORTS = (
    "import yaml, jinja2, click, importlib.util as u; "
    f"u.module_from_spec(u.spec_from_file_location('durable_rules_engine', {_engine_path()!r}))"
)

_STAGES = r"""
import json, sys, time
marks = [("interpreter start-up", 0.0, 0.0)]
w0 = time.perf_counter(); c0 = time.process_time()
def mark(name):
    marks.append((name, time.perf_counter() - w0, time.process_time()))
import yaml, jinja2, click
mark("import yaml, jinja2, click")
import assessor.cli, assessor.session, assessor.report.render
mark("import assessor (cli, assessment, reporting)")
from assessor.session import Session
from assessor.report.render import render_report
session = Session()
mark("Session(): load and compile rules")
result = session.assess(sys.argv[1])
mark("assess(): case, engines, evaluation, statements")
text = render_report(session.renderer, result, "markdown")
mark("render the markdown report")
session.close()
mark("close")
print(json.dumps({"startup_cpu": c0, "marks": marks}))
"""


def assess_command() -> tuple[list[str], str]:
    script = Path(sys.executable).with_name("assess")
    if script.is_file():
        return [str(script)], "the assess console script"
    return [sys.executable, "-m", "assessor"], "python -m assessor (no assess script beside the interpreter)"


def child_env() -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / f"assessor-bench-pycache-{os.getuid()}")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def _timed(cmd: list[str], env: dict) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one child run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _checked(cmd: list[str], env: dict) -> None:
    out = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {out.returncode}:\n{out.stderr[-2000:]}")


def measure(runs: int, warmups: int = 2) -> dict:
    env = child_env()
    assess, how = assess_command()
    commands = {"assess": assess + [str(CASE.relative_to(ROOT))], "floor": [sys.executable, "-c", FLOOR_IMPORTS]}
    for cmd in commands.values():
        for _ in range(warmups):
            _checked(cmd, env)
    samples: dict = {name: [] for name in commands}
    for i in range(runs):  # interleaved, alternating order, so drift on a shared box hits both alike
        for name in ("floor", "assess") if i % 2 else ("assess", "floor"):
            samples[name].append(_timed(commands[name], env))
    out = {
        "runs": runs,
        "warmups": warmups,
        "assess_command": commands["assess"],
        "assess_via": how,
        "floor_command": commands["floor"],
        "pycache_prefix": env["PYTHONPYCACHEPREFIX"],
    }
    for name, rows in samples.items():
        out[f"{name}_wall_ms"] = summary([r[0] * 1000 for r in rows])
        out[f"{name}_cpu_ms"] = summary([r[1] * 1000 for r in rows])
        out[f"{name}_max_rss_mb"] = round(statistics.median(r[2] for r in rows), 1)
    out["ratio"] = round(out["assess_wall_ms"]["median"] / out["floor_wall_ms"]["median"], 3)
    out["ratio_cpu"] = round(out["assess_cpu_ms"]["median"] / out["floor_cpu_ms"]["median"], 3)
    out["ratio_min_cpu"] = round(out["assess_cpu_ms"]["min"] / out["floor_cpu_ms"]["min"], 3)
    return out


def breakdown(runs: int) -> dict:
    """Median CPU and wall milliseconds of each stage of a cold run, from inside the process."""
    env = child_env()
    rows = []
    for _ in range(max(runs, 1)):
        out = subprocess.run(
            [sys.executable, "-c", _STAGES, str(CASE)], capture_output=True, text=True, env=env, cwd=ROOT
        )
        if out.returncode != 0:
            raise RuntimeError(f"cold-start breakdown failed:\n{out.stderr[-2000:]}")
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    stages = []
    names = [m[0] for m in rows[0]["marks"]]
    for i, name in enumerate(names):
        if i == 0:  # CPU spent before the script's first line: interpreter, site, .pth files
            cpu = [r["startup_cpu"] * 1000 for r in rows]
            wall = None
        else:
            cpu = [(r["marks"][i][2] - (r["startup_cpu"] if i == 1 else r["marks"][i - 1][2])) * 1000 for r in rows]
            wall = round(statistics.median((r["marks"][i][1] - r["marks"][i - 1][1]) * 1000 for r in rows), 1)
        stages.append({"stage": name, "cpu_ms": round(statistics.median(cpu), 1), "wall_ms": wall})
    return {"runs": len(rows), "stages": stages}


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def _import_times(cmd: list[str], env: dict) -> dict:
    out = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    found = {}
    for line in out.stderr.splitlines():
        m = _IMPORT_LINE.match(line)
        if m:
            found[m.group(4)] = int(m.group(1))  # self time, microseconds
    return found


def import_profile(runs: int) -> dict:
    """`-X importtime` of the assess run: modules the floor does not import, by self time."""
    env = child_env()
    floor_cmd = [sys.executable, "-X", "importtime", "-c", FLOOR_IMPORTS]
    assess_cmd = [sys.executable, "-X", "importtime", "-m", "assessor", str(CASE)]
    floor = _import_times(floor_cmd, env)
    per_module: dict = {}
    for _ in range(max(runs, 1)):
        for name, us in _import_times(assess_cmd, env).items():
            per_module.setdefault(name, []).append(us)
    extra = {name: statistics.median(v) for name, v in per_module.items() if name not in floor}
    top = sorted(extra.items(), key=lambda kv: -kv[1])[:15]
    return {
        "runs": max(runs, 1),
        "modules_beyond_floor": len(extra),
        "self_ms_beyond_floor": round(sum(extra.values()) / 1000, 1),
        "top": [{"module": name, "self_ms": round(us / 1000, 2)} for name, us in top],
    }


def _area(filename: str) -> str:
    f = filename.replace("\\", "/")
    for marker, area in (
        ("/jinja2/", "jinja2"),
        ("/yaml/", "yaml"),
        ("/click/", "click"),
        ("/durable", "durable"),
        ("/dataclasses.py", "dataclasses"),
        ("/re/", "re"),
        ("/json/", "json"),
        ("/assessor/", "assessor"),
        (".j2", "templates (rendering)"),
    ):
        if marker in f:
            return area
    if f.startswith("<frozen importlib") or f == "~" or f.startswith("<frozen"):
        return "import machinery and builtins"
    return "other stdlib"


def cprofile(top: int = 15) -> dict:
    """cProfile of one cold `python -m assessor CASE`: top functions and time per area (tottime)."""
    env = child_env()
    with tempfile.TemporaryDirectory() as tmp:
        prof = Path(tmp) / "cold.prof"
        _checked([sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "assessor", str(CASE)], env)
        stats = pstats.Stats(str(prof))
    total = stats.total_tt
    areas: dict = {}
    rows = []
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        areas[_area(filename)] = areas.get(_area(filename), 0.0) + tottime
        rows.append((tottime, cumtime, ncalls, f"{Path(filename).name}:{line}({func})"))
    rows.sort(reverse=True)
    return {
        "total_ms": round(total * 1000, 1),
        "by_area_ms": {k: round(v * 1000, 1) for k, v in sorted(areas.items(), key=lambda kv: -kv[1])},
        "top_tottime": [
            {"function": name, "tottime_ms": round(tt * 1000, 2), "cumtime_ms": round(ct * 1000, 2), "calls": n}
            for tt, ct, n, name in rows[:top]
        ],
        "note": "profiler overhead inflates these figures; compare areas with each other, not with wall time",
    }

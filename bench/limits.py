"""Hostile input, measured (issue 12 §3): each template bomb of the corpus, and lint on long scales.

Bombs: every `template-bomb-*` entry of tests/bad/corpus.yaml, made from tests/bad/base the way
the corpus test makes it, run as `python -m assessor` with no memory limit of the bench's own
(a guard timeout only), timed on the wall clock with the child's peak RSS from wait4. A bomb
passes when it is refused (exit 2) with a located finding (`error: file:line: ...`) in under
5 s and 500 MB.

Lint: `assess lint` on the base rules with one scale of N rungs (`rN: staffed_share >= t`,
thresholds falling), wall time and peak RSS per N; the log-log slope between sizes says how
the time grows (1 = linear).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import common
import yaml

BAD = common.ROOT / "tests" / "bad"
BOMB_SECONDS = 5.0
BOMB_MB = 500.0
LOCATED = re.compile(r"^error: [^:]+:\d+(:\d+)?: ", re.M)


def _run_measured(argv: list, cwd: Path, guard: float = 120.0) -> dict:
    """Wall seconds, CPU seconds and peak RSS (MB) of `python -m assessor ARGV` (the kernel's account
    of that one child, from wait4), its exit code and stderr; killed after GUARD seconds."""
    started = time.perf_counter()
    err = cwd / ".stderr"
    with open(err, "wb") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assessor", *argv],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=f,
            start_new_session=True,
        )
        deadline = started + guard
        status, usage = 0, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    peak = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),  # what load from other processes leaves alone
        "peak_mb": round(peak, 1),
        "exit": proc.returncode,
        "stderr": err.read_text(encoding="utf-8", errors="replace"),
    }


def _text(new) -> str:
    if isinstance(new, str):
        return new
    return "".join(
        p if isinstance(p, str) else "".join(p["repeat"].replace("{i}", str(i)) for i in range(p["times"])) for p in new
    )


def _world(entry: dict, tmp: Path) -> list:
    shutil.copytree(BAD / "base" / "rules", tmp / "rules")
    shutil.copytree(BAD / "base" / "templates", tmp / "templates")
    shutil.copyfile(BAD / "base" / "case.yaml", tmp / "case.yaml")
    for name, edits in (entry.get("templates_edit") or {}).items():
        path = tmp / "templates" / name
        text = path.read_text(encoding="utf-8")
        for old, new in edits:
            text = text.replace(old, _text(new))
        path.write_text(text, encoding="utf-8")
    return ["case.yaml", "--rules", "rules", "--templates", "templates", "-o", "report.md", *entry.get("args", [])]


def bombs(tmp: Path) -> list:
    corpus = yaml.safe_load((BAD / "corpus.yaml").read_text(encoding="utf-8"))
    rows = []
    for entry in corpus:
        if not entry["id"].startswith("template-bomb-"):
            continue
        where = tmp / entry["id"]
        where.mkdir()
        r = _run_measured(_world(entry, where), where)
        located = bool(LOCATED.search(r["stderr"]))
        rows.append(
            {
                "id": entry["id"],
                "seconds": r["seconds"],
                "cpu_seconds": r["cpu_seconds"],
                "peak_mb": r["peak_mb"],
                "exit": r["exit"],
                "located": located,
                "message": r["stderr"].strip().splitlines()[0][:200] if r["stderr"].strip() else "",
                "pass": r["exit"] == 2 and located and r["seconds"] < BOMB_SECONDS and r["peak_mb"] < BOMB_MB,
            }
        )
    return rows


def long_scale(tmp: Path, rungs: int) -> Path:
    """The base world with the `extent` scale of criterion staffing grown to RUNGS more rungs."""
    where = tmp / f"scale-{rungs}"
    shutil.copytree(BAD / "base", where)
    path = where / "rules" / "policing.yaml"
    text = path.read_text(encoding="utf-8")
    anchor = "        - all: staffed_share == 1 and supervised == count(units)\n"
    # thresholds fall from 1 towards 0.5, above the next rung (`most: staffed_share >= 0.5`): all reachable
    ladder = "".join(f"        - r{i}: staffed_share >= {1 - 0.5 * (i + 1) / (rungs + 2):.6f}\n" for i in range(rungs))
    path.write_text(text.replace(anchor, anchor + ladder), encoding="utf-8")
    return where


def lint_scaling(tmp: Path, sizes: tuple) -> dict:
    rows = []
    for n in sizes:
        where = long_scale(tmp, n)
        r = _run_measured(["lint", "rules", "case.yaml", "--templates", "templates"], where, guard=900.0)
        rows.append({"rungs": n, "seconds": r["seconds"], "peak_mb": r["peak_mb"], "exit": r["exit"]})
    slopes = {
        f"{a['rungs']}->{b['rungs']}": round(
            math.log(b["seconds"] / a["seconds"]) / math.log(b["rungs"] / a["rungs"]), 3
        )
        for a, b in zip(rows, rows[1:])
        if a["seconds"] > 0
    }
    return {"runs": rows, "loglog_slope": slopes}

"""Throughput: many generated case files assessed end to end (parse, evaluate, JSON) in a pool.

Cases are the Cambridgeshire case with its evidence and survey figures perturbed
deterministically (seeded per case), spliced into the original text at the positions of the
scalars, so narrative, comments and layout, and with them the parsing cost, stay those of a
real case. Ranges the rules declare (min, max, one-of values) are respected, so every case
loads; a case that does not is counted as rejected.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import random
import time
from collections import Counter
from pathlib import Path

from common import CASE, rss_mb

_COUNT_FIGURES = ("n", "previous_n", "msf_n")


# --- generating cases --------------------------------------------------------------------------


def _specs(book) -> dict:
    """framework -> criterion -> fact -> FactSpec; the framework's own facts under the key None."""
    return {
        fw.id: {None: {s.name: s for s in fw.evidence}, **{c.id: {s.name: s for s in c.evidence} for c in fw.criteria}}
        for fw in book.frameworks
    }


def _mapping(node) -> dict:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: v for k, v in node.value}


def _scalar_targets(text: str, book) -> list:
    """(start, end, perturb) for every evidence value and survey figure we vary."""
    import yaml

    root = yaml.compose(text, Loader=yaml.SafeLoader)  # the pure-Python loader: marks count characters
    specs = _specs(book)
    targets = []

    def add(node, make):
        if isinstance(node, yaml.ScalarNode):
            fn = make(node)
            if fn is not None:
                targets.append((node.start_mark.index, node.end_mark.index, fn))

    for fw_id, fw_node in _mapping(_mapping(root).get("frameworks")).items():
        fw = _mapping(fw_node)
        owners = [(None, fw_node)] + list(
            _mapping(fw.get("criteria")).items()
        )  # the framework's facts, then each criterion's
        for crit_id, crit_node in owners:
            facts = specs.get(fw_id, {}).get(crit_id, {})
            for fact, value in _mapping(_mapping(crit_node).get("evidence")).items():
                spec = facts.get(fact)
                if spec is None:
                    continue
                if spec.type == "table":
                    columns = dict(spec.columns)
                    for row in getattr(value, "value", ()):
                        for col, cell in _mapping(row).items():
                            if col in columns:
                                add(cell, lambda node, s=columns[col]: _perturber(node, s))
                else:
                    add(value, lambda node, s=spec: _perturber(node, s))
        for _ind, figures in _mapping(fw.get("surveys")).items():
            for key, value in _mapping(figures).items():
                count = key in _COUNT_FIGURES or key.endswith("_n")
                add(value, lambda node, c=count: _survey_perturber(node, c))
    targets.sort(key=lambda t: t[0])
    return targets


def _perturber(node, spec):
    tag, raw = node.tag, node.value
    if spec.type == "yes/no" and tag == "tag:yaml.org,2002:bool":
        value = raw.lower() in ("yes", "true", "on", "y")
        return lambda rng: ("no" if value else "yes") if rng.random() < 0.25 else raw
    if spec.type == "one-of" and spec.values and raw != "unknown":
        return lambda rng: json.dumps(rng.choice(spec.values)) if rng.random() < 0.25 else raw
    if spec.type == "integer" and tag == "tag:yaml.org,2002:int":
        v = int(raw)
        lo = max(math.ceil(spec.min) if spec.min is not None else 0, 1 if v >= 1 else 0)
        hi = math.floor(spec.max) if spec.max is not None else None

        def integer(rng):
            new = max(lo, round(v * rng.uniform(0.7, 1.3)) + rng.choice((-1, 0, 1)))
            return str(new if hi is None else min(hi, new))

        return integer
    if spec.type in ("number", "percentage") and tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        v = float(raw)
        lo = spec.min if spec.min is not None else 0.0
        hi = spec.max if spec.max is not None else (100.0 if spec.type == "percentage" else None)
        if v > 0:
            lo = max(lo, min(v, 0.01))  # a positive figure stays positive (it may divide)

        def number(rng):
            new = max(lo, v * rng.uniform(0.8, 1.2) + (rng.uniform(-3, 3) if spec.type == "percentage" else 0))
            return f"{(new if hi is None else min(hi, new)):.2f}"

        return number
    return None


def _survey_perturber(node, count: bool):
    if node.tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        return None
    v = float(node.value)
    if count:
        return lambda rng: str(max(1, round(v * rng.uniform(0.8, 1.2))))
    return lambda rng: f"{min(99.5, max(0.5, v + rng.uniform(-6, 6))):.2f}"


def generate(directory: Path, count: int, book, seed: int = 2008) -> dict:
    """Write `count` perturbed copies of the Cambridgeshire case into `directory`."""
    start = time.perf_counter()
    text = CASE.read_text(encoding="utf-8")
    targets = _scalar_targets(text, book)
    total = 0
    for i in range(count):
        rng = random.Random(seed * 1_000_003 + i)
        pieces, last = [], 0
        for begin, end, perturb in targets:
            pieces.append(text[last:begin])
            pieces.append(perturb(rng))
            last = end
        pieces.append(text[last:])
        body = "".join(pieces)
        (directory / f"case-{i:05d}.yaml").write_text(body, encoding="utf-8")
        total += len(body)
    return {
        "cases": count,
        "varied_values_per_case": len(targets),
        "mb_written": round(total / 1e6, 1),
        "seconds": round(time.perf_counter() - start, 2),
    }


# --- the pool ----------------------------------------------------------------------------------

_state: dict = {}


def _init(barrier, engine: str) -> None:
    from assessor.report.render import render_report
    from assessor.session import Session

    session = Session(engine=engine)
    render_report(session.renderer, session.assess(CASE), "json")  # warm: engines built, templates loaded
    _state.update(session=session, render=render_report, done=0)
    barrier.wait()


def _work(paths: list) -> dict:
    from assessor.errors import AssessorError

    session, render = _state["session"], _state["render"]
    cpu0 = time.process_time()
    grades: Counter = Counter()
    rejected, size = 0, 0
    for path in paths:
        try:
            result = session.assess(path)
        except AssessorError:
            rejected += 1
            continue
        size += len(render(session.renderer, result, "json"))
        for fw in result["frameworks"]:
            grades[f"{fw['id']}:{fw.get('rule_grade')}"] += 1
    _state["done"] += len(paths)
    return {
        "pid": os.getpid(),
        "done": _state["done"],
        "rss_mb": rss_mb(),
        "rejected": rejected,
        "json_bytes": size,
        "grades": dict(grades),
        "cpu_s": time.process_time() - cpu0,
    }


def run_pool(paths: list, processes: int, engine: str, chunk: int, rss_checkpoint: int) -> dict:
    """Assess every path with `processes` spawned workers, each with its own warm Session.
    The clock starts once every worker is warm (the barrier) and stops at the last result."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(processes + 1)
    chunks = [paths[i : i + chunk] for i in range(0, len(paths), chunk)]
    boot = time.perf_counter()
    with ctx.Pool(processes, initializer=_init, initargs=(barrier, engine)) as pool:
        barrier.wait(timeout=180)  # a worker that cannot build its Session breaks it
        warm_s = time.perf_counter() - boot
        start = time.perf_counter()
        results = list(pool.imap_unordered(_work, chunks))
        wall = time.perf_counter() - start
        pool.close()
        pool.join()
    workers: dict = {}
    grades: Counter = Counter()
    for r in results:
        w = workers.setdefault(r["pid"], {"cases": 0, "rss_at": {}})
        w["cases"] = max(w["cases"], r["done"])
        w["rss_at"][r["done"]] = r["rss_mb"]
        grades.update(r["grades"])
    for w in workers.values():
        marks = sorted(w.pop("rss_at").items())
        early = next(((n, mb) for n, mb in marks if n >= rss_checkpoint), marks[0])
        w.update(
            rss_early_cases=early[0], rss_early_mb=early[1], rss_final_cases=marks[-1][0], rss_final_mb=marks[-1][1]
        )
    done = sum(len(c) for c in chunks)
    cpu = sum(r["cpu_s"] for r in results)
    return {
        "processes": processes,
        "cases": done,
        "wall_s": round(wall, 2),
        "start_s": round(warm_s, 2),
        "cases_per_s": round(done / wall, 1),
        "ms_per_case": round(wall * 1000 / done, 3),
        # CPU the workers got, per case and as a share of processes x wall: a low share means
        # the workers waited for a CPU (other load), a high one that each case cost more
        "cpu_ms_per_case": round(cpu * 1000 / done, 3),
        "cpu_utilisation": round(cpu / (wall * processes), 3),
        "rejected": sum(r["rejected"] for r in results),
        "json_mb": round(sum(r["json_bytes"] for r in results) / 1e6, 1),
        "workers": sorted(workers.values(), key=lambda w: -w["cases"]),
        "grades": dict(sorted(grades.items())),
    }


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def cpu_scaling(seconds: float = 1.0) -> dict:
    """The machine's own ceiling: a pure-Python loop split over 1 and 2 processes (same total work)."""
    n = 1_000_000
    start = time.perf_counter()
    _spin(n)
    per_unit = time.perf_counter() - start
    units = max(2, int(seconds / max(per_unit, 1e-6)) // 2 * 2)
    ctx = mp.get_context("spawn")
    out = {}
    for procs in (1, 2):
        with ctx.Pool(procs) as pool:
            pool.map(_spin, [10] * procs)  # started
            start = time.perf_counter()
            pool.map(_spin, [n] * units, chunksize=1)
            out[procs] = time.perf_counter() - start
    return {
        "work_units": units,
        "seconds_1": round(out[1], 2),
        "seconds_2": round(out[2], 2),
        "speedup": round(out[1] / out[2], 2),
        "efficiency": round(out[1] / out[2] / 2, 2),
    }

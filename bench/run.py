"""`make bench`: measure cold start, engine time per case and throughput; write bench/results.json.

    python bench/run.py            the full run (about 6-10 minutes on a 2-core box)
    python bench/run.py --quick    a smoke run with tiny sizes (seconds); same keys in results.json

Measures and reports; it asserts nothing about speed (the test suite has no timing
assertions). Each target is recorded with its figure and pass/fail. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402  (also puts the checkout on sys.path when assessor is not installed)
import explain  # noqa: E402

FULL = {
    "cold_runs": 15,
    "breakdown_runs": 5,
    "importtime_runs": 3,
    "pack_sizes": (50, 200, 1000),
    "pack_cases": 100,
    "min_pass_cases": 200,
    "engine_rounds": 15,
    "cases": 10_000,
    "chunk": 50,
    "rss_checkpoint": 1_000,
    "scaling_seconds": 2.0,
    "discovery_runs": 200,
    "lint_rungs": (1_000, 3_000, 10_000),
    "explain_rows": 1000,
    "explain_runs": 3,
}
QUICK = {
    "cold_runs": 3,
    "breakdown_runs": 1,
    "importtime_runs": 1,
    "pack_sizes": (50, 200, 1000),
    "pack_cases": 3,
    "min_pass_cases": 3,
    "engine_rounds": 1,
    "cases": 40,
    "chunk": 5,
    "rss_checkpoint": 10,
    "scaling_seconds": 0.2,
    "discovery_runs": 5,
    "lint_rungs": (50, 150),
    "explain_rows": 50,
    "explain_runs": 1,
}

TARGETS = {
    "cold_start_ratio": "cold `assess CASE` median wall time / import-floor median wall time <= 1.5",
    "durable_vs_closure_at_50": "durable engine time per case <= 3x the closure baseline, 50-rule pack",
    "packs_beyond_ruleset_limits": "packs over durable's 200 rules per ruleset build, shard and agree "
    "with the python engine and the closures",
    "durable_driver_over_c_at_50": "durable engine time per case <= 1.2x durable's own C calls on the same "
    "facts (assert, actions, delete; the batch JSON written beforehand), 50-rule pack; median over rounds of "
    "the two timed side by side",
    "durable_driver_over_c_at_1000": "durable engine time per case <= 1.2x durable's own C calls on the same "
    "facts (assert, actions, delete; the batch JSON written beforehand), 1,000-rule pack; median over rounds "
    "of the two timed side by side",
    "durable_linear_in_rules": "durable time per case grows at most linearly with rules: "
    "log-log slope from 200 to 1,000 rules <= 1.15",
    "engines_agree": "durable, python and closures give the same firings on every case of every pack",
    "worker_rss_flat": "a worker's RSS after the last case within 10% of its RSS after the first 1k cases",
    "template_bombs_bounded": "every template bomb of the corpus refused (exit 2, located) in < 5 s and < 500 MB",
    "lint_near_linear": "lint time on one long scale grows near-linearly: log-log slope of the last two sizes <= 1.3",
    "explain_big_table": "`assess --explain` on a 1,000-row table (50 rows when quick): median wall time <= 10 s",
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- sections ----------------------------------------------------------------------------------


def cold_section(cfg: dict) -> dict:
    import cold

    log(f"cold start: {cfg['cold_runs']} interleaved runs each of assess and the import floor ...")
    out = cold.measure(cfg["cold_runs"])
    log("cold start: stage breakdown, -X importtime, cProfile ...")
    out["breakdown"] = cold.breakdown(cfg["breakdown_runs"])
    out["imports"] = cold.import_profile(cfg["importtime_runs"])
    out["profile"] = cold.cprofile()
    return out


def discovery_section(cfg: dict) -> dict:
    import discovery

    log(f"discovery: {cfg['discovery_runs']} calls each of locate() and the revision ...")
    return discovery.measure(cfg["discovery_runs"])


def engines_section(cfg: dict) -> dict:
    import packs

    prepared = []
    bundled = packs.bundled_packs()
    log(
        f"engines: bundled rules ({sum(len(p.rules) for p in bundled)} rules, {len(bundled)} frameworks), "
        f"generated packs of {', '.join(map(str, cfg['pack_sizes']))} rules: build and check ..."
    )
    prepared.append(_prepare(packs, bundled, "bundled", cfg))
    for n in cfg["pack_sizes"]:
        prepared.append(_prepare(packs, [packs.generated_pack(n, cfg["pack_cases"])], f"generated-{n}", cfg))
    log(f"engines: {cfg['engine_rounds']} timed rounds ...")
    rows = packs.measure(prepared, cfg["engine_rounds"])
    growth = {}
    generated = [r for r in rows if r["pack"].startswith("generated-")]
    for kind in ("durable", "durable_c", "durable_own", "python", "closure"):
        per = [(r["rules"], r["engines"].get(kind, {}).get("ms_per_case")) for r in generated]
        per = [(n, t) for n, t in per if t]
        if len(per) >= 2:
            slopes = {
                f"{a}->{b}": round(math.log(tb / ta) / math.log(b / a), 3) for (a, ta), (b, tb) in zip(per, per[1:])
            }
            growth[kind] = {"loglog_slope": slopes, "us_per_rule": {str(n): round(t * 1000 / n, 3) for n, t in per}}
    return {
        "timing": "CPU time of this process per case, median over rounds; wall_ms_per_case beside it",
        "packs": rows,
        "growth": growth,
    }


def _prepare(packs, pack_list, name: str, cfg: dict):
    """A pass is at least min_pass_cases evaluations (small packs cycle through their cases)."""
    n_cases = max(len(p.cases) for p in pack_list)
    reps = max(1, math.ceil(cfg["min_pass_cases"] / n_cases))
    expanded = [packs.Pack(p.name, p.rules, p.baseline, p.cases * reps, p.scopes, p.stages) for p in pack_list]
    prep = packs.Prepared(expanded, name)
    prep.row["distinct_cases"] = n_cases
    return prep


def throughput_section(cfg: dict, engine: str) -> dict:
    import throughput

    from assessor.session import Session

    with Session(engine=engine) as session:
        book = session.book
        with tempfile.TemporaryDirectory(prefix="assessor-bench-cases-") as tmp:
            directory = Path(tmp)
            log(f"throughput: writing {cfg['cases']:,} generated cases to {directory} ...")
            gen = throughput.generate(directory, cfg["cases"], book)
            paths = sorted(str(p) for p in directory.glob("case-*.yaml"))
            for p in paths[:3]:  # fail fast, with the finding, if the generator makes a bad case
                session.assess(p)
            log("throughput: pure-Python scaling reference (before) ...")
            scaling_before = throughput.cpu_scaling(cfg["scaling_seconds"])
            runs = []
            for procs in (1, 2):
                log(f"throughput: {len(paths):,} cases, {procs} process(es), engine {engine} ...")
                runs.append(throughput.run_pool(paths, procs, engine, cfg["chunk"], cfg["rss_checkpoint"]))
    log("throughput: pure-Python scaling reference (after) ...")
    scaling = {"before": scaling_before, "after": throughput.cpu_scaling(cfg["scaling_seconds"])}
    one, two = runs
    worker = one["workers"][0]
    return {
        "engine": engine,
        "generation": gen,
        "runs": runs,
        "speedup": round(two["cases_per_s"] / one["cases_per_s"], 3),
        "parallel_efficiency": round(two["cases_per_s"] / one["cases_per_s"] / 2, 3),
        "machine_scaling_reference": scaling,
        "rss": {
            "early_cases": worker["rss_early_cases"],
            "early_mb": worker["rss_early_mb"],
            "final_cases": worker["rss_final_cases"],
            "final_mb": worker["rss_final_mb"],
            "growth": round(worker["rss_final_mb"] / worker["rss_early_mb"], 4),
        },
        "rejected": sum(r["rejected"] for r in runs),
    }


# --- targets and output ------------------------------------------------------------------------


def limits_section(cfg: dict) -> dict:
    import limits

    with tempfile.TemporaryDirectory(prefix="assess-bench-limits-") as tmp:
        log("limits: each template bomb of the corpus ...")
        bombs = limits.bombs(Path(tmp))
        log(f"limits: lint on one scale of {', '.join(f'{n:,}' for n in cfg['lint_rungs'])} rungs ...")
        lint = limits.lint_scaling(Path(tmp), tuple(cfg["lint_rungs"]))
    return {"bombs": bombs, "lint": lint}


def evaluate_targets(results: dict) -> list:
    out = []

    def add(tid, value, ok, limit):
        out.append(
            {
                "id": tid,
                "target": TARGETS[tid],
                "limit": limit,
                "value": value,
                "pass": None if ok is None else bool(ok),
            }
        )

    cold_r = results.get("cold_start")
    ratio = cold_r["ratio"] if cold_r else None
    add("cold_start_ratio", ratio, None if ratio is None else ratio <= 1.5, 1.5)
    eng = results.get("engines")
    packs = {r["pack"]: r for r in eng["packs"]} if eng else {}
    r50 = packs.get("generated-50", {}).get("engines", {}).get("durable", {}).get("x_closure")
    add("durable_vs_closure_at_50", r50, None if r50 is None else r50 <= 3.0, 3.0)
    for n in (50, 1000):
        over = packs.get(f"generated-{n}", {}).get("engines", {}).get("durable", {}).get("x_durable_own")
        add(f"durable_driver_over_c_at_{n}", over, None if over is None else over <= 1.2, 1.2)
    big = [r for name, r in packs.items() if name.startswith("generated-") and r["rules"] > 200]
    ok_big = (
        all(not r["errors"] and r["mismatches"] == 0 and "ms_per_case" in r["engines"].get("durable", {}) for r in big)
        if big
        else None
    )
    add(
        "packs_beyond_ruleset_limits",
        {
            r["pack"]: {
                "durable_rulesets": r.get("durable_rulesets"),
                "errors": r["errors"],
                "mismatches": r["mismatches"],
            }
            for r in big
        }
        if big
        else None,
        ok_big,
        None,
    )
    slope = (eng or {}).get("growth", {}).get("durable", {}).get("loglog_slope", {}).get("200->1000")
    add("durable_linear_in_rules", slope, None if slope is None else slope <= 1.15, 1.15)
    if packs:
        bad = {name: r["mismatches"] for name, r in packs.items() if r["mismatches"] or r["errors"]}
        add("engines_agree", bad or 0, not bad, 0)
    else:
        add("engines_agree", None, None, 0)
    thr = results.get("throughput")
    growth = thr["rss"]["growth"] if thr else None
    add("worker_rss_flat", growth, None if growth is None else growth <= 1.10, 1.10)
    lim = results.get("limits")
    failing = [b["id"] for b in lim["bombs"] if not b["pass"]] if lim else None
    add("template_bombs_bounded", failing if failing else (0 if lim else None), None if lim is None else not failing, 0)
    slopes = list(lim["lint"]["loglog_slope"].values()) if lim else []
    add("lint_near_linear", slopes[-1] if slopes else None, slopes[-1] <= 1.3 if slopes else None, 1.3)
    ex = results.get("explain")
    seconds = ex["explain_s"]["median"] if ex else None
    add("explain_big_table", seconds, None if seconds is None else seconds <= 10.0, 10.0)
    return out


def _fmt(v, digits=2) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return str(v)


def table(results: dict) -> str:
    lines = []
    m = results["machine"]
    lines.append(
        f"assessor bench  {m['date']}  {'QUICK (smoke sizes) ' if results['quick'] else ''}"
        f"python {m['python']}  {m['cpus_usable']} cpu(s) {m['cpu']}  load {results['load_before']}"
        f" -> {results['load_after']}"
    )
    d = results.get("discovery")
    if d:
        lines += [
            "",
            f"RULEBOOK DISCOVERY (median wall ms per call, {d['nearest_case_6_deep_ms']['n']} calls)",
            f"  {'rulebook.yaml 6 folders above the case':48}{d['nearest_case_6_deep_ms']['median']:>8.3f}",
            f"  {'no manifest: the bundled one, 8+ folders up':48}{d['bundled_fallback_8_deep_ms']['median']:>8.3f}",
            f"  {'the first, plus its revision over ' + str(d['files_hashed']) + ' files':48}"
            f"{d['with_revision_ms']['median']:>8.3f}",
        ]
    c = results.get("cold_start")
    if c:
        lines += [
            "",
            f"COLD START ({c['runs']} runs each, interleaved; assess via {c['assess_via']})",
            f"  {'':28}{'median ms':>10}{'min ms':>9}{'p90 ms':>9}{'cpu ms':>9}{'maxrss MB':>10}",
        ]
        for name, label in (("assess", "assess CASE > /dev/null"), ("floor", "import floor")):
            w, cpu = c[f"{name}_wall_ms"], c[f"{name}_cpu_ms"]
            lines.append(
                f"  {label:28}{w['median']:>10.1f}{w['min']:>9.1f}{w['p90']:>9.1f}{cpu['median']:>9.1f}"
                f"{c[f'{name}_max_rss_mb']:>10.1f}"
            )
        lines.append(
            f"  ratio (wall medians) {c['ratio']:.2f}   cpu medians {c['ratio_cpu']:.2f}   "
            f"cpu minima {c['ratio_min_cpu']:.2f}   target <= 1.5"
        )
        lines.append("  where a cold run spends its CPU (median of in-process stage marks):")
        for s in c["breakdown"]["stages"]:
            lines.append(f"    {s['stage']:52}{s['cpu_ms']:>8.1f} ms cpu")
        imp = c["imports"]
        lines.append(
            f"  imports beyond the floor: {imp['modules_beyond_floor']} modules, "
            f"{imp['self_ms_beyond_floor']} ms self time; top: "
            + ", ".join(f"{t['module']} {t['self_ms']}" for t in imp["top"][:6])
        )
        lines.append(
            "  cProfile by area (ms, inflated by the profiler): "
            + ", ".join(f"{k} {v}" for k, v in list(c["profile"]["by_area_ms"].items())[:7])
        )
    e = results.get("engines")
    if e:
        lines += [
            "",
            "ENGINES (CPU ms per case, median of rounds; x = times the hand-written closures)",
            f"  {'pack':14}{'rules':>6}{'facts':>6}{'fired':>6}{'rulesets':>9}"
            f"{'durable ms':>12}{'x':>6}{'python ms':>11}{'x':>6}{'closure ms':>12}"
            f"{'durable us/rule':>16}{'mismatch':>9}",
        ]
        for r in e["packs"]:
            d, p, cl = (r["engines"].get(k, {}) for k in ("durable", "python", "closure"))
            lines.append(
                f"  {r['pack']:14}{r['rules']:>6}{_fmt(r['facts_per_case'], 0):>6}"
                f"{_fmt(r.get('fired_per_case'), 0):>6}{_fmt(r.get('durable_rulesets')):>9}"
                f"{_fmt(d.get('ms_per_case'), 3):>12}{_fmt(d.get('x_closure')):>6}"
                f"{_fmt(p.get('ms_per_case'), 3):>11}{_fmt(p.get('x_closure')):>6}"
                f"{_fmt(cl.get('ms_per_case'), 3):>12}{_fmt(d.get('us_per_rule'), 2):>16}"
                f"{r['mismatches']:>9}" + (f"  errors: {r['errors']}" if r["errors"] else "")
            )
        lines += [
            "",
            "  durable's driver over the C calls it makes (same facts and rounds, replayed: our C driver function",
            "  per stage, which per shard writes the batch, runs durable and reads its messages), those over",
            "  durable's own calls alone (assert, actions, delete on the same batch text, messages unread), and the",
            "  whole driver over durable's own calls (the target: <= 1.2). Each ratio is the median over rounds of",
            "  the two timed side by side in one round; the spread of driver / own over the rounds beside it",
            "  (min [p25-p75] max)",
            f"  {'pack':14}{'durable ms':>12}{'C calls ms':>12}{'driver / C':>12}{'own C ms':>10}{'C / own':>9}"
            f"{'driver / own':>14}  {'spread over rounds':26}{'messages':>9}",
        ]
        for r in e["packs"]:
            d, c = r["engines"].get("durable", {}), r["engines"].get("durable_c", {})
            o = r["engines"].get("durable_own", {})
            rounds = d.get("x_durable_own_rounds")
            spread = (
                f"{rounds['min']:.3f} [{rounds['p25']:.3f}-{rounds['p75']:.3f}] {rounds['max']:.3f}" if rounds else "-"
            )
            lines.append(
                f"  {r['pack']:14}{_fmt(d.get('ms_per_case'), 3):>12}{_fmt(c.get('ms_per_case'), 3):>12}"
                f"{_fmt(d.get('x_durable_c'), 3):>12}{_fmt(o.get('ms_per_case'), 3):>10}"
                f"{_fmt(c.get('x_durable_own'), 3):>9}{_fmt(d.get('x_durable_own'), 3):>14}  {spread:26}"
                f"{_fmt(c.get('messages_per_case'), 1):>9}"
            )
        for kind, g in e["growth"].items():
            lines.append(f"  {kind:8} log-log slope {g['loglog_slope']}  us/rule {g['us_per_rule']}")
    t = results.get("throughput")
    if t:
        g = t["generation"]
        lines += [
            "",
            f"THROUGHPUT ({g['cases']:,} generated cases, {g['varied_values_per_case']} values varied per "
            f"case, {g['mb_written']} MB written in {g['seconds']} s; engine {t['engine']}; "
            "parse + evaluate + JSON)",
            f"  {'processes':>10}{'cases/s':>10}{'ms/case':>9}{'wall s':>8}{'start s':>8}{'rejected':>9}"
            f"{'worker RSS MB (cases)':>30}",
        ]
        for r in t["runs"]:
            rss = "  ".join(
                f"{w['rss_early_mb']}({w['rss_early_cases']})->{w['rss_final_mb']}({w['rss_final_cases']})"
                for w in r["workers"]
            )
            lines.append(
                f"  {r['processes']:>10}{r['cases_per_s']:>10.1f}{r['ms_per_case']:>9.2f}{r['wall_s']:>8.1f}"
                f"{r['start_s']:>8.1f}{r['rejected']:>9}   {rss}"
            )
        s = t["machine_scaling_reference"]
        lines.append(
            f"  speedup 2 vs 1: {t['speedup']:.2f}  parallel efficiency {t['parallel_efficiency']:.2f}   "
            f"(this machine, pure-Python loop, before/after: speedup {s['before']['speedup']:.2f}/"
            f"{s['after']['speedup']:.2f})"
        )
        lines.append(
            "  worker CPU ms per case / CPU share of processes x wall: "
            + ", ".join(
                f"{r['processes']} proc {r['cpu_ms_per_case']:.2f} / {r['cpu_utilisation']:.2f}" for r in t["runs"]
            )
        )
        lines.append(
            f"  worker RSS {t['rss']['early_mb']} MB at {t['rss']['early_cases']:,} cases -> "
            f"{t['rss']['final_mb']} MB at {t['rss']['final_cases']:,}: x{t['rss']['growth']:.3f}"
        )
    ex = results.get("explain")
    if ex:
        lines += [
            "",
            f"EXPLAIN  a {ex['rows']:,}-row table: plain {ex['plain_s']['median']:.2f} s, "
            f"--explain {ex['explain_s']['median']:.2f} s (x{ex['ratio']})",
        ]
    lines += ["", "TARGETS"]
    lim = results.get("limits")
    if lim:
        lines.append("\nTemplate bombs (each refused with a located error; target < 5 s, < 500 MB)")
        for b in lim["bombs"]:
            lines.append(
                f"  {b['id']:<48} {b['seconds']:6.2f} s ({b['cpu_seconds']:5.2f} s CPU) {b['peak_mb']:7.1f} MB"
                f"  exit {b['exit']}"
                f"  {'located' if b['located'] else 'NOT LOCATED'}  {'ok' if b['pass'] else 'FAIL'}"
            )
        lines.append("Lint on one long scale")
        for r in lim["lint"]["runs"]:
            lines.append(f"  {r['rungs']:>7,} rungs {r['seconds']:8.2f} s {r['peak_mb']:7.1f} MB  exit {r['exit']}")
        lines.append(f"  log-log slope {lim['lint']['loglog_slope']}")
    for tg in results["targets"]:
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[tg["pass"]]
        value = tg["value"]
        shown = json.dumps(value) if isinstance(value, (dict, list)) else _fmt(value, 3)
        lines.append(f"  {verdict}  {tg['id']:30} {shown}   ({tg['target']})")
    lines.append(f"\nelapsed {results['elapsed_s']:.0f} s; results in {results['output']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run of every section")
    ap.add_argument(
        "--out",
        type=Path,
        default=common.ROOT / "bench" / "results.json",
        help="where to write the results (default bench/results.json)",
    )
    ap.add_argument(
        "--only",
        choices=("cold", "discovery", "engines", "throughput", "limits", "explain"),
        action="append",
        help="run only these sections (repeatable); targets of the others are n/a",
    )
    ap.add_argument("--cases", type=int, help="throughput: number of generated cases")
    ap.add_argument(
        "--cold-runs", type=int, help="cold start: timed runs of each command (at least 10 for a figure worth quoting)"
    )
    ap.add_argument(
        "--engine",
        default="durable",
        choices=("durable", "python"),
        help="throughput: the engine each worker's Session uses (default durable, as `assess`)",
    )
    args = ap.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    if args.cases:
        cfg["cases"] = args.cases
        cfg["rss_checkpoint"] = min(cfg["rss_checkpoint"], max(1, args.cases // 10))
    if args.cold_runs:
        cfg["cold_runs"] = args.cold_runs
    sections = set(args.only or ("cold", "discovery", "engines", "throughput", "limits", "explain"))
    started = time.perf_counter()
    results = {
        "schema": 1,
        "quick": args.quick,
        "machine": common.machine(),
        "load_before": common.load_average(),
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()},
        "cold_start": None,
        "discovery": None,
        "engines": None,
        "throughput": None,
        "limits": None,
        "explain": None,
    }
    if "cold" in sections:
        results["cold_start"] = cold_section(cfg)
    if "discovery" in sections:
        results["discovery"] = discovery_section(cfg)
    if "engines" in sections:
        results["engines"] = engines_section(cfg)
    if "throughput" in sections:
        results["throughput"] = throughput_section(cfg, args.engine)
    if "limits" in sections:
        results["limits"] = limits_section(cfg)
    if "explain" in sections:
        log(f"explain: a {cfg['explain_rows']:,}-row table, with and without --explain")
        results["explain"] = explain.explain_section(cfg)
    results["load_after"] = common.load_average()
    results["targets"] = evaluate_targets(results)
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    results["output"] = str(args.out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

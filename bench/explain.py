"""`--explain` on a case with a large table: the what-if search must stay proportionate.

The Cambridgeshire case with its per-BCU staffing table grown to ROWS rows (the
rows' figures vary, so no two are alike), assessed in process with and without
--explain. The figure is wall time per run, median of RUNS.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

import common


def big_table_case(directory: Path, rows: int) -> Path:
    text = common.CASE.read_text(encoding="utf-8")
    start = text.index("          bcu_staffing:\n")
    end = re.compile(r"^(?!            - )", re.M).search(text, text.index("\n", start) + 1).start()  # after its rows
    body = "".join(
        f"            - {{bcu: BCU {i}, sergeants: {5 + i % 9}, constables_and_pcsos: {40 + (i * 7) % 80}}}\n"
        for i in range(rows)
    )
    text = text[:start] + "          bcu_staffing:\n" + body + text[end:]
    text = re.sub(r"\n  bcus: \d+", f"\n  bcus: {rows}", text, count=1)
    path = directory / f"table-{rows}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def explain_section(cfg: dict) -> dict:
    from assessor.report.render import render_report
    from assessor.session import Session

    out = {"rows": cfg["explain_rows"], "runs": cfg["explain_runs"]}
    with tempfile.TemporaryDirectory() as tmp, Session(engine="durable") as session:
        case = big_table_case(Path(tmp), cfg["explain_rows"])
        for label, explain in (("plain", False), ("explain", True)):
            times = []
            for _ in range(cfg["explain_runs"]):
                started = time.perf_counter()
                result = session.assess(case, margins=explain)
                render_report(session.renderer, result, "markdown", explain=explain)
                times.append(time.perf_counter() - started)
            out[f"{label}_s"] = common.summary(times)
    out["ratio"] = round(out["explain_s"]["median"] / out["plain_s"]["median"], 1)
    return out

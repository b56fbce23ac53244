"""What finding the rulebook costs every command: discovery (walking up for rulebook.yaml and
reading it) and the revision (hashing the manifest, rule files and templates)."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import common

from assessor.rulebook.locate import locate


def _median_ms(fn, runs: int) -> dict:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return common.summary(samples)


def measure(runs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="assess-bench-discovery-") as tmp:
        tmp = Path(tmp)
        book = tmp / "book"
        for name in ("rules", "templates"):
            shutil.copytree(common.ROOT / name, book / name)
        shutil.copy(common.ROOT / "rulebook.yaml", book / "rulebook.yaml")
        deep_case = book / "cases" / "a" / "b" / "c" / "d" / "e" / "case.yaml"
        deep_case.parent.mkdir(parents=True)
        deep_case.write_text("", encoding="utf-8")
        nowhere = tmp / "n" / "o" / "w" / "h" / "e" / "r" / "e"
        nowhere.mkdir(parents=True)
        found = locate(starts=[deep_case], cwd=tmp)
        files = 1 + len(list(found.rules.glob("*.yaml"))) + sum(1 for p in found.templates.rglob("*") if p.is_file())
        return {
            "timing": "wall ms per call in this process, over repeated calls (file system cache warm)",
            "nearest_case_6_deep_ms": _median_ms(lambda: locate(starts=[deep_case], cwd=tmp), runs),
            "bundled_fallback_8_deep_ms": _median_ms(lambda: locate(starts=[nowhere], cwd=nowhere), runs),
            "with_revision_ms": _median_ms(lambda: locate(starts=[deep_case], cwd=tmp).revision, runs),
            "files_hashed": files,
        }

"""Write every output the bundled rulebooks give into a folder, to compare two commits byte for byte.

    python tools/outputs.py OUT        (run from the repository's root, with assessor installed)

For every case of `cases/` and `examples/peel-style/cases/`: the report in each format with each
engine, and the Markdown report with --explain; for both rulebooks: `assess lint`, `assess test`
and `assess coverage`. Each output is one file: what the command printed on standard output,
then on standard error, then its exit code. A change that should not alter any output (a
refactoring, a speed-up) is checked by running this on the commit before and the commit after,
each in its own checkout, and comparing the two folders with `diff -r`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RULEBOOKS = {"hmic": Path("cases"), "peel": Path("examples/peel-style/cases")}
FORMATS = ("markdown", "html", "json", "text")
ENGINES = ("durable", "python")
CHECKS = ("lint", "test", "coverage")


def commands() -> dict[str, list[str]]:
    """Each output's file name and the arguments of `assess` that give it."""
    found: dict[str, list[str]] = {}
    for label, folder in RULEBOOKS.items():
        for case in sorted(folder.glob("*.yaml")):
            if case.name.endswith(".expected.yaml"):
                continue
            for fmt in FORMATS:
                for engine in ENGINES:
                    found[f"{case.stem}.{fmt}.{engine}"] = ["report", str(case), "-f", fmt, "--engine", engine]
            found[f"{case.stem}.explain"] = ["report", str(case), "--explain"]
        rulebook = [] if label == "hmic" else ["--rulebook", str(folder.parent)]
        for check in CHECKS:
            found[f"{label}.{check}"] = [check, *rulebook]
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    found = commands()
    for name, args in found.items():
        done = subprocess.run([sys.executable, "-m", "assessor", *args], capture_output=True, check=False)
        (out / name).write_bytes(done.stdout + done.stderr + f"exit {done.returncode}\n".encode())
    print(f"{len(found)} outputs in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The bad-input corpus, tests/bad/corpus.yaml: its entries, and each one's input made in a directory.

test_bad_inputs.py runs every entry and checks the finding; test_lint_agrees.py checks that lint
reports what the assessor refuses, and that it warns about each entry of tests/bad/lint-warnings.yaml
while assess runs. tests/bad/README.md describes the entries.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from helpers import BAD, BASE


def _load_corpus() -> list:
    from assessor.source.document import load  # refuses duplicate keys, so a repeated field in an entry is caught

    entries = []
    for path in sorted(BAD.glob("corpus*.yaml")):  # corpus.yaml, then one file per later batch of classes
        part = load(path, "corpus").data
        assert isinstance(part, list) and part, f"tests/bad/{path.name} must be a list of entries"
        entries += part
    return entries


CORPUS = _load_corpus()


def _load_warnings() -> list:
    from assessor.source.document import load

    entries = load(BAD / "lint-warnings.yaml", "corpus").data
    assert isinstance(entries, list) and entries, "tests/bad/lint-warnings.yaml must be a list of entries"
    return entries


LINT_WARNINGS = _load_warnings()  # rules and templates that assess, with a mistake lint warns about


# ---------------------------------------------------------------- making the inputs


def _text(new) -> str:
    """NEW of an edit: text, or a list of pieces (text, or {repeat: TEXT, times: N} with {i})."""
    if isinstance(new, str):
        return new
    out = []
    for piece in new:
        if isinstance(piece, str):
            out.append(piece)
        else:
            out.extend(piece["repeat"].replace("{i}", str(i)) for i in range(piece["times"]))
    return "".join(out)


def _edit(path: Path, edits: list) -> None:
    text = path.read_bytes().decode("utf-8")
    for old, new in edits:
        assert text.count(old) == 1, f"{path.name}: the text to replace must occur once: {old!r}"
        text = text.replace(old, _text(new))
    path.write_bytes(text.encode("utf-8"))


def _huge(path: Path) -> None:
    """A valid file padded with comments past the 5 MB limit."""
    line = "# " + "padding " * 15 + "\n"
    with path.open("ab") as f:
        f.write(line.encode() * (6 * 1024 * 1024 // len(line) + 1))


def _full_device(path: Path) -> None:
    """A disk that is always full: /dev/full's own device node when allowed (root), else a link to it."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except PermissionError:
        path.symlink_to("/dev/full")


def _outside(path: Path) -> None:
    """A symbolic link at PATH to a template outside the templates directory."""
    target = path.parent
    while target.name != "templates":
        target = target.parent
    secret = target.parent / "outside.md.j2"
    secret.write_text("SECRET from outside the templates folder\n", encoding="utf-8")
    path.unlink(missing_ok=True)
    path.symlink_to(secret)


def _outside_dir(path: Path) -> None:
    """A symbolic link at PATH to a directory outside the templates directory, holding PATH's files."""
    elsewhere = path.parent.parent.parent / f"elsewhere-{path.name}"
    shutil.copytree(path, elsewhere)
    shutil.rmtree(path)
    path.symlink_to(elsewhere, target_is_directory=True)


def _fifo(path: Path) -> None:
    """A named pipe at PATH that nothing writes to: opening it to read would wait forever."""
    path.unlink(missing_ok=True)
    os.mkfifo(path)


GENERATORS = {
    "huge": _huge,
    "full-device": _full_device,
    "symlink-out": _outside,
    "symlink-dir-out": _outside_dir,
    "fifo": _fifo,
}


@dataclass
class Prepared:
    entry: dict
    paths: dict  # case, rules, templates, out, tmp -> str
    argv: list


def prepare(entry: dict, tmp: Path) -> Prepared:
    """The entry's malformed input, made in TMP from the valid world in tests/bad/base/, and its command line."""
    rules, templates, case = tmp / "rules", tmp / "templates", tmp / "case.yaml"
    shutil.copytree(BASE / "rules", rules)
    shutil.copytree(BASE / "templates", templates)
    shutil.copyfile(BAD / entry.get("case", "base/case.yaml"), case)
    (tmp / "out").mkdir()
    for key, directory in (("rules", rules), ("templates", templates)):
        for name, source in (entry.get(key) or {}).items():
            if source is None:
                (directory / name).unlink()
            else:
                shutil.copyfile(BAD / source, directory / name)
        for name, edits in (entry.get(f"{key}_edit") or {}).items():
            _edit(directory / name, edits)
    if "case_edit" in entry:
        _edit(case, entry["case_edit"])
    for name, generator in (entry.get("generate") or {}).items():
        GENERATORS[generator](tmp / name)
    for name, target in (entry.get("links") or {}).items():  # symbolic links, relative to the link
        (tmp / name).unlink(missing_ok=True)
        (tmp / name).symlink_to(target)
    for name, target in (entry.get("hardlinks") or {}).items():
        (tmp / name).unlink(missing_ok=True)
        os.link(tmp / target, tmp / name)
    paths = {
        "tmp": str(tmp),
        "case": str(case),
        "rules": str(rules),
        "templates": str(templates),
        "out": str(tmp / "out" / "report.md"),
    }
    for key, value in (entry.get("paths") or {}).items():
        paths[key] = value.format(**paths)
    if "argv" in entry:
        argv = [a.format(**paths) for a in entry["argv"]]
    elif "command" in entry:  # another command, with pieces ({repeat: ..., times: N}) allowed
        argv = [_text(a).format(**paths) for a in entry["command"]]
    else:
        argv = [
            paths["case"],
            "--rules",
            paths["rules"],
            "--templates",
            paths["templates"],
            "-o",
            paths["out"],
            *entry.get("args", []),
        ]
    return Prepared(entry, paths, argv)

"""Which rulebook a run uses: its manifest, its folders, how it was found, and its revision.

A rulebook is a folder holding `rulebook.yaml` (the manifest), `rules/`, `templates/` and
`cases/`. Every command finds the one to use in the same order (as yamllint and sqlfluff find
their configuration):

  1. `--rulebook DIR` (or `--rules DIR`, a rules folder; the manifest beside it names it);
  2. the nearest `rulebook.yaml` walking up from the case files' folders;
  3. the nearest `rulebook.yaml` walking up from the working directory;
  4. the rulebook bundled with the assessor.

The bundled rulebook is never taken silently when a `rules/` folder sits beside the case or in
the working directory: that is someone's own rules without a manifest, and grading with the
bundled ones instead would be a wrong answer without a word.
"""

from __future__ import annotations

import hashlib
import re
from functools import cached_property
from pathlib import Path

from assessor import __version__
from assessor.errors import AssessorError, Finding
from assessor.files import bundled_root, input_files, read_limited, relative
from assessor.record import Record, replace
from assessor.source.document import load, short_repr
from assessor.source.reader import Reader, kind_of

MANIFEST = "rulebook.yaml"
NAME = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
EDITION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
MAX_NAME = 64


class Edition(Record):
    """One edition a rulebook manifest lists: its rules folder, what it extends, when it is in force."""

    id: str | None  # None: the one edition of a manifest that lists none
    rules: Path  # its folder: every rule file, or, when it extends another edition, only what changes
    extends: str | None = None  # the edition it is laid on (listed before it; rulebook/overlay.py)
    in_force: tuple = (None, None)  # (from, until) financial years, e.g. ("2008/09", None); None: open


class Manifest(Record):
    """A rulebook.yaml: the rulebook's name, title, the assessor versions it needs and its editions."""

    path: Path
    name: str
    title: str
    assessor: str  # the version range of the assessor the rulebook needs
    editions: tuple[Edition, ...]

    def edition(self, ident: str) -> Edition | None:
        return next((e for e in self.editions if e.id == ident), None)

    def folders(self, edition: Edition) -> tuple[Path, ...]:
        """The rules folders an edition is read from: its base edition's first, then each overlay."""
        chain = [edition]
        while chain[-1].extends is not None:
            base = self.edition(chain[-1].extends)
            assert base is not None, "the manifest reader checks that an edition extends one listed before it"
            chain.append(base)
        return tuple(e.rules for e in reversed(chain))

    def in_force(self, period: str) -> Edition | None:
        """The edition in force for a financial year such as 2008/09: of those whose `in_force` covers
        it, the one that came into force last. None when no edition covers it."""
        year = int(period[:4])
        covering = [
            e
            for e in self.editions
            if e.in_force != (None, None)
            and (e.in_force[0] is None or int(e.in_force[0][:4]) <= year)
            and (e.in_force[1] is None or year <= int(e.in_force[1][:4]))
        ]
        return max(covering, key=lambda e: int((e.in_force[0] or "0")[:4]), default=None)


class Location(Record):
    """The rulebook a run uses and the folders it reads."""

    root: Path  # the rulebook folder (the manifest's, or the rules folder's parent without one)
    manifest: Manifest | None
    rules: Path  # the rules folder; for an edition that extends another, its base edition's
    templates: Path
    edition: str | None
    found_by: str  # how discovery chose it, for the first line of lint/test/coverage
    warnings: tuple[str, ...] = ()
    overlays: tuple[Path, ...] = ()  # the folders laid on `rules`, in order, for an edition that extends another

    @property
    def name(self) -> str | None:
        return self.manifest.name if self.manifest else None

    @property
    def title(self) -> str | None:
        return self.manifest.title if self.manifest else None

    @property
    def cases(self) -> Path:
        return self.root / "cases"

    @cached_property
    def revision(self) -> str:
        """SHA-256 over the manifest, the rule files and the templates: what grades and words a report.
        Not `Rulebook.revision` (rulebook/rule_files.rules_revision), which is of the rule files alone."""
        return revision_of(self)

    def with_templates(self, templates) -> Location:
        return replace(self, templates=Path(templates))

    def for_edition(self, edition: Edition) -> Location:
        """This rulebook with `edition` in force (its rules, the same templates)."""
        assert self.manifest is not None, "only a rulebook with a manifest has editions"
        folders = [relative(f) for f in self.manifest.folders(edition)]
        return replace(self, edition=edition.id, rules=folders[0], overlays=tuple(folders[1:]))

    def describe(self) -> dict:
        """The `rulebook` object of the JSON result."""
        return {"name": self.name, "edition": self.edition, "path": str(self.root), "revision": self.revision}

    def banner(self) -> str:
        """One line naming the rulebook, as lint, test and coverage print it first."""
        if self.name is None:
            return f"rules {self.rules} (no {MANIFEST}; {self.found_by}), revision {self.revision[:12]}"
        edition = f" edition {self.edition}" if self.edition else ""
        return f"rulebook {self.name}{edition} at {self.root} ({self.found_by}), revision {self.revision[:12]}"


def revision_of(location: Location) -> str:
    # named by their place within the rulebook, so the same rulebook hashes the same wherever it lies
    files = [(MANIFEST, location.manifest.path)] if location.manifest else []
    files += [(f"rules/{p.name}", p) for p in sorted(location.rules.glob("*.yaml"))]
    for i, folder in enumerate(location.overlays, 1):
        files += [(f"overlay{i}/{p.name}", p) for p in sorted(folder.glob("*.yaml"))]
    files += [
        (f"templates/{p.relative_to(location.templates).as_posix()}", p)
        for p in sorted(location.templates.rglob("*"))
        if p.is_file()
    ]
    digest = hashlib.sha256()
    for name, path in files:
        data = read_limited(path, "rulebook file")
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


# ---------------------------------------------------------------- the manifest


def read_manifest(path: Path) -> Manifest:
    """Read and check a rulebook.yaml; every problem is a located finding."""
    doc = load(path, "rulebook manifest")
    r = Reader(doc)
    top = r.found(
        r.mapping(required=("name", "title", "assessor"), optional=("editions",), what="the rulebook manifest")
    )
    r.raise_if_errors()
    name = r.at("name").text("name")
    if name is not None and (not NAME.match(name) or len(name) > MAX_NAME):
        r.at("name").error(
            "bad-id",
            f"name must be lower-case letters, digits and hyphens, starting with a letter or digit "
            f"(at most {MAX_NAME}), got {short_repr(name)}",
        )
    title = r.at("title").text("title")
    needs = r.at("assessor").text("assessor (the version range of the assessor this rulebook needs)")
    if needs is not None:
        try:
            met = version_satisfies(__version__, needs)
        except ValueError as e:
            r.at("assessor").error("bad-version", f"assessor: {e}")
        else:
            if not met:
                r.at("assessor").error(
                    "assessor-version",
                    f"this rulebook needs assessor {needs}, but this is assessor {__version__}; "
                    f"install one that matches: pip install 'assessor{needs if needs[0] in '<>=!~' else '==' + needs}'",
                )
    editions = _editions(r, path.parent) if "editions" in top else (Edition(None, path.parent / "rules"),)
    r.raise_if_errors()
    return Manifest(path, r.found(name), r.found(title), r.found(needs), editions)


def _editions(r: Reader, root: Path) -> tuple[Edition, ...]:
    items = r.at("editions").items("editions")
    if items is None:
        return ()
    if not items:
        r.at("editions").error("empty", "editions lists no edition; give at least one, or leave editions out")
    out, seen = [], set()
    for i, _ in enumerate(items):
        e = r.at("editions", i)
        if e.mapping(
            required=("id", "rules"), optional=("extends", "in_force"), what=f"edition {i + 1}"
        ) is None or any(k not in e.value for k in ("id", "rules")):
            continue
        raw = e.at("id").value
        ident = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else None
        if ident is None or not EDITION.match(ident) or len(ident) > MAX_NAME:
            e.at("id").error(
                "bad-id", f"an edition id is letters, digits, '.', '_' or '-' (e.g. \"2008\"), got {kind_of(raw)}"
            )
            continue
        if ident in seen:
            e.at("id").error("duplicate", f"edition {ident!r} is listed twice")
            continue
        seen.add(ident)
        folder = e.at("rules").text("rules (a folder relative to the manifest)")
        if folder is None:
            continue
        extends = None
        if "extends" in e.value:
            raw = e.at("extends").value
            extends = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else None
            if extends not in seen - {ident}:
                e.at("extends").error(
                    "unknown-edition",
                    f"extends names {kind_of(raw)}, which is not an edition listed before this one; "
                    f"those are {', '.join(sorted(seen - {ident})) or 'none'}",
                )
                continue
        in_force = _in_force(e.at("in_force")) if "in_force" in e.value else (None, None)
        rules = (root / folder).resolve()
        if Path(folder).is_absolute() or not rules.is_relative_to(root.resolve()):
            e.at("rules").error("outside", f"rules must be a folder inside the rulebook, got {short_repr(folder)}")
        elif not rules.is_dir():
            e.at("rules").error("missing", f"rules folder {folder!r} does not exist beside the manifest")
        else:
            out.append(Edition(ident, root / folder, extends, in_force))
    return tuple(out)


_FINANCIAL_YEAR = re.compile(r"(\d{4})/(\d{2})\Z")


def _in_force(r: Reader) -> tuple:
    """{from: 2008/09, until: 2009/10}: the financial years an edition grades, either end open."""
    m = r.mapping(optional=("from", "until"), what="in_force")
    if not m:
        if m is not None:
            r.error("empty", "in_force needs from, until or both (financial years such as 2008/09)")
        return (None, None)
    ends = []
    for key in ("from", "until"):
        value = m.get(key)
        match = _FINANCIAL_YEAR.match(value) if isinstance(value, str) else None
        if key in m and (match is None or (int(match.group(1)) + 1) % 100 != int(match.group(2))):
            r.at(key).error(
                "bad-value", f"in_force {key} must be a financial year such as 2008/09, got {kind_of(value)}"
            )
            value = None
        ends.append(value if key in m else None)
    if ends[0] and ends[1] and ends[1] < ends[0]:
        r.at("until").error("bad-value", f"in_force until {ends[1]} is before from {ends[0]}")
    return tuple(ends)


# ---------------------------------------------------------------- version ranges

_CLAUSE = re.compile(r"\s*(~=|==|!=|<=|>=|<|>)?\s*(\d+(?:\.\d+)*)(\.\*)?\s*\Z")


def _release(text: str) -> tuple[int, ...]:
    m = re.match(r"\d+(?:\.\d+)*", text)
    return tuple(int(p) for p in m.group(0).split(".")) if m else (0,)


def version_satisfies(version: str, spec: str) -> bool:
    """Does release `version` meet a PEP 440-style range such as ">=0.2, <1" (release numbers only)?

    Raises ValueError, saying what is accepted, for a range it cannot read.
    """
    have = _release(version)
    clauses = spec.split(",")
    if not spec.strip() or any(not c.strip() for c in clauses):
        raise ValueError(f'expected a version range such as ">=0.2" or ">=0.2, <1", got {spec!r}')
    for clause in clauses:
        m = _CLAUSE.match(clause)
        if m is None:
            raise ValueError(
                f"cannot read {clause.strip()!r}: expected an operator (>=, >, <=, <, ==, !=, ~=) and a release "
                "number such as 0.2 (pre-releases are not supported)"
            )
        op, number, star = m.group(1) or "==", _release(m.group(2)), bool(m.group(3))
        if star and op not in ("==", "!="):
            raise ValueError(f"{clause.strip()!r}: a trailing .* only goes with == or !=")
        if op == "~=" and len(number) < 2:
            raise ValueError(f"{clause.strip()!r}: ~= needs at least two parts, e.g. ~=0.2")
        width = max(len(have), len(number))
        a, b = have + (0,) * (width - len(have)), number + (0,) * (width - len(number))
        if star:
            ok = have[: len(number)] == number
            ok = ok if op == "==" else not ok
        elif op == "~=":
            ok = a >= b and have[: len(number) - 1] == number[:-1]
        else:
            ok = {"==": a == b, "!=": a != b, "<=": a <= b, ">=": a >= b, "<": a < b, ">": a > b}[op]
        if not ok:
            return False
    return True


# ---------------------------------------------------------------- discovery


def _nearest_manifest(folder: Path) -> Path | None:
    for d in (folder, *folder.parents):
        if (d / MANIFEST).is_file():
            return d / MANIFEST
    return None


def _from_manifest(path: Path, found_by: str, rules: Path | None = None, templates: Path | None = None) -> Location:
    manifest = read_manifest(path)
    root = relative(path.parent)
    edition = manifest.editions[-1] if manifest.editions else None
    if rules is not None:  # a rules-folder override: the edition whose folder it is, if any
        edition = next((e for e in manifest.editions if e.rules.resolve() == rules.resolve()), None)
    if edition is not None:
        folders = [relative(f) for f in manifest.folders(edition)]
    else:  # a rules folder that is no edition's
        assert rules is not None, "a manifest has at least one edition"
        folders = [rules]
    return Location(
        root=root,
        manifest=manifest,
        rules=folders[0],
        templates=templates or root / "templates",
        edition=edition.id if edition else None,
        found_by=found_by,
        overlays=tuple(folders[1:]),
    )


def _manifest_of(folder: Path, option: str) -> Path:
    path = folder if folder.is_file() else folder / MANIFEST
    if not path.is_file():
        raise AssessorError(
            Finding(
                str(folder),
                None,
                None,
                "no-rulebook",
                f"{option}: no {MANIFEST} here; `assess init {folder}` writes a rulebook, "
                "and --rules names a bare rules folder",
            )
        )
    return path


def bundled_location() -> Location:
    return _from_manifest(bundled_root() / MANIFEST, "bundled with the assessor")


def locate(rulebook=None, rules=None, templates=None, starts=(), cwd: Path | None = None) -> Location:
    """The rulebook a command uses, by the discovery order in this module's docstring.

    `starts` are the files or folders the command reads (its case files, the cases folder, the
    output of new-case): the manifest nearest each of them is the one used.
    """
    templates = Path(templates) if templates else None
    if rulebook:
        return _from_manifest(
            _manifest_of(Path(rulebook), "--rulebook"), "--rulebook", Path(rules) if rules else None, templates
        )
    if rules:
        rules = Path(rules)
        beside = rules.parent / MANIFEST
        if beside.is_file():
            return _from_manifest(beside, "--rules", rules, templates)
        sibling = rules.parent / "templates"
        return Location(
            root=rules.parent,
            manifest=None,
            rules=rules,
            templates=templates or (sibling if sibling.is_dir() else bundled_root() / "templates"),
            edition=None,
            found_by="--rules",
        )
    found: dict[Path, list[str]] = {}
    for start in starts:
        start = Path(start)
        folder = start if start.is_dir() else start.parent
        manifest = _nearest_manifest(folder.resolve())
        if manifest is not None:
            found.setdefault(manifest, []).append(str(start))
    if len(found) > 1:
        listing = "; ".join(f"{relative(m.parent)} for {', '.join(s)}" for m, s in found.items())
        raise AssessorError(
            Finding(
                str(next(iter(starts))),
                None,
                None,
                "several-rulebooks",
                f"these cases belong to different rulebooks ({listing}); run each rulebook's cases "
                "separately, or choose one with --rulebook",
            )
        )
    if found:
        return _from_manifest(next(iter(found)), "nearest the case", templates=templates)
    cwd = (cwd or Path.cwd()).resolve()
    manifest = _nearest_manifest(cwd)
    if manifest is not None:
        return _from_manifest(manifest, "nearest the working directory", templates=templates)
    location = bundled_location()
    if templates is not None:
        location = location.with_templates(templates)
    strays = _stray_rules(starts, cwd, location)
    if strays:
        location = replace(location, warnings=tuple(strays))
    return location


def _stray_rules(starts, cwd: Path, location: Location) -> list[str]:
    """rules/ folders the user may have meant, beside a case or in the working directory."""
    places = [cwd]
    for start in starts:
        folder = Path(start).resolve()
        folder = folder if folder.is_dir() else folder.parent
        places += [folder, folder.parent]
    bundled = location.rules.resolve()
    out, seen = [], set()
    for place in places:
        candidate = place / "rules"
        if candidate in seen or not candidate.is_dir() or candidate.resolve() == bundled:
            continue
        seen.add(candidate)
        if any(candidate.glob("*.yaml")):
            out.append(
                f"warning: grading with the rulebook bundled with the assessor ({location.name} at {location.root}), "
                f"not the rules in {relative(candidate)}, which have no {MANIFEST} beside them; "
                f"to use those, pass --rules {relative(candidate)} or add a {MANIFEST} (docs/rulebooks.md)"
            )
    return out


def run_inputs(location: Location, *more) -> list[Path]:
    """Every file a run with this rulebook reads, and MORE (cases): none may be written over."""
    manifest = location.manifest.path if location.manifest else None
    return input_files(manifest, location.rules, location.templates, *more)

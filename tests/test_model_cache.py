"""The rulebook model kept between runs (rulebook/model_cache.py): a model from the cache is the
model the rule files give, field for field and type for type, and whatever state the cache is in,
a run neither fails nor changes because of it."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import CAMBRIDGESHIRE, ROOT, edit

from assessor import disk_cache, record
from assessor.errors import AssessorError
from assessor.language import conditions
from assessor.record import Record
from assessor.rulebook import model_cache
from assessor.rulebook import read as rulebook_read
from assessor.rulebook.locate import locate
from assessor.rulebook.read import load_rulebook

EDITIONS = Path(__file__).resolve().parent / "rulebooks" / "editions"


def _rulebooks() -> list:
    """(id, rules folder, overlays) of every rulebook the repository ships or tests with."""
    out = [("bundled", ROOT / "rules", ()), ("peel-style", ROOT / "examples" / "peel-style" / "rules", ())]
    editions = locate(rulebook=EDITIONS)
    assert editions.manifest is not None
    for edition in editions.manifest.editions:
        location = editions.for_edition(edition)
        out.append((f"editions-{edition.id}", location.rules, location.overlays))
    return out


@pytest.fixture
def cache_home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("ASSESSOR_NO_CACHE", raising=False)
    return tmp_path / "cache"


def _entries(cache_home: Path) -> list[Path]:
    folder = cache_home / "assessor" / "rulebooks"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def assert_same(a: object, b: object, where: str = "book") -> None:
    """A and B are the same value all the way down: the same types (a record's equality would take
    1 for 1.0 or True, and ignores fields such as Decision.names), every field, every item."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, Record):
        for f in record.fields(a):
            if f.name != "docs":
                assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, dict):
        assert_same(list(a), list(b), f"{where} keys")
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, frozenset):
        assert_same(sorted(a, key=repr), sorted(b, key=repr), where)
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert repr(a) == repr(b), where  # -0.0 is not 0.0
    else:
        assert a == b, where


@pytest.mark.parametrize("name,rules,overlays", _rulebooks(), ids=lambda v: v if isinstance(v, str) else "")
def test_a_model_from_the_cache_is_the_model_the_rule_files_give(cache_home, monkeypatch, name, rules, overlays):
    read = load_rulebook(rules, overlays)
    first = model_cache.read_rulebook(rules, overlays)  # a miss: read, then kept
    assert len(_entries(cache_home)) == 1
    monkeypatch.setattr(rulebook_read, "load_rulebook", _refused)
    cached = model_cache.read_rulebook(rules, overlays)  # a hit: the rule files are not read
    assert_same(first, read)
    assert_same(cached, read)
    monkeypatch.undo()
    # the documents, for the tools that point into the rule files, are read when first asked for
    assert dict(cached.docs).keys() == read.docs.keys()
    for path, doc in read.docs.items():
        assert cached.docs[path].data == doc.data and cached.docs[path].marks == doc.marks


def _refused(*_args, **_kwargs):
    raise AssertionError("the rule files were read again")


def test_the_bundled_reports_are_the_same_without_the_cache_and_from_it(cache_home, monkeypatch):
    from assessor.report.render import render_report
    from assessor.session import Session

    def reports() -> list[str]:
        with Session(engine="python") as session:
            result = session.assess(CAMBRIDGESHIRE, margins=True)
            return [render_report(session.renderer, result, fmt, explain=True) for fmt in ("markdown", "json")]

    monkeypatch.setenv("ASSESSOR_NO_CACHE", "1")
    without = reports()
    assert not cache_home.exists()  # off means not even made
    monkeypatch.setenv("ASSESSOR_NO_CACHE", "0")
    assert reports() == without  # a miss, kept
    assert len(_entries(cache_home)) == 1
    assert reports() == without  # a hit


def _copy_of_bundled(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    for p in (ROOT / "rules").glob("*.yaml"):
        (rules / p.name).write_bytes(p.read_bytes())
    return rules


def test_a_changed_rule_file_is_a_new_entry_and_a_new_model(cache_home, tmp_path):
    rules = _copy_of_bundled(tmp_path)
    before = model_cache.read_rulebook(rules)
    edit(rules / "grading.yaml", "confidence: 0.95", "confidence: 0.99")
    after = model_cache.read_rulebook(rules)
    assert (before.confidence, after.confidence) == (0.95, 0.99)
    assert after.revision == load_rulebook(rules).revision != before.revision
    assert len(_entries(cache_home)) == 2


def test_the_same_rules_in_another_folder_give_their_own_places(cache_home, tmp_path):
    rules = _copy_of_bundled(tmp_path)
    here = model_cache.read_rulebook(ROOT / "rules")
    there = model_cache.read_rulebook(rules)
    assert here.revision == there.revision
    assert there.frameworks[0].path.startswith(str(rules))
    assert_same(there, load_rulebook(rules))


def test_a_rulebook_with_findings_is_never_kept(cache_home, tmp_path):
    rules = _copy_of_bundled(tmp_path)
    edit(rules / "grading.yaml", "confidence: 0.95", "confidence: lots")
    for _ in range(2):
        with pytest.raises(AssessorError) as e:
            model_cache.read_rulebook(rules)
        assert "confidence" in str(e.value.findings[0])
    assert _entries(cache_home) == []


def test_other_code_reading_the_rules_is_a_miss(cache_home, monkeypatch):
    model_cache.read_rulebook(ROOT / "rules")
    monkeypatch.setattr(model_cache, "_code", lambda: ("another version of the reader",))
    model_cache.read_rulebook(ROOT / "rules")
    assert len(_entries(cache_home)) == 2


@pytest.mark.parametrize(
    "damage",
    [
        lambda _data: b"",
        lambda data: data[: len(data) // 2],
        lambda data: data.replace(b"0.95", b"0.99", 1),
        lambda data: data[:-10] + b"0" * 9 + b"\n",
    ],
    ids=["empty", "truncated", "edited", "digest-changed"],
)
def test_a_damaged_entry_is_a_miss(cache_home, damage):
    expected = load_rulebook(ROOT / "rules")
    model_cache.read_rulebook(ROOT / "rules")
    (entry,) = _entries(cache_home)
    entry.write_bytes(damage(entry.read_bytes()))
    assert_same(model_cache.read_rulebook(ROOT / "rules"), expected)


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2]",  # not a model
        b'{"Place": "abc"}',  # a string where a record's fields belong: never Place("a", "b", "c")
        b'{"()": "abc"}',
        b'{"Rulebook": []}',
        b'{"NoSuchRecord": [1]}',
        b'{"^": 0}',  # a value never defined
        b'{"Place": ["x", 1, 1], "()": []}',
        b"not json",
    ],
)
def test_an_entry_that_holds_no_model_is_a_miss(cache_home, body):
    expected = load_rulebook(ROOT / "rules")
    model_cache.read_rulebook(ROOT / "rules")
    (entry,) = _entries(cache_home)
    entries = disk_cache.Entries(entry.parent, model_cache.FORMAT, model_cache.SUFFIX)
    assert entries.write(entry.stem, body) is not None  # a sound entry, with its digest
    assert model_cache._decoded(body) is None
    assert_same(model_cache.read_rulebook(ROOT / "rules"), expected)


def test_values_keep_their_types_and_shared_values_stay_shared():
    shared = {"x": conditions.NUMBER}
    values = (1, 1.0, True, -0.0, 0.0, "1", dt.date(2008, 3, 31))
    kinds = tuple(conditions.Type("choice", (v,)) for v in values)  # every field compared: kept once if the same
    assert len(set(kinds)) == 4  # equal as records: 1, 1.0 and True; -0.0 and 0.0
    lits = tuple(conditions.Literal(0, 1, v) for v in values)  # a field not compared: shared only if the same object
    value = (kinds, kinds[::-1], lits, lits, shared, shared, frozenset({"b", "a"}))
    body = model_cache._Writer().bytes(value)
    decoded = model_cache._value(body)
    assert_same(decoded, value, "value")
    assert decoded[4] is decoded[5]  # one dict, written once and shared, as in the model
    assert decoded[2] is decoded[3]
    assert decoded[0][0] is decoded[1][-1]
    assert body == model_cache._Writer().bytes(value)  # the same model, the same bytes


def test_docs_of_rules_changed_since_the_model_was_read_are_refused(cache_home, tmp_path):
    rules = _copy_of_bundled(tmp_path)
    model_cache.read_rulebook(rules)
    cached = model_cache.read_rulebook(rules)
    edit(rules / "grading.yaml", "confidence: 0.95", "confidence: 0.99")
    with pytest.raises(AssessorError, match="changed while this ran"):
        cached.docs[str(rules / "grading.yaml")]


def test_a_rule_file_that_is_not_a_regular_file_is_not_cached(cache_home, tmp_path):
    rules = _copy_of_bundled(tmp_path)
    os.mkfifo(rules / "zz-pipe.yaml")
    with pytest.raises(AssessorError):
        model_cache.read_rulebook(rules)
    assert _entries(cache_home) == []


def test_the_cache_folder_must_be_ours(cache_home):
    folder = cache_home / "assessor" / "rulebooks"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    assert_same(model_cache.read_rulebook(ROOT / "rules"), load_rulebook(ROOT / "rules"))
    assert list(folder.iterdir()) == []


def test_a_run_whose_model_is_kept_never_imports_the_reader(cache_home):
    code = (
        "import sys; from assessor.rulebook.model_cache import read_rulebook\n"
        f"read_rulebook({str(ROOT / 'rules')!r})\n"
        "print('assessor.rulebook.read' in sys.modules)\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True) for _ in "ab"
    ]
    assert [r.stdout.split() for r in runs] == [["True"], ["False"]]  # a miss reads the rules; a hit does not


def test_code_that_cannot_be_listed_is_never_cached(cache_home, monkeypatch):
    def unlisted(_folder):
        raise PermissionError("no listing")

    monkeypatch.setattr(model_cache, "_modules", unlisted)
    model_cache._code.cache_clear()
    try:
        assert_same(model_cache.read_rulebook(ROOT / "rules"), load_rulebook(ROOT / "rules"))
    finally:
        model_cache._code.cache_clear()
    assert _entries(cache_home) == []


def test_a_set_of_other_than_plain_values_is_not_written():
    """A shared member of a set would be numbered in the set's order and read in the file's."""
    with pytest.raises(model_cache._Unstorable):
        model_cache._Writer().bytes((frozenset({("a1",), ("b",)}), ("a1",), ("b",)))
    value = (frozenset({"b", "a", 3, None, 2.5}), frozenset())
    assert_same(model_cache._value(model_cache._Writer().bytes(value)), value, "value")


@pytest.mark.parametrize("instead", ["nothing", "a file"])
def test_an_overlay_folder_gone_is_refused_as_the_reader_refuses_it(cache_home, tmp_path, instead):
    book = tmp_path / "book"
    shutil.copytree(EDITIONS, book)
    editions = locate(rulebook=book)
    assert editions.manifest is not None
    location = editions.for_edition(editions.manifest.editions[-1])
    assert location.overlays
    model_cache.read_rulebook(location.rules, location.overlays)
    shutil.rmtree(location.overlays[-1])
    if instead == "a file":
        location.overlays[-1].write_text("not a folder")
    with pytest.raises(AssessorError) as cached:
        model_cache.read_rulebook(location.rules, location.overlays)
    with pytest.raises(AssessorError) as read:
        load_rulebook(location.rules, location.overlays)
    assert [str(f) for f in cached.value.findings] == [str(f) for f in read.value.findings]


def test_each_rule_file_is_read_once_and_the_revision_is_of_the_bytes_parsed(monkeypatch):
    """Parsed from one read and hashed from another, a file rewritten in between would give a
    model kept under the revision of other text."""
    reads: list = []
    read_limited = rulebook_read.read_limited
    monkeypatch.setattr(
        rulebook_read, "read_limited", lambda path, what: reads.append(path) or read_limited(path, what)
    )
    book = load_rulebook(ROOT / "rules")
    files = sorted((ROOT / "rules").glob("*.yaml"))
    assert sorted(reads) == files
    assert book.revision == model_cache.rules_revision([(p.name, p.read_bytes()) for p in files])


def test_a_module_changed_is_other_code(tmp_path, monkeypatch):
    package = tmp_path / "assessor"
    shutil.copytree(Path(model_cache.__file__).parent.parent, package)
    monkeypatch.setattr(model_cache, "PACKAGE", package)
    model_cache._code.cache_clear()
    try:
        before = model_cache._code()
        module = package / "language" / "conditions.py"
        os.utime(module, ns=(module.stat().st_atime_ns, module.stat().st_mtime_ns + 1_000_000_000))
        model_cache._code.cache_clear()
        assert model_cache._code() != before
    finally:
        model_cache._code.cache_clear()

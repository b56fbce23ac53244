"""The cache of generated template code (report/code_cache.py): the same reports with and without
it, and whatever state it or its byte code is in, a run neither fails nor changes because of it."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import py_compile
import stat
import sys
from pathlib import Path

import pytest
from helpers import CAMBRIDGESHIRE, run_assessor

from assessor.report import code_cache
from assessor.report.environment import Renderer
from assessor.report.render import render_report
from assessor.session import Session

FORMATS = ("markdown", "html", "text")


def _reports(cache_home, env_extra=None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "ASSESSOR_NO_CACHE"}
    env.update(XDG_CACHE_HOME=str(cache_home), **(env_extra or {}))
    out = {}
    for fmt in FORMATS:
        run = run_assessor([str(CAMBRIDGESHIRE), "-f", fmt], env=env)
        assert run.returncode == 0, run.stderr
        out[fmt] = run.stdout
    return out


def _entries(cache_home) -> list:
    folder = cache_home / "assessor" / "templates"
    return sorted(folder.glob("*.py")) if folder.is_dir() else []


def _byte_code(entry) -> str:
    return importlib.util.cache_from_source(str(entry))


@pytest.mark.slow
def test_reports_are_byte_identical_without_cache_cold_and_warm(tmp_path):
    off = _reports(tmp_path / "off", {"ASSESSOR_NO_CACHE": "1"})
    assert not (tmp_path / "off").exists()  # off means not even created
    no_byte_code = {"PYTHONDONTWRITEBYTECODE": "1"}
    cold = _reports(tmp_path / "on", no_byte_code)
    entries = _entries(tmp_path / "on")
    assert len(entries) >= 20  # every template of every layout, once per environment
    assert not (entries[0].parent / "__pycache__").exists()  # python -B: no byte code written
    mtimes = {p: p.stat().st_mtime_ns for p in entries}
    warm = _reports(tmp_path / "on", no_byte_code)
    with_byte_code = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": ""}
    compiled = _reports(tmp_path / "on", with_byte_code)  # writes the byte code beside the entries
    assert all(os.path.isfile(_byte_code(p)) for p in entries)
    from_byte_code = _reports(tmp_path / "on", with_byte_code)
    assert off == cold == warm == compiled == from_byte_code
    assert {p: p.stat().st_mtime_ns for p in _entries(tmp_path / "on")} == mtimes  # read, not rewritten
    folder = tmp_path / "on" / "assessor" / "templates"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "__pycache__").stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in entries)
    assert all(stat.S_IMODE(os.stat(_byte_code(p)).st_mode) == 0o600 for p in entries)


def _render(cache_home, monkeypatch, fmt="markdown", byte_code=True) -> str:
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.delenv("ASSESSOR_NO_CACHE", raising=False)
    monkeypatch.setattr(sys, "dont_write_bytecode", not byte_code)
    monkeypatch.setattr(sys, "pycache_prefix", None)
    monkeypatch.setattr(code_cache, "_compiled", {})  # as a new process: read from the folder
    with Session(engine="python") as s:
        result = s.assess(CAMBRIDGESHIRE)
        return render_report(s.renderer, result, fmt)


def _sound(entry) -> bool:
    return code_cache.CodeCache(entry.parent).get(entry.stem, "x.j2", _refused) is not None


def _refused(text, filename):
    raise AssertionError(f"compiled {filename} again: the byte code should have been used")


def _compiled_for(entry) -> str:
    """The template file the byte code of ENTRY was compiled for (as tracebacks name it)."""
    pyc = _byte_code(entry)
    return importlib.machinery.SourcelessFileLoader("t", pyc).get_code("t").co_filename


def _planted(marker) -> bytes:
    return f"open({str(marker)!r}, 'w').close()\n".encode()


@pytest.mark.parametrize("byte_code", [True, False])
def test_an_altered_entry_is_a_miss_and_rewritten(tmp_path, monkeypatch, byte_code):
    expected = _render(tmp_path, monkeypatch, byte_code=byte_code)
    marker = tmp_path / "pwned"
    for entry in _entries(tmp_path):
        # planted code under the old digest: its check fails, so it is never compiled, and the
        # byte code of the old text does not record the new text's hash
        entry.write_bytes(_planted(marker) + entry.read_bytes())
    assert _render(tmp_path, monkeypatch, byte_code=byte_code) == expected
    assert not marker.exists()
    for entry in _entries(tmp_path):
        assert entry.read_bytes().startswith(b"from ")  # sound again
        assert os.path.isfile(_byte_code(entry)) == byte_code


@pytest.mark.slow
def test_byte_code_of_other_text_is_not_used(tmp_path, monkeypatch):
    """Byte code is used only if it records the hash of the entry's checked text: not code compiled
    from other text (planted, or left from an older entry), nor byte code checked by time stamp
    and size, which Python's import would take as up to date."""
    expected = _render(tmp_path, monkeypatch)
    marker = tmp_path / "pwned"
    planted = tmp_path / "planted.py"
    entries = _entries(tmp_path)
    for i, entry in enumerate(entries):
        code = _planted(marker)
        if i % 2:
            planted.write_bytes(code + b"#" * (entry.stat().st_size - len(code)))  # the entry's size
            os.utime(planted, ns=(entry.stat().st_atime_ns, entry.stat().st_mtime_ns))  # and time
            mode = py_compile.PycInvalidationMode.TIMESTAMP
        else:
            planted.write_bytes(code)
            mode = py_compile.PycInvalidationMode.CHECKED_HASH
        py_compile.compile(str(planted), _byte_code(entry), dfile=_compiled_for(entry), invalidation_mode=mode)
    assert _render(tmp_path, monkeypatch) == expected
    assert not marker.exists()
    for entry in entries:  # written again from the entry's own text
        assert Path(_byte_code(entry)).read_bytes()[8:16] == importlib.util.source_hash(entry.read_bytes())


@pytest.mark.slow
def test_byte_code_others_may_write_or_linked_is_not_used(tmp_path, monkeypatch):
    expected = _render(tmp_path, monkeypatch)
    marker = tmp_path / "pwned"
    entries = _entries(tmp_path)
    elsewhere = tmp_path / "elsewhere.pyc"
    for i, entry in enumerate(entries):
        # code that would plant the marker, recording the entry's own hash: as trusted as its file
        fake = tmp_path / "fake.py"
        fake.write_bytes(_planted(marker))
        pyc = _byte_code(entry)
        py_compile.compile(
            str(fake), pyc, dfile=_compiled_for(entry), invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH
        )
        data = bytearray(Path(pyc).read_bytes())
        data[8:16] = importlib.util.source_hash(entry.read_bytes())
        if i % 2:
            Path(pyc).write_bytes(data)
            os.chmod(pyc, 0o664)  # the group may write it
        else:
            os.unlink(pyc)
            elsewhere.write_bytes(data)
            os.symlink(elsewhere if i % 4 == 0 else os.path.relpath(elsewhere, os.path.dirname(pyc)), pyc)
    assert _render(tmp_path, monkeypatch) == expected
    assert not marker.exists()


def test_byte_code_is_used_when_sound(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(sys, "pycache_prefix", None)
    cache = code_cache.CodeCache(tmp_path)
    code = cache.put("a" * 64, "x = 1\n", "x.j2", lambda text, filename: compile(text, filename, "exec"))
    assert code.co_filename == "x.j2"
    assert _sound(tmp_path / ("a" * 64 + ".py"))  # loaded from the byte code: not compiled again
    monkeypatch.setattr(sys, "pycache_prefix", str(tmp_path / "prefix"))  # as PYTHONPYCACHEPREFIX says
    cache.put("b" * 64, "x = 2\n", "x.j2", lambda text, filename: compile(text, filename, "exec"))
    assert _sound(tmp_path / ("b" * 64 + ".py"))
    assert os.path.isfile(_byte_code(tmp_path / ("b" * 64 + ".py")))
    assert str(_byte_code(tmp_path / ("b" * 64 + ".py"))).startswith(str(tmp_path / "prefix"))


@pytest.mark.slow
def test_a_truncated_or_empty_entry_is_a_miss(tmp_path, monkeypatch):
    expected = _render(tmp_path, monkeypatch)
    for i, entry in enumerate(_entries(tmp_path)):
        data = entry.read_bytes()
        entry.write_bytes(b"" if i % 2 else data[: len(data) // 2])
    assert _render(tmp_path, monkeypatch) == expected


@pytest.mark.slow
def test_a_folder_others_may_write_is_not_used(tmp_path, monkeypatch):
    folder = tmp_path / "assessor" / "templates"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    expected = _render(tmp_path / "clean", monkeypatch)
    assert _render(tmp_path, monkeypatch) == expected
    assert list(folder.iterdir()) == []


def test_a_linked_entry_is_not_followed(tmp_path, monkeypatch):
    expected = _render(tmp_path, monkeypatch)
    elsewhere = tmp_path / "elsewhere"
    for entry in _entries(tmp_path):
        entry.rename(elsewhere)
        entry.symlink_to(elsewhere)
        assert code_cache.CodeCache(entry.parent).get(entry.stem, "x.j2", _refused) is None
        entry.unlink()
        elsewhere.rename(entry)
    assert _render(tmp_path, monkeypatch) == expected


@pytest.mark.slow
def test_a_cache_that_cannot_be_made_never_fails_a_run(tmp_path, monkeypatch):
    (tmp_path / "assessor").write_text("a file where the cache folder would be")
    expected = _render(tmp_path / "clean", monkeypatch)
    assert _render(tmp_path, monkeypatch) == expected


def test_off_and_location(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("ASSESSOR_NO_CACHE", "1")
    assert code_cache.location() is None
    assert Renderer(CAMBRIDGESHIRE.parent.parent / "templates").codes.path is None
    monkeypatch.setenv("ASSESSOR_NO_CACHE", "0")
    assert code_cache.location() == tmp_path / "assessor" / "templates"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # ignored, as the XDG specification says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert code_cache.location() == tmp_path / "home" / ".cache" / "assessor" / "templates"


def test_the_key_covers_the_environment(tmp_path, monkeypatch):
    """The same template compiled for HTML (autoescaped) and for Markdown is two entries."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    renderer = Renderer(CAMBRIDGESHIRE.parent.parent / "templates")
    renderer.check("markdown/_blocks.j2", html=False)
    renderer.check("markdown/_blocks.j2", html=True)
    assert len(_entries(tmp_path)) == 2


def _compile(text, filename):
    return compile(text, filename, "exec")


def test_pruning_keeps_the_newest(tmp_path, monkeypatch):
    monkeypatch.setattr(code_cache, "MAX_ENTRIES", 10)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(sys, "pycache_prefix", None)
    cache = code_cache.CodeCache(tmp_path / "assessor" / "templates")
    names = [f"a{i:063x}" for i in range(1, 12)]
    for i, name in enumerate(names):
        cache.put(name, f"x = {i}\n", "x.j2", _compile)
        os.utime(cache.path / (name + ".py"), (1_000_000 + i, 1_000_000 + i))
    cache.put("00" + "f" * 62, "y = 1\n", "x.j2", _compile)  # a name starting 00 looks at the size
    kept = sorted(p.stem for p in cache.path.glob("*.py"))
    assert len(kept) == 5 and "00" + "f" * 62 in kept and names[-1] in kept and names[0] not in kept
    assert sorted(p.name.split(".")[0] for p in (cache.path / "__pycache__").iterdir()) == kept  # its byte code too


def test_the_same_generated_code_is_loaded_once_per_process(tmp_path, monkeypatch):
    """A batch or a test session loads each template's code from the folder once, and every
    environment that generates the same code shares the code object."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(code_cache, "_compiled", {})
    reads = []
    get = code_cache.CodeCache.get
    monkeypatch.setattr(code_cache.CodeCache, "get", lambda self, *a: reads.append(a[0]) or get(self, *a))
    templates = CAMBRIDGESHIRE.parent.parent / "templates"
    first = Renderer(templates).env().get_template("markdown/_blocks.j2")
    again = Renderer(templates).env().get_template("markdown/_blocks.j2")
    assert again.root_render_func.__code__ is first.root_render_func.__code__
    assert len(reads) == 1


def test_the_compiled_code_kept_in_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(code_cache, "_compiled", {})
    for i in range(code_cache.MAX_COMPILED + 10):
        code_cache.remember(f"{i:064x}", compile(f"x = {i}\n", "a.j2", "exec"))
    assert len(code_cache._compiled) == code_cache.MAX_COMPILED
    assert code_cache.remembered(f"{0:064x}") is None  # the oldest went first
    assert code_cache.remembered(f"{code_cache.MAX_COMPILED + 9:064x}") is not None

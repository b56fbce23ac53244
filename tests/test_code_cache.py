"""The cache of generated template code (report/code_cache.py): the same reports with and without
it, and whatever state it is in, a run neither fails nor changes because of it."""

from __future__ import annotations

import os
import stat

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
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []


@pytest.mark.slow
def test_reports_are_byte_identical_without_cache_cold_and_warm(tmp_path):
    off = _reports(tmp_path / "off", {"ASSESSOR_NO_CACHE": "1"})
    assert not (tmp_path / "off").exists()  # off means not even created
    cold = _reports(tmp_path / "on")
    entries = _entries(tmp_path / "on")
    assert len(entries) >= 20  # every template of every layout, once per environment
    mtimes = {p: p.stat().st_mtime_ns for p in entries}
    warm = _reports(tmp_path / "on")
    assert off == cold == warm
    assert {p: p.stat().st_mtime_ns for p in _entries(tmp_path / "on")} == mtimes  # read, not rewritten
    folder = tmp_path / "on" / "assessor" / "templates"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in entries)


def _render(cache_home, monkeypatch, fmt="markdown") -> str:
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.delenv("ASSESSOR_NO_CACHE", raising=False)
    with Session(engine="python") as s:
        result = s.assess(CAMBRIDGESHIRE)
        return render_report(s.renderer, result, fmt)


def test_an_altered_entry_is_a_miss_and_rewritten(tmp_path, monkeypatch):
    expected = _render(tmp_path, monkeypatch)
    marker = tmp_path / "pwned"
    for entry in _entries(tmp_path):
        header, _, body = entry.read_bytes().partition(b"\n")
        # planted code under the old digest: its check fails, so it is never compiled
        entry.write_bytes(header + b"\n" + f"open({str(marker)!r}, 'w').close()\n".encode() + body)
    assert _render(tmp_path, monkeypatch) == expected
    assert not marker.exists()
    for entry in _entries(tmp_path):
        assert code_cache.CodeCache(entry.parent).get(entry.name) is not None  # sound again


def test_a_truncated_or_empty_entry_is_a_miss(tmp_path, monkeypatch):
    expected = _render(tmp_path, monkeypatch)
    for i, entry in enumerate(_entries(tmp_path)):
        data = entry.read_bytes()
        entry.write_bytes(b"" if i % 2 else data[: len(data) // 2])
    assert _render(tmp_path, monkeypatch) == expected


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
        assert code_cache.CodeCache(entry.parent).get(entry.name) is None
        entry.unlink()
        elsewhere.rename(entry)
    assert _render(tmp_path, monkeypatch) == expected


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


def test_pruning_keeps_the_newest(tmp_path, monkeypatch):
    monkeypatch.setattr(code_cache, "MAX_ENTRIES", 10)
    cache = code_cache.CodeCache(tmp_path / "assessor" / "templates")
    names = [f"a{i:063x}" for i in range(1, 12)]
    for i, name in enumerate(names):
        cache.put(name, f"x = {i}\n")
        os.utime(cache.path / name, (1_000_000 + i, 1_000_000 + i))
    cache.put("00" + "f" * 62, "y = 1\n")  # a name starting 00 looks at the size
    kept = sorted(p.name for p in cache.path.iterdir())
    assert len(kept) == 5 and "00" + "f" * 62 in kept and names[-1] in kept and names[0] not in kept


def test_the_same_generated_code_is_compiled_once_per_process(monkeypatch):
    monkeypatch.setattr(code_cache, "_compiled", {})
    calls = []

    def compile_text(text, filename):
        calls.append((text, filename))
        return compile(text, filename, "exec")

    first = code_cache.compiled("x = 1\n", "a.j2", compile_text)
    assert code_cache.compiled("x = 1\n", "a.j2", compile_text) is first
    assert code_cache.compiled("x = 1\n", "b.j2", compile_text).co_filename == "b.j2"  # tracebacks name the file
    assert code_cache.compiled("x = 2\n", "a.j2", compile_text) is not first
    assert len(calls) == 3


def test_the_compiled_code_kept_in_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(code_cache, "_compiled", {})
    for i in range(code_cache.MAX_COMPILED + 10):
        code_cache.compiled(f"x = {i}\n", "a.j2", lambda text, filename: compile(text, filename, "exec"))
    assert len(code_cache._compiled) == code_cache.MAX_COMPILED
    assert ("x = 0\n", "a.j2") not in code_cache._compiled  # the oldest went first

"""The Python source Jinja generates for each template, kept on disk between runs.

Lexing, parsing and generating code for the ~20 templates of a report was most of a cold
`assess CASE`. The generated code depends only on the template's source and the environment
that compiles it, so it is kept as text, keyed by the SHA-256 of everything it depends on,
and a later run only hands it to Python's compiler. Never pickle or marshal: an entry is
Python source text that Jinja would have generated anyway, checked against its own digest
(a truncated or edited entry is a miss), in a folder only its owner may write
(docs/architecture.md, "Cold start", says why that is safe enough). Every failure of the
cache is a miss, silently: a run never fails, or prints differently, because of it.

`ASSESSOR_NO_CACHE` set to anything but "" or "0" turns it off; it lives in
`$XDG_CACHE_HOME/assessor/templates` (or `~/.cache/assessor/templates`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import CodeType

FORMAT = "assessor-template-code 1"  # the first line of an entry, before its digest
MAX_ENTRY = 5_000_000  # bytes: larger entries are not read
MAX_ENTRIES = 2_000  # entries kept; the oldest go first once there are more
MAX_COMPILED = 256  # code objects kept in memory; the oldest go first once there are more

# Python's compiler is most of what a cached entry still costs. A process that renders the same
# templates again (a batch, a test session, lint over several layouts) compiles each text once.
_compiled: dict[tuple[str, str], CodeType] = {}


def location() -> Path | None:
    """The cache folder, or None when the cache is off or no home folder is known."""
    if os.environ.get("ASSESSOR_NO_CACHE", "") not in ("", "0"):
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    try:
        root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"  # the XDG spec ignores relative paths
    except RuntimeError:  # no HOME and no password entry
        return None
    return root / "assessor" / "templates"


def key(*parts: object) -> str:
    """The name of an entry: the SHA-256 of the repr of everything the generated code depends on."""
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()


def compiled(text: str, filename: str, compile_text: Callable[[str, str], CodeType]) -> CodeType:
    """The code object of generated TEXT compiled as FILENAME, compiled once per process.
    A code object depends on nothing but its text and file name, and is never changed, so
    every environment that generates the same text may share it."""
    memo = (text, filename)
    code = _compiled.get(memo)
    if code is None:
        code = compile_text(text, filename)
        if len(_compiled) >= MAX_COMPILED:
            del _compiled[next(iter(_compiled))]
        _compiled[memo] = code
    return code


class CodeCache:
    def __init__(self, path: Path | None):
        self.path = path
        self._usable: bool | None = None  # checked on first use

    def get(self, name: str) -> str | None:
        """The entry NAME if there is a sound one: a regular file of ours that no one else may
        write, within the size limit, whose text matches its digest. Otherwise None."""
        folder = self._ready(create=False)
        if folder is None:
            return None
        try:
            fd = os.open(folder / name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not _ours(st) or not stat.S_ISREG(st.st_mode) or st.st_size > MAX_ENTRY:
                return None
            with os.fdopen(fd, "rb", closefd=False) as f:
                data = f.read(MAX_ENTRY + 1)
            header, _, body = data.partition(b"\n")
            if header != f"{FORMAT} {hashlib.sha256(body).hexdigest()}".encode():
                return None
            return body.decode("utf-8")
        except (OSError, ValueError):
            return None
        finally:
            os.close(fd)

    def put(self, name: str, text: str) -> None:
        """Keep TEXT as entry NAME, written whole or not at all; failures are ignored."""
        folder = self._ready(create=True)
        if folder is None:
            return
        body = text.encode("utf-8")
        data = f"{FORMAT} {hashlib.sha256(body).hexdigest()}\n".encode() + body
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=".new-", dir=folder)  # mode 0600
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, folder / name)
            tmp = None
            if name.startswith("00"):  # about one write in 256 looks at the size of the cache
                _prune(folder)
        except OSError:
            pass
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def _ready(self, create: bool) -> Path | None:
        """The folder, if it exists (made when CREATE), is a folder of ours, not a link, and no one
        else may write it."""
        if self._usable is None and self.path is not None:
            try:
                if create:
                    for folder in (self.path.parent.parent, self.path.parent, self.path):
                        with contextlib.suppress(FileExistsError):
                            folder.mkdir(mode=0o700)
                st = os.lstat(self.path)
            except OSError:
                if create:
                    self._usable = False
                return None
            self._usable = stat.S_ISDIR(st.st_mode) and _ours(st)
        return self.path if self._usable else None


def _prune(folder: Path) -> None:
    entries = []
    with os.scandir(folder) as it:
        for e in it:
            if len(e.name) == 64 and e.is_file(follow_symlinks=False):
                entries.append((e.stat(follow_symlinks=False).st_mtime, e.name))
    if len(entries) > MAX_ENTRIES:
        for _, name in sorted(entries)[: len(entries) - MAX_ENTRIES // 2]:
            with contextlib.suppress(OSError):
                os.unlink(folder / name)


def _ours(st: os.stat_result) -> bool:
    """Owned by this user, and neither group nor others may write it."""
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)

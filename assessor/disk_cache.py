"""The user's cache folder: entries kept between runs, each used only if it is whole and ours.

Two stages keep work there: the rulebook's checked model (rulebook/model_cache.py) and the code
generated from each template (report/code_cache.py). Both follow one rule, kept here: an entry is
used only if it is a regular file of this user's, in a folder of this user's that no one else may
write, within the size limit, and its bytes match the digest on its last line. Anything else is a
miss, silently: a run never fails, or prints differently, because of the cache.

`ASSESSOR_NO_CACHE` set to anything but "" or "0" turns it off; it lives in
`$XDG_CACHE_HOME/assessor` (or `~/.cache/assessor`), one folder per kind of entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from assessor.files import read_if

MAX_ENTRY = 5_000_000  # bytes: larger entries are not read (nor written)
STALE_SECONDS = 3600  # a temporary file no write has finished in this long is left from one that died


def location(kind: str) -> Path | None:
    """The folder of entries of KIND, or None when the cache is off or no home folder is known."""
    if os.environ.get("ASSESSOR_NO_CACHE", "") not in ("", "0"):
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    try:
        root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"  # the XDG spec ignores relative paths
    except RuntimeError:  # no HOME and no password entry
        return None
    return root / "assessor" / kind


def key(*parts: object) -> str:
    """The name of an entry: the SHA-256 of the repr of everything the entry depends on."""
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()


class Entries:
    """A folder of entries named by a key: `{name}{suffix}`, holding a body and a last line
    `# {fmt} {SHA-256 of the body}`. A sound entry is what was written, whole."""

    def __init__(
        self,
        path: Path | None,
        fmt: str,
        suffix: str,
        keep: int = 2_000,
        also: Callable[[Path], None] | None = None,
        prune_every_write: bool = False,
    ):
        """KEEP: the entries kept; once there are more, the oldest go first, looked at on one write
        in 256 (a name starting 00), or on every write with PRUNE_EVERY_WRITE (where writes are
        rare). ALSO: deletes whatever else belongs to an entry that goes."""
        self.path = path
        self.suffix = suffix
        self.keep = keep
        self.also = also
        self.prune_every_write = prune_every_write
        self._trailer = f"\n# {fmt} ".encode()
        self._trailer_size = len(self._trailer) + 64 + 1
        self._usable: bool | None = None  # checked on first use

    def read(self, name: str) -> tuple[Path, bytes, bytes] | None:
        """(path, the whole file, its body) of entry NAME if it is sound, else None."""
        folder = self._ready(create=False)
        if folder is None:
            return None
        path = folder / (name + self.suffix)
        data = read_own(path)
        if data is None or len(data) < self._trailer_size:
            return None
        body, trailer = data[: -self._trailer_size], data[-self._trailer_size :]
        if trailer != self._last_line(body):
            return None
        return path, data, body

    def write(self, name: str, body: bytes) -> tuple[Path, bytes] | None:
        """Keep BODY as entry NAME, written whole or not at all: (path, the whole file), or None if
        it could not be written (or would be too large to read back)."""
        data = body + self._last_line(body)
        folder = self._ready(create=True) if len(data) <= MAX_ENTRY else None
        if folder is None:
            return None
        path = folder / (name + self.suffix)
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=".new-", dir=folder)  # mode 0600
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
            tmp = None
            if self.prune_every_write or name.startswith("00"):
                self._prune(folder)
        except OSError:
            return None
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        return path, data

    def _prune(self, folder: Path) -> None:
        """Once there are more than `keep` entries, delete the oldest until half are left; and the
        temporary files of writes that never finished (a process killed while writing)."""
        entries = []
        stale = time.time() - STALE_SECONDS
        with os.scandir(folder) as it:
            for e in it:
                if not e.is_file(follow_symlinks=False):
                    continue
                if len(e.name) == 64 + len(self.suffix) and e.name.endswith(self.suffix):
                    entries.append((e.stat(follow_symlinks=False).st_mtime, e.name))
                elif e.name.startswith(".new-") and e.stat(follow_symlinks=False).st_mtime < stale:
                    with contextlib.suppress(OSError):
                        os.unlink(e.path)
        if len(entries) > self.keep:
            for _, name in sorted(entries)[: len(entries) - self.keep // 2]:
                with contextlib.suppress(OSError, NotImplementedError, ValueError):
                    os.unlink(folder / name)
                    if self.also is not None:
                        self.also(folder / name)

    def _last_line(self, body: bytes) -> bytes:
        return self._trailer + hashlib.sha256(body).hexdigest().encode() + b"\n"

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
            self._usable = stat.S_ISDIR(st.st_mode) and ours(st)
        return self.path if self._usable else None


def read_own(path: Path) -> bytes | None:
    """The bytes of PATH if it is a regular file of ours that no one else may write (not followed
    if a link), within the size limit."""
    return read_if(path, _own_entry, MAX_ENTRY, getattr(os, "O_NOFOLLOW", 0))


def _own_entry(st: os.stat_result) -> bool:
    return ours(st) and stat.S_ISREG(st.st_mode) and st.st_size <= MAX_ENTRY


def ours(st: os.stat_result) -> bool:
    """Owned by this user, and neither group nor others may write it."""
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)

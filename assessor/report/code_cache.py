"""The Python source Jinja generates for each template, kept on disk between runs, with its byte code.

Lexing, parsing and generating code for the ~20 templates of a report was most of a cold
`assess CASE`; compiling the generated source was most of what remained. The generated code
depends only on the template's source, its name and file, and the environment that compiles it,
so it is kept as a `.py` file, named by the SHA-256 of everything it depends on, and Python's own
byte-code cache (a hash-checked `.pyc`, where the interpreter keeps any module's, honouring
`sys.dont_write_bytecode` and `sys.pycache_prefix`) keeps it compiled. Never pickle or marshal in
our code: an entry is Python source text that Jinja would have generated anyway, checked against
its own digest (a truncated or edited entry is a miss), and its byte code is used only if it
records that very text's hash, in a folder only its owner may write (docs/architecture.md,
"Cold start", says why that is safe enough). Every failure of the cache is a miss, silently: a
run never fails, or prints differently, because of it.

`ASSESSOR_NO_CACHE` set to anything but "" or "0" turns it off; it lives in
`$XDG_CACHE_HOME/assessor/templates` (or `~/.cache/assessor/templates`).
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import CodeType

from assessor import disk_cache

FORMAT = "assessor-template-code 2"  # the last line of an entry, a comment, before its digest
SUFFIX = ".py"
MAX_ENTRIES = 2_000  # entries kept; the oldest go first once there are more
MAX_COMPILED = 256  # code objects kept in memory; the oldest go first once there are more

_CHECKED_HASH = 0b11  # the flags of a .pyc that records its source's hash and must be checked against it

# Reading byte code is most of what a cached entry still costs. A process that renders the same
# templates again (a batch, a test session, lint over several layouts) loads each once.
_compiled: dict[str, CodeType] = {}

CompileText = Callable[[str, str], CodeType]
key = disk_cache.key


def location() -> Path | None:
    """The cache folder, or None when the cache is off or no home folder is known."""
    return disk_cache.location("templates")


def remembered(name: str) -> CodeType | None:
    """The code object of entry NAME if this process has loaded or compiled it before. A code object
    is never changed, so every environment that generates the same code may share it."""
    return _compiled.get(name)


def remember(name: str, code: CodeType) -> CodeType:
    if len(_compiled) >= MAX_COMPILED:
        del _compiled[next(iter(_compiled))]
    _compiled[name] = code
    return code


class CodeCache:
    def __init__(self, path: Path | None):
        self.path = path
        self.entries = disk_cache.Entries(path, FORMAT, SUFFIX, keep=MAX_ENTRIES, also=_forget_byte_code)

    def get(self, name: str, filename: str, compile_text: CompileText) -> CodeType | None:
        """The code of entry NAME if there is a sound one (disk_cache.Entries.read), compiled as
        FILENAME, from its byte code where that records this text. Otherwise None."""
        found = self.entries.read(name)
        if found is None:
            return None
        path, data, body = found
        try:
            text = body.decode("utf-8")
        except ValueError:
            return None
        return _byte_code(path, data, filename) or _compiled_now(path, data, filename) or compile_text(text, filename)

    def put(self, name: str, text: str, filename: str, compile_text: CompileText) -> CodeType:
        """Keep TEXT as entry NAME, written whole or not at all (failures are ignored), and its code
        compiled as FILENAME."""
        written = self.entries.write(name, text.encode("utf-8"))
        if written is None:
            return compile_text(text, filename)
        path, data = written
        return _compiled_now(path, data, filename) or compile_text(text, filename)


def _byte_code(path: Path, source: bytes, filename: str) -> CodeType | None:
    """The code in the byte-code cache for the entry at PATH, if that file is sound (ours, no one
    else may write it, not a link) and records the hash of SOURCE, the entry's checked bytes, and
    the file name the code was compiled for (the name in tracebacks and template errors)."""
    try:
        pyc = importlib.util.cache_from_source(str(path))
    except (NotImplementedError, ValueError):  # no cache tag: byte code is not kept
        return None
    data = disk_cache.read_own(Path(pyc))
    if (
        data is None
        or data[:4] != importlib.util.MAGIC_NUMBER
        or int.from_bytes(data[4:8], "little") != _CHECKED_HASH
        or data[8:16] != importlib.util.source_hash(source)
    ):
        return None
    try:
        code = _Checked(pyc, data).get_code("<template>")
    except (ImportError, EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, CodeType) and code.co_filename == filename else None


def _compiled_now(path: Path, source: bytes, filename: str) -> CodeType | None:
    """Compile the entry at PATH into the byte-code cache as FILENAME, unless byte code is not to be
    written (`python -B`, PYTHONDONTWRITEBYTECODE), and return that code as it would be read back."""
    if sys.dont_write_bytecode:
        return None
    import py_compile  # only when writing: a warm run reads byte code and never needs it

    try:
        pyc = importlib.util.cache_from_source(str(path))
        os.makedirs(os.path.dirname(pyc), mode=0o700, exist_ok=True)
        py_compile.compile(
            str(path), pyc, dfile=filename, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH
        )
    except (py_compile.PyCompileError, OSError, NotImplementedError, ValueError):
        return None
    return _byte_code(path, source, filename)  # the source read again by py_compile is checked here


class _Checked(importlib.machinery.SourcelessFileLoader):
    """Python's loader for a .pyc, given the bytes already read and checked, so that what it loads
    is what was checked, not whatever the file holds by then."""

    def __init__(self, path: str, data: bytes):
        super().__init__("<template>", path)
        self.data = data

    def get_data(self, path: str) -> bytes:  # noqa: ARG002 - the loader's own signature
        return self.data


def _forget_byte_code(entry: Path) -> None:
    with contextlib.suppress(OSError, NotImplementedError, ValueError):
        os.unlink(importlib.util.cache_from_source(str(entry)))

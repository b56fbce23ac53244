"""Files the tool reads and writes: the bundled rulebook's folder, case discovery, atomic output.

Every stage and command finds and writes files through here, so "where is it" and "was it
written whole" have one answer each.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from assessor.errors import AssessorError, Finding

PACKAGE = Path(__file__).resolve().parent
EXPECTED_SUFFIX = ".expected.yaml"


def relative(path: Path) -> Path:
    """`path` relative to the working directory when inside it, so messages name files as users see them."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def bundled_root() -> Path:
    """The bundled rulebook's folder (rulebook.yaml, rules/, templates/, cases/): shipped inside the
    package as assessor/bundled/ (installed), or the repository root (source checkout)."""
    installed = PACKAGE / "bundled"
    return relative(installed if (installed / "rulebook.yaml").is_file() else PACKAGE.parent)


def bundled(name: str) -> Path:
    """A folder of the bundled rulebook: rules, templates or cases."""
    return bundled_root() / name


def case_files(directory) -> list[Path]:
    """The case files of a directory: *.yaml, except the expected-judgement files beside them."""
    return sorted(p for p in Path(directory).glob("*.yaml") if not p.name.endswith(EXPECTED_SUFFIX))


MAX_BYTES = 5 * 1024 * 1024  # the largest case, rule file or template read
PIPE_WAIT_SECONDS = 10.0  # how long a pipe may keep the run waiting for its next bytes


def read_limited(path: str | os.PathLike, what: str) -> bytes:
    """The bytes of a file, at most MAX_BYTES of them, every problem a finding.

    Counted while reading, not taken from the size the system reports: devices and pipes
    (`/dev/zero`, `<(yes)`) report 0 and never end. Opened without waiting, so that a named pipe
    nothing writes to is refused rather than waited for forever; a pipe that is being written
    (`assess <(cat case.yaml)`) is read to its end, as long as its bytes keep coming.
    """
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise AssessorError(Finding(name, None, None, "io", f"{what} does not exist")) from None
    except IsADirectoryError:
        raise _a_directory(name, what) from None
    except OSError as e:
        raise AssessorError(Finding(name, None, None, "io", f"cannot read {what}: {e.strerror}")) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise _a_directory(name, what)
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            raw = _read_pipe(fd, name, what)
        else:
            os.set_blocking(fd, True)  # a file, or a device such as /dev/zero or a terminal
            raw = read_open(fd, MAX_BYTES)
    except OSError as e:
        raise AssessorError(Finding(name, None, None, "io", f"cannot read {what}: {e.strerror}")) from None
    finally:
        os.close(fd)
    if len(raw) > MAX_BYTES:
        raise AssessorError(
            Finding(name, None, None, "too-large", f"{what} is larger than the limit of {MAX_BYTES // 1048576} MB")
        )
    return raw


def read_open(fd: int, limit: int) -> bytes:
    """The bytes of the open file FD, at most one past LIMIT (so that too large shows).

    A regular file is read with one request for what its size says it holds, and on if it grew:
    asking for LIMIT + 1 bytes at once makes Python allocate that much (5 MB) for every small
    file, a third of what reading one took. A device reports no size and is read up to the limit.
    """
    st = os.fstat(fd)
    expected = min(st.st_size, limit) if stat.S_ISREG(st.st_mode) else 0
    with os.fdopen(fd, "rb", closefd=False) as f:
        raw = f.read(expected + 1)
        if expected < len(raw) <= limit:
            raw += f.read(limit + 1 - len(raw))
    return raw


def read_if(
    path: str | os.PathLike, accept: Callable[[os.stat_result], bool], limit: int, flags: int = 0
) -> bytes | None:
    """The bytes of PATH, at most one past LIMIT, if it opens (with FLAGS) and ACCEPT takes its
    status; else None, and None on any error: for the caches, where a file that cannot be read as
    expected is a miss, never a finding."""
    try:
        fd = os.open(path, os.O_RDONLY | flags | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        return read_open(fd, limit) if accept(os.fstat(fd)) else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _a_directory(name: str, what: str) -> AssessorError:
    return AssessorError(Finding(name, None, None, "io", f"{what} is a directory, expected a file"))


def _read_pipe(fd: int, name: str, what: str) -> bytes:
    """A pipe's bytes up to its end (or one byte past the limit), never waiting on it for long."""
    import select

    chunks: list[bytes] = []
    size = 0
    while size <= MAX_BYTES:
        try:
            chunk = os.read(fd, min(65536, MAX_BYTES + 1 - size))
        except BlockingIOError:  # a writer is there, its next bytes are not yet
            if not select.select([fd], [], [], PIPE_WAIT_SECONDS)[0]:
                raise _unread(name, what, f"it is a pipe that sent nothing for {PIPE_WAIT_SECONDS:g} s") from None
            continue
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if not chunks:
        raise _unread(
            name,
            what,
            "it is a pipe and nothing was written to it; for a named pipe (FIFO), "
            "start the program that writes to it first, or name the file itself",
        )
    return b"".join(chunks)


def _unread(name: str, what: str, why: str) -> AssessorError:
    return AssessorError(Finding(name, None, None, "io", f"cannot read {what}: {why}"))


def same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def input_files(*places) -> list[Path]:
    """Every file a run reads from PLACES (files, or directories read whole: rules, templates)."""
    out = []
    for place in places:
        if place is None:
            continue
        p = Path(place)
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.is_file())
        elif p.exists():
            out.append(p)
    return out


def refuse_inputs(path: str, inputs) -> None:
    """Refuse to write PATH when it is, by any name or link, one of the files the run reads."""
    try:
        target = os.stat(path)  # follows links: a link to the case is the case
    except OSError:
        return  # nothing there yet (or unreachable: writing will say why)
    for p in inputs:
        try:
            if same_file(target, os.stat(p)):
                raise AssessorError(
                    Finding(
                        path,
                        None,
                        None,
                        "output-is-input",
                        f"this is {p}, which the run reads; writing the report there would destroy it: "
                        "choose another output file",
                    )
                )
        except OSError:
            continue


def write_atomically(path: str, text: str, inputs=()) -> None:
    """Write the whole file or nothing: a failed run never leaves a partial report, nor a temporary file.

    A symbolic link is followed and its target written; the link stays. A regular file (or a new
    one) is replaced by renaming a finished temporary file over it. Anything else (a FIFO, a
    device such as /dev/null) is written through, never replaced by a regular file. A file among
    INPUTS, reached by whatever path, is refused.
    """
    refuse_inputs(path, inputs)
    real = Path(os.path.realpath(path))
    try:
        st = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise _cannot_write(path, e) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise AssessorError(Finding(path, None, None, "io", "cannot write the report: it is a directory"))
    if st is not None and not stat.S_ISREG(st.st_mode):
        try:
            with open(real, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
        except OSError as e:
            raise _cannot_write(path, e) from None
        return
    directory = real.parent
    if not directory.is_dir():
        shown = Path(path).parent if os.path.realpath(path) == os.path.abspath(path) else directory
        raise AssessorError(
            Finding(path, None, None, "io", f"cannot write the report: directory {shown} does not exist")
        )
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{real.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        if st is not None:  # a replaced file keeps its permissions
            mode = stat.S_IMODE(st.st_mode)
        else:  # mkstemp makes the file private; a report gets the permissions any new file would
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, real)
    except OSError as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise _cannot_write(path, e) from None
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise


def _cannot_write(path: str, e: OSError) -> AssessorError:
    return AssessorError(Finding(path, None, None, "io", f"cannot write the report: {e.strerror or e}"))

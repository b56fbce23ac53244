"""Time and memory limits for work that data can make endless: a template render, a batch case.

One wall-clock alarm (SIGALRM) serves every limit in force; limits nest, and the earliest
deadline fires first, raising its own exception wherever the code then is. Signals reach
only the main thread: elsewhere `time_limit` is a no-op and the callers' own checks
(`expired`) are what stops the work.
"""

from __future__ import annotations

import contextlib
import resource
import signal
import threading
import time

_deadlines: list = []  # (deadline, make_exception) of every limit in force, innermost last


def _on_alarm(_signum, _frame):
    now = time.monotonic()
    due = [d for d in _deadlines if d[0] <= now]
    if due:
        raise min(due, key=lambda d: d[0])[1]()
    _arm()  # woken early (a limit ended meanwhile): wait for the next


def _arm() -> None:
    if _deadlines:
        signal.setitimer(signal.ITIMER_REAL, max(min(d[0] for d in _deadlines) - time.monotonic(), 0.001))
    else:
        signal.setitimer(signal.ITIMER_REAL, 0)


@contextlib.contextmanager
def time_limit(seconds: float | None, make_exception):
    """Raise `make_exception()` in the main thread when the block runs longer than `seconds`."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    entry = (time.monotonic() + seconds, make_exception)
    previous = signal.signal(signal.SIGALRM, _on_alarm) if not _deadlines else None
    _deadlines.append(entry)
    try:
        _arm()
        yield
    finally:
        _deadlines.remove(entry)
        _arm()
        if previous is not None:
            signal.signal(signal.SIGALRM, previous)


def expired() -> bool:
    """Whether any limit in force has passed (for code that checks rather than waits for the alarm)."""
    now = time.monotonic()
    return any(d[0] <= now for d in _deadlines)


def _address_space() -> int | None:
    """Bytes of address space the process uses now (Linux), or None where that cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def memory_limit(extra_bytes: int):
    """Let the block grow the process by at most `extra_bytes` of address space: beyond, MemoryError.

    Process-wide, so only in the main thread (the CLI, a batch worker), where nothing else runs.
    """
    used = _address_space() if threading.current_thread() is threading.main_thread() else None
    if used is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = used + extra_bytes
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft <= wanted:
        yield  # a tighter limit is already in force
        return
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))

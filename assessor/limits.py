"""Time and memory limits for work that data can make endless: a template render, a batch case.

A limit counts either wall-clock time (a batch case, which may hang waiting) or CPU time (a
render, which only computes: other processes' load must not make a good report fail). In the
main thread one interval timer per clock serves every limit in force on it: SIGALRM for wall
time, SIGPROF for the process's CPU time. Limits nest, and the earliest deadline fires first,
raising its own exception wherever the code then is. Signals reach only the main thread:
elsewhere a limit is recorded for that thread (CPU time counted by the thread's own clock) and
the callers' own checks (`expired`) are what stops the work.
"""

from __future__ import annotations

import contextlib
import resource
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Clock:
    now: Callable[[], float]
    timer: int
    signum: int
    deadlines: list = field(default_factory=list)  # (deadline, make_exception) in force, innermost last

    def on_signal(self, _signum, _frame):
        now = self.now()
        due = [d for d in self.deadlines if d[0] <= now]
        if due:
            raise min(due, key=lambda d: d[0])[1]()
        self.arm()  # woken early (a limit ended meanwhile): wait for the next

    def arm(self) -> None:
        if self.deadlines:
            signal.setitimer(self.timer, max(min(d[0] for d in self.deadlines) - self.now(), 0.001))
        else:
            signal.setitimer(self.timer, 0)


_WALL = _Clock(time.monotonic, signal.ITIMER_REAL, signal.SIGALRM)
_CPU = _Clock(time.process_time, signal.ITIMER_PROF, signal.SIGPROF)


class _ThreadLimits(threading.local):
    def __init__(self):
        self.deadlines: list = []  # (clock, deadline) of this thread's limits


_elsewhere = _ThreadLimits()


@contextlib.contextmanager
def time_limit(seconds: float | None, make_exception, cpu: bool = False):
    """Raise `make_exception()` in the main thread when the block runs longer than `seconds`:
    seconds of wall-clock time, or with `cpu` of CPU time used (by the process in the main
    thread, by the thread itself elsewhere, where only `expired` tells)."""
    if not seconds:
        yield
        return
    if threading.current_thread() is not threading.main_thread():
        now = time.thread_time if cpu else time.monotonic
        entry_elsewhere = (now, now() + seconds)
        _elsewhere.deadlines.append(entry_elsewhere)
        try:
            yield
        finally:
            _elsewhere.deadlines.remove(entry_elsewhere)
        return
    clock = _CPU if cpu else _WALL
    entry = (clock.now() + seconds, make_exception)
    previous = signal.signal(clock.signum, clock.on_signal) if not clock.deadlines else None
    clock.deadlines.append(entry)
    try:
        clock.arm()
        yield
    finally:
        clock.deadlines.remove(entry)
        clock.arm()
        if previous is not None:
            signal.signal(clock.signum, previous)


def expired() -> bool:
    """Whether any limit in force in this thread has passed (for code that checks rather than waits)."""
    if threading.current_thread() is not threading.main_thread():
        return any(d <= now() for now, d in _elsewhere.deadlines)
    return any(d[0] <= clock.now() for clock in (_WALL, _CPU) for d in clock.deadlines)


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

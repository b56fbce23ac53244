"""Time and memory limits for work that data can make endless: a template render, a batch case.

A limit counts either wall-clock time (a batch case, which may hang waiting) or CPU time (a
render, which only computes: other processes' load must not make a good report fail). In the
main thread one interval timer per clock serves every limit in force on it: SIGALRM for wall
time, SIGPROF for the process's CPU time. Limits nest, and the earliest deadline fires first,
raising its own exception wherever the code then is. Signals reach only the main thread:
elsewhere a limit is recorded for that thread (CPU time counted by the thread's own clock) and
the callers' own checks (`check`) are what stops the work.
"""

from __future__ import annotations

import contextlib
import math
import resource
import signal
import threading
import time
from collections.abc import Callable


class _Limit:
    """One limit in force on a clock: its deadline, and the exception it raises, once."""

    __slots__ = ("deadline", "fired", "make_exception")

    def __init__(self, deadline: float, make_exception: Callable[[], BaseException]):
        self.deadline = deadline
        self.make_exception = make_exception
        self.fired = False


class _Clock:
    def __init__(self, now: Callable[[], float], timer: int, signum: int):
        self.now = now
        self.timer = timer
        self.signum = signum
        self.limits: list[_Limit] = []  # in force, innermost last
        self.next = math.inf  # the earliest deadline of a limit not yet fired: `check` runs at every template call

    def due(self) -> list[_Limit]:
        now = self.now()
        return [limit for limit in self.limits if not limit.fired and limit.deadline <= now]

    def on_signal(self, _signum, _frame):
        exception = self.fire()
        if exception is None:
            self.arm()  # woken early (a limit ended meanwhile): wait for the next
            return
        raise exception

    def fire(self) -> BaseException | None:
        """The exception of the earliest limit that has passed, if any, which then has fired.
        Once only: the signal can land while the code a limit stopped is still unwinding (a
        template's traceback being rewritten), and a second exception there would replace the
        first and lose where the work stood. Another limit also due fires next."""
        due = self.due()
        if not due:
            return None
        first = min(due, key=lambda limit: limit.deadline)
        first.fired = True
        self.arm()
        return first.make_exception()

    def arm(self) -> None:
        self.next = min((limit.deadline for limit in self.limits if not limit.fired), default=math.inf)
        signal.setitimer(self.timer, max(self.next - self.now(), 0.001) if self.next < math.inf else 0)


_WALL = _Clock(time.monotonic, signal.ITIMER_REAL, signal.SIGALRM)
_CPU = _Clock(time.process_time, signal.ITIMER_PROF, signal.SIGPROF)


class _ThreadLimits(threading.local):
    def __init__(self):
        self.limits: list[tuple[Callable[[], float], _Limit]] = []  # (its clock, the limit) of this thread


_elsewhere = _ThreadLimits()


@contextlib.contextmanager
def time_limit(seconds: float | None, make_exception: Callable[[], BaseException], cpu: bool = False):
    """Raise `make_exception()` when the block runs longer than `seconds`: seconds of
    wall-clock time, or with `cpu` of CPU time used (by the process in the main thread, by the
    thread itself elsewhere, where only `check` raises it)."""
    if not seconds:
        yield
        return
    if threading.current_thread() is not threading.main_thread():
        now = time.thread_time if cpu else time.monotonic
        entry = (now, _Limit(now() + seconds, make_exception))
        _elsewhere.limits.append(entry)
        try:
            yield
        finally:
            _elsewhere.limits.remove(entry)
        return
    clock = _CPU if cpu else _WALL
    limit = _Limit(clock.now() + seconds, make_exception)
    previous = signal.signal(clock.signum, clock.on_signal) if not clock.limits else None
    clock.limits.append(limit)
    try:
        clock.arm()
        yield
    finally:
        clock.limits.remove(limit)
        clock.arm()
        if previous is not None:
            signal.signal(clock.signum, previous)


def check() -> None:
    """Raise the exception of a limit in force in this thread that has passed, if any: for code
    that checks rather than waits. Elsewhere than in the main thread, no signal comes and this is
    what stops the work; in the main thread the signal may come a little late (the kernel counts
    CPU time by ticks), and the limit fires here instead, once, as it would have."""
    if threading.current_thread() is not threading.main_thread():
        for now, limit in _elsewhere.limits:
            if not limit.fired and limit.deadline <= now():
                limit.fired = True
                raise limit.make_exception()
        return
    for clock in (_WALL, _CPU):
        exception = clock.fire() if clock.next <= clock.now() else None
        if exception is not None:
            raise exception


def _address_space() -> int | None:
    """Bytes of address space the process uses now (Linux), or None where that cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return None


_memory_before: list[tuple[int, int]] = []  # what each memory_limit in force replaced, innermost last


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
    _memory_before.append((soft, hard))
    try:
        yield
    finally:
        _memory_before.pop()
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def lift_memory_limit() -> None:
    """Put back the address-space limit the innermost memory_limit replaced, until that block
    ends: for handling the MemoryError the block ran into, which needs memory of its own."""
    if _memory_before and threading.current_thread() is threading.main_thread():
        resource.setrlimit(resource.RLIMIT_AS, _memory_before[-1])

"""The `assess` command: a click group whose subcommands are listed, in order, in COMMANDS.

Commands print and exit; everything below the CLI returns data or raises AssessorError.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import os
import sys
from typing import NoReturn

import click

from assessor import __version__
from assessor.cli.common import EXIT_CODES, fail
from assessor.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, AssessorError

# Every command, in the order --help lists them: its name, and the module and function that
# define it. A command's module is imported only when that command runs (or --help lists them
# all), so `assess CASE` never loads the policy tools: cold start is part of the interface.
COMMANDS = {
    "report": ("assessor.cli.report", "report"),
    "batch": ("assessor.cli.batch", "batch"),
    "lint": ("assessor.cli.policy", "lint"),
    "test": ("assessor.cli.policy", "test"),
    "coverage": ("assessor.cli.policy", "coverage"),
    "diff": ("assessor.cli.policy", "diff"),
    "new-case": ("assessor.cli.policy", "new_case"),
    "schema": ("assessor.cli.rulebook", "schema"),
    "init": ("assessor.cli.rulebook", "init"),
}

# A command is a short process: what it builds lives until it exits, where the interpreter's last
# collection would look through all of it for cycles (3% of a cold `assess CASE`), only to
# free memory the exit frees anyway. Nothing depends on that collection (files are closed where
# they are written, engines by their session), so at exit the objects are frozen, out of its reach;
# whatever no cycle holds is still freed as the modules are cleared.
atexit.register(gc.freeze)

# The commands after which the process ends at once (`run`): each writes what it writes whole
# and closes it, closes its engines, and starts no thread or process, so the interpreter's
# teardown has nothing left to do but free memory the exit frees anyway.
ENDS_AT_ONCE = ("report",)

# While a command runs, a young-generation collection every 700 new objects (Python's default)
# meant some sixty collections in a cold `assess CASE`, each older one walking everything built
# so far, and little to find: what a run builds it keeps. Every 50,000 collects as well, with
# about as much memory (1% of a cold run's instructions spared). Restored when the command ends.
YOUNG_COLLECTION = 50_000


class _Commands(click.Group):
    """The commands of COMMANDS, each loaded when asked for; `assess CASE.yaml` means
    `assess report CASE.yaml`, and other first words name a command."""

    def parse_args(self, ctx, args):
        if args and args[0] not in COMMANDS and args[0] not in ("--help", "-h", "--version"):
            args = ["report", *args]
        return super().parse_args(ctx, args)

    def list_commands(self, _ctx):
        return list(COMMANDS)  # the order of COMMANDS, not alphabetical

    def get_command(self, _ctx, name):
        if name not in COMMANDS:
            return None
        module, function = COMMANDS[name]
        return getattr(importlib.import_module(module), function)

    ran: str | None = None  # the command this process ran, for `run`

    def invoke(self, ctx):
        """Ctrl-C during any command (batch handles its own) exits 130 with one line, rather than
        click's "Aborted!" and exit 1: a file written with -o is either whole or not there."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("interrupted: stopped by Ctrl-C before the command finished", err=True)
            sys.exit(EXIT_INTERRUPTED)
        finally:
            self.ran = ctx.invoked_subcommand

    def main(self, *args, **kwargs):
        """Every command ends here, so failures no command foresaw end the same way for all:
        findings exit 2 with their messages; an output that cannot be written (standard output
        on a full disk, a closed pipe) exits 2 with a plain message, never a traceback."""
        thresholds = gc.get_threshold()
        gc.set_threshold(YOUNG_COLLECTION, *thresholds[1:])
        try:
            try:
                return super().main(*args, **kwargs)
            finally:
                sys.stdout.flush()  # inside the guard: a full disk shows at the last flush
        except AssessorError as e:
            fail(e.findings)
        except OSError as e:
            _cannot_write(e)
        finally:
            gc.set_threshold(*thresholds)


def _cannot_write(e: OSError) -> NoReturn:
    where = e.filename if e.filename is not None else "standard output"
    # whatever is still buffered for standard output cannot be written either: drop it, so
    # that the interpreter's own flush at exit does not fail a second time, with a traceback
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    click.echo(f"error: {where}: cannot write: {e.strerror or e} (io)", err=True)
    sys.exit(EXIT_BAD_INPUT)


@click.group(cls=_Commands, epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="assess")
def main():
    """Grade a police force against HMIC's specific grading criteria.

    \b
      assess CASE.yaml                 the graded report, in Markdown
      assess CASE.yaml -f html -o r.html
      assess lint                      check the rules and cases
    """


def run() -> NoReturn:
    """The `assess` program (its console script, and `python -m assessor`): the command, then the
    process's end.

    After a command of ENDS_AT_ONCE, the process ends as soon as what it printed is out: standard
    output and error flushed, what was registered to run at exit run (`atexit`), then os._exit
    with the command's exit code. The interpreter's own teardown frees every module and object one
    by one, memory the exit frees anyway: 5 ms, 4% of a cold `assess CASE`. Any other command, an
    exit code that is not a number, a stream that cannot be flushed, another thread still
    running, or a debugger, profiler, tracer or coverage tool (which finish their work in that
    teardown) ends the usual way."""
    try:
        main()
    except SystemExit as e:
        code = 0 if e.code is None else e.code
        if main.ran in ENDS_AT_ONCE and isinstance(code, int) and not _observed() and _alone() and _flushed():
            atexit._run_exitfuncs()  # what the interpreter's exit runs first
            if _flushed():  # whatever those printed
                os._exit(code)
        raise
    raise AssertionError("click's standalone mode always exits")


# Tools that watch a run without a trace or profile function, and finish at the interpreter's exit
_WATCHERS = ("bdb", "memray")


def _observed() -> bool:
    if sys.gettrace() is not None or sys.getprofile() is not None:
        return True
    if any(name in sys.modules for name in _WATCHERS):  # pdb and its kin; memray's tracker
        return True
    monitoring = getattr(sys, "monitoring", None)  # Python 3.12 and later: cProfile, coverage
    return monitoring is not None and any(monitoring.get_tool(tool) is not None for tool in range(6))


def _alone() -> bool:
    threading = sys.modules.get("threading")  # not imported: no other thread
    return threading is None or threading.active_count() == 1


def _flushed() -> bool:
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return False
    return True

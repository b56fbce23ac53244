"""⑥ Rule engines over the IR (`assessor/language/ir.py`): same rules and facts in, same firings out.

`make_engine` imports an engine's module only when asked for it, so `--engine python`
never loads durable-rules' C engine (`durable_rules_engine`, compiled into this package when it
is built: tools/durable_build.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from assessor.language.ir import EngineFact, EngineRule

ENGINES = ("durable", "python")


class EngineError(Exception):
    """An engine refused the rules or facts, or failed while evaluating them."""


class Engine(Protocol):
    name: str

    def evaluate(self, stage: int, facts: Sequence[EngineFact]) -> dict[str, tuple[str, ...]]:
        """rule id -> sorted ids of the facts it held on, for every rule of `stage` that held
        on a fact of its scope and stage. Rules that did not hold are absent."""

    def close(self) -> None:
        """Release what the engine holds; it cannot evaluate afterwards."""


def make_engine(name: str, rules: Sequence[EngineRule]) -> Engine:
    if name == "python":
        from assessor.engines.python import PythonEngine

        return PythonEngine(rules)
    if name == "durable":
        try:
            from assessor.engines.durable import DurableEngine
        except ImportError as exc:
            raise EngineError(
                f"the durable engine is not built into this installation of assessor ({exc}); "
                "reinstall it from source with a C compiler (README: Install)"
            ) from exc
        return DurableEngine(rules)
    raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")

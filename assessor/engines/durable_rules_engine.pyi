# The calls engines/durable.py makes into durable-rules' C engine, built into this package
# (tools/durable_build.py); the extension ships no type information of its own.

from typing import Any

class error(Exception): ...

def create_ruleset(name: str, ruleset: str) -> int: ...
def delete_ruleset(handle: int) -> None: ...
def assert_fact(handle: int, fact: str) -> tuple[int, int]: ...
def assert_facts(handle: int, facts: str) -> tuple[int, int]: ...
def start_action_for_state(handle: int, state: int) -> tuple[str, str] | None: ...
def complete_and_start_action(handle: int, state: int) -> str | None: ...
def delete_state(handle: int, sid: str) -> None: ...

# Our driver's functions and exceptions (tools/durable_driver.c), compiled into the same module

class MissingValue(Exception):
    args: tuple[Any, str]  # the fact (one of `facts`), the name of the value it lacks

class RefusedValue(Exception):
    args: tuple[Any, str, object]  # the fact, the value's name, the value

def assessor_batch(
    sid: str,
    stage: object,
    facts: object,
    specs: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]],
    max_number: int,
    max_string: int,
) -> str: ...
def assessor_run(
    shards: tuple[tuple[int, dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]], tuple[str, ...]], ...],
    sid: str,
    stage: object,
    facts: object,
    max_number: int,
    max_string: int,
) -> list[tuple[str, tuple[str, ...]]]: ...  # per shard (handle, specs, rules): durable's rule r<n> is rules[n]

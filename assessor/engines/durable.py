"""The IR evaluated by durable-rules 2.0.28, driven as in shared/research/durable-rules-probe.md §8.

Driving durable naively crashes the process or silently answers wrong; the pitfall numbers
(P1...P13, crashes C1...C6) below are the probe's. In short:

* Rulesets are JSON text handed straight to the C engine (`create_ruleset`). durable's Python
  `Host` would serialise them with plain `json.dumps`, whose `1e-05` the C parser refuses (P6
  applies to rule literals too: error 204), and it brings timer threads (P11) and stock
  actions we never run: matches are read from the C engine directly.
* One ruleset per shard of rules of one stage. Each rule's pattern is one fact `m` restricted
  to the rule's scope and stage. IR rules never join or negate facts, so the order in which
  facts arrive cannot change what fires (P1), and rules need no trigger fact. The trigger is
  still asserted last in every batch: a sentinel rule on it proves the whole batch was read
  (P6) and gives every session an action before it is deleted (P4).
* Facts go to the shards whose rules read their scope only. Per stage, one call of our own C
  driver (tools/durable_driver.c, compiled into the engine's module by the build) does for
  each shard what probe §8 does in Python: writes the batch's JSON text, asserts it, runs the
  actions, reads the matches from their messages and deletes the session (see
  `DurableEngine.evaluate`), without a Python round trip per action or per shard.
* A fresh session per `evaluate`, deleted afterwards, also after errors once an action has
  started (P3, P4/C1).
* Limits of the C engine that the shard layout respects (`rete.h`, `rules.h`, `events.c`):
  at most 255 rules behind one alpha node (P9/C5; here a scope's), at most 15 `$and`/`$or` per
  pattern (32-slot expression sequence, error 113), at most 64 alpha nodes pending while one
  fact is matched (error 303), and fewer than 512 children per alpha node (a full hash set
  makes registration or matching loop forever).
"""

from __future__ import annotations

import itertools
import json
import math
import re
import weakref
from collections import defaultdict
from collections.abc import Sequence
from json.encoder import encode_basestring

from assessor.engines import EngineError
from assessor.engines import durable_rules_engine as dre
from assessor.language.engine_limits import (
    MAX_GROUPS,
    MAX_PARTS,
    MAX_VALUES,
    STACK_BUDGET,
    conjuncts,
    flatten,
    groups,
    pattern_groups,
    pending_nodes,
)
from assessor.language.ir import AllOf, AnyOf, Cmp, Cond, EngineFact, EngineRule, Ref, Value, names_read
from assessor.record import Record
from assessor.source.reader import MAX_NUMBER  # durable compares int with float as doubles: beyond, inexact

_OPERATORS = {"eq": "$eq", "ne": "$neq", "lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}
_TRIGGER = {"kind": "$eval"}  # facts carry no `kind`, so it matches the trigger alone
_SENTINEL = "sentinel"  # cannot clash: the other rules are named r0, r1, ...; the C driver knows both
_ALL_FRAMES = 65535  # `cap`: one activation per rule carrying all its frames (probe §5)

# P9/C5: 256 rules behind one alpha node crash (all of a shard's rules of one scope share
# the node testing it, and used to share the trigger's). Well below that, smaller shards also keep time linear
# in rules: the C cost per rule rose from 1.9 to 2.7 us between 200 and 1,000 rules in 200-rule
# shards, and stayed near 2.0 us in small ones (make bench).
MAX_RULES_PER_SHARD = 50
# MAX_GROUPS, STACK_BUDGET, MAX_PARTS and MAX_VALUES are language/engine_limits.py's: the rulebook
# refuses conditions by the same numbers. They are read here as globals, so tests can shrink them.
MAX_STRING = 10_000  # durable compares strings with 16-bit lengths: 65,536 bytes compare as 0

_EXPONENT = re.compile(r"\d[eE]")
_ruleset_names = itertools.count()


def _attr(name: str) -> str:
    """IR value name -> fact attribute: the prefix keeps `id`, `sid`, `kind`, `scope` and
    `stage` (the engine's own attributes) out of reach of user names."""
    return "v_" + name


def _digits(number: int) -> int:
    """len(str(abs(number))), which str() refuses beyond sys.get_int_max_str_digits() digits."""
    digits = int(number.bit_length() * math.log10(2)) + 2  # at most two too many
    while digits > 1 and abs(number) < 10 ** (digits - 1):
        digits -= 1
    return digits


def _refused(value: object) -> EngineError:
    if type(value) is int and value.bit_length() > 192:  # beyond, its repr would be cut at 60 characters
        described = f"an integer of {_digits(value):,} digits"
    else:
        described = f"{value!r:.60}"
    return EngineError(
        f"durable cannot compare {described}: values must be booleans, integers within ±2**53, "
        f"finite floats or strings of at most {MAX_STRING:,} characters"
    )


def _checked(value: Value) -> Value:
    """`value` if durable compares it as Python does, else EngineError."""
    kind = type(value)
    if (
        kind is bool
        or kind is int
        and -MAX_NUMBER <= value <= MAX_NUMBER
        or kind is float
        and math.isfinite(value)
        or kind is str
        and len(value) <= MAX_STRING
    ):
        return value
    raise _refused(value)


def _float_json(value: float) -> str:
    # P6: the C parser stops at an exponent with no fraction (1e-05) but reads 1.0e-05
    text = repr(value)
    return text.replace("e", ".0e") if "e" in text and "." not in text else text


def _exact_json(obj) -> str:
    """json.dumps(obj, ensure_ascii=False) (whose string escaping encode_basestring is),
    with floats written as _float_json does."""
    if isinstance(obj, dict):
        return "{" + ",".join(f"{encode_basestring(k)}:{_exact_json(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list):
        return "[" + ",".join(map(_exact_json, obj)) + "]"
    if isinstance(obj, str):
        return encode_basestring(obj)
    if isinstance(obj, float):
        return _float_json(obj)
    return "true" if obj is True else "false" if obj is False else int.__repr__(obj)


def _dumps(obj) -> str:
    """JSON text the C parser reads in full (P6). The regex may also hit digits inside a
    string; that only costs the slower exact path."""
    text = json.dumps(obj, ensure_ascii=False)
    return _exact_json(obj) if _EXPONENT.search(text) else text


# --- conditions -> durable patterns ---------------------------------------------------------


def _simplify(cond: Cond) -> Cond:
    """engine_limits.flatten, with malformed IR an EngineError."""
    try:
        return flatten(cond)
    except ValueError as exc:
        raise EngineError(str(exc)) from None


def _split(cond: Cond) -> list[Cond]:
    """Conditions whose disjunction is `cond`, each with at most MAX_GROUPS groups in its
    pattern: a top AnyOf splits into its branches, an AllOf is distributed over its widest AnyOf."""
    if pattern_groups(cond) <= MAX_GROUPS:
        return [cond]
    if isinstance(cond, AnyOf):
        branches = cond.items
    else:
        widest = max(
            (i for i, item in enumerate(cond.items) if isinstance(item, AnyOf)), key=lambda i: groups(cond.items[i])
        )
        rest = cond.items[:widest] + cond.items[widest + 1 :]
        branches = tuple(_simplify(AllOf(rest + (branch,))) for branch in cond.items[widest].items)
    parts: list[Cond] = []
    for branch in branches:
        parts.extend(_split(branch))
        if len(parts) > MAX_PARTS:
            raise EngineError(f"condition too complex for durable (over {MAX_PARTS} rules)")
    return parts


def _expression(cond: Cond) -> dict:
    if isinstance(cond, Cmp):
        if isinstance(cond.operand, Ref):
            right = {"$m": _attr(cond.operand.name)}  # same-fact attribute, compared at alpha level
        else:
            right = _checked(cond.operand.value)
        return {_OPERATORS[cond.op]: {_attr(cond.name): right}}
    return {"$and" if isinstance(cond, AllOf) else "$or": [_expression(item) for item in cond.items]}


class _Part(Record):
    """One durable rule: an IR rule, or one disjunct of it when it had to be split."""

    rule_id: str
    scope: str
    stage: int
    cond: Cond


def _layout(parts: list[_Part]) -> list[list[_Part]]:
    """First-fit the parts of one stage into shards within MAX_RULES_PER_SHARD and, per scope,
    STACK_BUDGET. A fact enters only its own scope's nodes, so each scope has its own budget.
    The budget also bounds the children of any alpha node below a scope, and the root has one
    per scope: all far below the 512 at which durable loops forever."""
    shards: list[tuple[list[_Part], dict[str, int]]] = []
    for part in parts:
        cost = pending_nodes(part.cond)
        if cost > STACK_BUDGET:
            raise EngineError(
                f"rule {part.rule_id}: condition has too many alternatives for durable "
                f"({cost} match-stack slots, at most {STACK_BUDGET})"
            )
        for members, pending in shards:
            if len(members) < MAX_RULES_PER_SHARD and pending[part.scope] + cost <= STACK_BUDGET:
                break
        else:
            members, pending = [], defaultdict(int)
            shards.append((members, pending))
        members.append(part)
        pending[part.scope] += cost
    return [members for members, _ in shards]


# --- the C engine ---------------------------------------------------------------------------


class _Shard:
    """One ruleset in the C engine and the driver of probe §8 for it."""

    def __init__(self, parts: list[_Part], handles: list[int]):
        self.rule_ids = tuple(part.rule_id for part in parts)  # durable's rule r<n> is rule_ids[n]
        read: dict[str, set[str]] = defaultdict(set)
        for part in parts:
            read[part.scope] |= names_read(part.cond)
        for scope, names in read.items():
            if len(names) > MAX_VALUES:
                raise EngineError(
                    f"scope {scope!r} reads {len(names)} values; durable takes at most {MAX_VALUES} per fact"
                )
        # per scope, for the C driver (tools/durable_driver.c): the JSON text of a fact after its
        # id and sid, scope and stage as the rules test them; the names of the values this shard
        # reads only, which keeps batches small and within the property limit (P6); and the
        # text before each of those values
        stage = parts[0].stage  # _layout gives each shard the parts of one stage
        self.specs = {
            scope: (
                f'"scope":{encode_basestring(scope)},"stage":{stage}',
                tuple(sorted(names)),
                tuple(f",{encode_basestring(_attr(name))}:" for name in sorted(names)),
            )
            for scope, names in read.items()
        }
        ruleset = {
            name: {
                "all": [
                    {
                        "m": {
                            "$and": [
                                {"$eq": {"scope": part.scope}},
                                {"$eq": {"stage": part.stage}},
                                *map(_expression, conjuncts(part.cond)),
                            ]
                        }
                    }
                ],
                "cap": _ALL_FRAMES,
            }
            for name, part in ((f"r{n}", part) for n, part in enumerate(parts))
        }
        ruleset[_SENTINEL] = {"all": [{"t": {"$eq": _TRIGGER}}], "cap": 1}  # `cap`: actions give lists
        self.handle = dre.create_ruleset(f"assessor{next(_ruleset_names)}", _dumps(ruleset))
        handles.append(self.handle)


def _delete_rulesets(handles: list[int]) -> None:
    # probe §2: rulesets are never freed otherwise; thousands of engines would leak
    while handles:
        dre.delete_ruleset(handles.pop())


class DurableEngine:
    name = "durable"

    def __init__(self, rules: Sequence[EngineRule]):
        parts: dict[int, list[_Part]] = defaultdict(list)
        for rule in rules:
            for cond in _split(_simplify(rule.condition)):
                parts[rule.stage].append(_Part(rule.id, rule.scope, rule.stage, cond))
        self._handles: list[int] = []
        self._closed = weakref.finalize(self, _delete_rulesets, self._handles)
        self._sids = map(str, itertools.count())
        self._open = True  # read on every call: cheaper than self._closed.alive
        try:
            self._shards = {
                stage: [_Shard(members, self._handles) for members in _layout(stage_parts)]
                for stage, stage_parts in parts.items()
            }
            # what the C driver reads of each stage's shards: tuples, which no Python code can
            # change while it runs; the specs dicts are the shards' own
            self._plans = {
                stage: tuple((shard.handle, shard.specs, shard.rule_ids) for shard in shards)
                for stage, shards in self._shards.items()
            }
        except (dre.error, MemoryError) as exc:
            self.close()
            raise EngineError(f"durable-rules: {exc}") from exc
        except BaseException:
            self.close()
            raise

    def evaluate(self, stage: int, facts: Sequence[EngineFact]) -> dict[str, tuple[str, ...]]:
        """One C call (tools/durable_driver.c) per stage: for each shard, it writes the batch of
        the facts of `stage` and of the scopes the shard reads, each fact with its position in
        `facts` as its id and the trigger last (P1, P6); asserts it (a batch of no fact is never
        asserted, C3), runs every action, checks that the sentinel fired, which proves the whole
        batch was read (P6), and deletes the session, once an action has started in it (P4/C1:
        else it starts the sentinel's by a lone trigger first). It reads the rules and facts
        from the action messages and returns them sorted by rule id."""
        if not self._open:
            raise EngineError("the durable engine is closed")  # its handles may be reused
        shards = self._plans.get(stage)
        if shards is None:
            return {}
        try:
            # sessions are per ruleset: one sid serves every shard
            found = dre.assessor_run(shards, next(self._sids), stage, facts, MAX_NUMBER, MAX_STRING)
        except dre.RefusedValue as exc:  # raised while writing a batch: nothing of it was asserted
            _fact, _name, value = exc.args
            raise _refused(value) from None
        except dre.MissingValue as exc:
            fact, name = exc.args
            raise EngineError(f"fact {fact.id!r} lacks the value {name!r}") from None
        except (dre.error, MemoryError, UnicodeEncodeError) as exc:
            raise EngineError(f"durable-rules: {exc}") from exc
        matched = dict(found)
        if len(matched) == len(found):
            return matched
        # an IR rule split into several durable rules (or an id given twice) fired in several
        merged: dict[str, set[str]] = defaultdict(set)
        for rule_id, ids in found:
            merged[rule_id].update(ids)
        return {rule_id: tuple(sorted(merged[rule_id])) for rule_id in sorted(merged)}

    def close(self) -> None:
        self._open = False
        self._closed()

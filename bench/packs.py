"""Engine time per case: durable vs the python engine vs hand-written closures, on the same IR.

Packs are built directly as IR (`assessor.ir`), shaped like what the compiler emits: one
engine scope per decision, a few rules (rungs) per scope, thresholds on the scope's numbers,
yes/no flags, a one-of choice, same-fact comparisons (`a <= b`), nested and/or; the scopes
are spread over four stages, one fact per scope per case. The closure baseline is the same
pack written the way a person writes Python: one flat lambda per rule
(`lambda v: v["n0"] >= 31 and (v["c0"] == "most" or v["b1"])`), generated from the same
random choices as the IR but not from the IR, so agreement of the three is a real check.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import defaultdict

from common import CASE

VALUES = ("n0", "n1", "n2", "n3", "b0", "b1", "c0")
NUMBERS = ("n0", "n1", "n2", "n3")
CHOICES = ("all", "most", "some", "none")
STAGES = 4
RULES_PER_SCOPE = 4
_PY_OPS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


# --- generated packs --------------------------------------------------------------------------


class _Gen:
    """Random conditions as (IR, Python source) pairs, built side by side."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def threshold(self):
        from assessor.language.ir import Cmp, Lit

        name = self.rng.choice(NUMBERS)
        op = self.rng.choice(("lt", "le", "gt", "ge"))
        limit = self.rng.choice((self.rng.randint(0, 100), round(self.rng.uniform(0, 100), 2)))
        return Cmp(op, name, Lit(limit)), f'v["{name}"] {_PY_OPS[op]} {limit!r}'

    def flag(self):
        from assessor.language.ir import Cmp, Lit

        name = self.rng.choice(("b0", "b1"))
        want = self.rng.random() < 0.7
        op = self.rng.choice(("eq", "ne"))
        holds_when = want if op == "eq" else not want
        return Cmp(op, name, Lit(want)), (f'v["{name}"]' if holds_when else f'not v["{name}"]')

    def choice(self):
        from assessor.language.ir import AnyOf, Cmp, Lit

        picked = self.rng.sample(CHOICES, self.rng.randint(1, 2))
        if len(picked) == 1:
            return Cmp("eq", "c0", Lit(picked[0])), f'v["c0"] == {picked[0]!r}'
        ir = AnyOf(tuple(Cmp("eq", "c0", Lit(p)) for p in picked))
        return ir, "(" + " or ".join(f'v["c0"] == {p!r}' for p in picked) + ")"

    def relation(self):
        from assessor.language.ir import Cmp, Ref

        left, right = self.rng.sample(NUMBERS, 2)
        op = self.rng.choice(("lt", "le", "gt", "ge"))
        return Cmp(op, left, Ref(right)), f'v["{left}"] {_PY_OPS[op]} v["{right}"]'

    def leaf(self):
        return self.rng.choices((self.threshold, self.flag, self.choice, self.relation), (5, 2, 2, 1))[0]()

    def group(self, depth: int):
        from assessor.language.ir import AllOf, AnyOf

        kind = AllOf if depth % 2 == 0 else AnyOf
        items = []
        for _ in range(self.rng.randint(2, 3)):
            nested = depth < 2 and self.rng.random() < 0.35
            items.append(self.group(depth + 1) if nested else self.leaf())
        joiner = " and " if kind is AllOf else " or "
        return kind(tuple(i for i, _ in items)), "(" + joiner.join(s for _, s in items) + ")"

    def condition(self):
        shape = self.rng.random()
        if shape < 0.25:
            return self.leaf()
        return self.group(0)


def _values(rng: random.Random) -> dict:
    out = {}
    for name in NUMBERS:
        out[name] = rng.randint(0, 100) if rng.random() < 0.6 else round(rng.uniform(0, 100), 2)
    out["b0"] = rng.random() < 0.5
    out["b1"] = rng.random() < 0.5
    out["c0"] = rng.choice(CHOICES)
    return out


class Pack:
    """Rules (IR), closure source, and the engine calls of each case: [(stage, facts), ...]."""

    def __init__(self, name: str, rules: list, baseline: dict, cases: list, scopes: int, stages: int):
        self.name = name
        self.rules = rules
        self.baseline = baseline  # (stage, scope) -> [(rule id, python source)]
        self.cases = cases
        self.scopes = scopes
        self.stages = stages

    @property
    def facts_per_case(self) -> float:
        return statistics.mean(sum(len(f) for _s, f in case) for case in self.cases)


def generated_pack(n_rules: int, n_cases: int, seed: int = 2008) -> Pack:
    from assessor.language.ir import EngineFact, EngineRule

    rng = random.Random(seed * 100_003 + n_rules)
    gen = _Gen(rng)
    n_scopes = -(-n_rules // RULES_PER_SCOPE)
    scopes = [(f"fw__c{i:04d}__d", 1 + i % STAGES) for i in range(n_scopes)]
    rules, baseline = [], defaultdict(list)
    for n in range(n_rules):  # as the compiler emits them: a decision's rungs one after another
        scope, stage = scopes[n // RULES_PER_SCOPE]
        rule_id = f"{scope}__{n % RULES_PER_SCOPE + 1}"
        ir, source = gen.condition()
        rules.append(EngineRule(rule_id, stage, scope, ir))
        baseline[stage, scope].append((rule_id, source))
    cases = []
    for _ in range(n_cases):
        facts = defaultdict(list)
        for scope, stage in scopes:
            facts[stage].append(EngineFact(f"{scope}@case", scope, stage, _values(rng)))
        cases.append([(stage, tuple(facts[stage])) for stage in sorted(facts)])
    return Pack(f"generated {n_rules}", rules, dict(baseline), cases, n_scopes, STAGES)


# --- the bundled rules -------------------------------------------------------------------------


def _ir_to_python(cond) -> str:
    from assessor.language.ir import AllOf, AnyOf, Cmp, Ref

    if isinstance(cond, Cmp):
        right = f"v[{cond.operand.name!r}]" if isinstance(cond.operand, Ref) else repr(cond.operand.value)
        return f"v[{cond.name!r}] {_PY_OPS[cond.op]} {right}"
    joiner = " and " if isinstance(cond, AllOf) else " or "
    assert isinstance(cond, (AllOf, AnyOf)), cond
    return "(" + joiner.join(_ir_to_python(c) for c in cond.items) + ")"


def bundled_packs() -> list[Pack]:
    """The bundled rules, one pack per framework, with the facts the evaluator hands each
    engine while assessing the Cambridgeshire case (recorded from the python engine)."""
    from assessor.engines import python as pyengine
    from assessor.session import Session

    recorded: list = []  # per engine built: [rules, [(stage, facts), ...]]
    init, evaluate = pyengine.PythonEngine.__init__, pyengine.PythonEngine.evaluate

    def recording_init(self, rules):
        rules = tuple(rules)
        self._bench_record = [rules, []]
        recorded.append(self._bench_record)
        init(self, rules)

    def recording_evaluate(self, stage, facts):
        facts = tuple(facts)
        self._bench_record[1].append((stage, facts))
        return evaluate(self, stage, facts)

    pyengine.PythonEngine.__init__, pyengine.PythonEngine.evaluate = recording_init, recording_evaluate
    try:
        with Session(engine="python") as session:
            session.assess(CASE)
    finally:
        pyengine.PythonEngine.__init__, pyengine.PythonEngine.evaluate = init, evaluate
    packs = []
    for n, (rules, calls) in enumerate(recorded):
        baseline = defaultdict(list)
        for rule in rules:
            baseline[rule.stage, rule.scope].append((rule.id, _ir_to_python(rule.condition)))
        packs.append(
            Pack(
                f"bundled #{n + 1}",
                list(rules),
                dict(baseline),
                [calls],
                len({r.scope for r in rules}),
                len({r.stage for r in rules}),
            )
        )
    return packs


# --- engines -----------------------------------------------------------------------------------


class ClosureEngine:
    """The hand-written baseline: flat lambdas, same answer shape as the engines."""

    name = "closure"

    def __init__(self, baseline: dict):
        self._table = {
            key: [(rule_id, eval(f"lambda v: {source}", {})) for rule_id, source in rules]  # noqa: S307
            for key, rules in baseline.items()
        }

    def evaluate(self, stage, facts):
        matched: dict = {}
        table = self._table
        for fact in facts:
            if fact.stage != stage:
                continue
            rules = table.get((stage, fact.scope))
            if rules is None:
                continue
            values = fact.values
            for rule_id, holds in rules:
                if holds(values):
                    matched.setdefault(rule_id, []).append(fact.id)
        return {rule_id: tuple(sorted(ids)) for rule_id, ids in sorted(matched.items())}

    def close(self):
        pass


class _Recorder:
    """Stands in for durable's C module while the driver runs: records the arguments of each
    call of our C driver function (`assessor_run`: one stage of one case, all its shards)."""

    def __init__(self, dre, calls: list):
        self._dre, self._calls = dre, calls

    def __getattr__(self, name):
        return getattr(self._dre, name)

    def assessor_run(self, *args):
        self._calls.append(args)
        return self._dre.assessor_run(*args)


class RawC:
    """The C floor under the driver: for each case, the C calls the durable engine makes,
    replayed with the same arguments (recorded once): one `assessor_run` per stage, our C
    driver function, which for each shard writes the JSON batch of the facts, asserts it,
    starts and completes every action, reads the rules and fact ids from the messages and
    deletes the session (tools/durable_driver.c). The driver's time over this is what its
    Python costs."""

    name = "durable_c"

    def __init__(self, durable: _Multi, packs: list[Pack]):
        from assessor.engines import durable as module

        self.dre = module.dre
        self.calls = []  # per case: [assessor_run's arguments]
        try:
            for n in range(max(len(p.cases) for p in packs)):
                calls: list = []
                module.dre = _Recorder(self.dre, calls)
                _run_case(durable, packs, n)
                self.calls.append(calls)
        finally:
            module.dre = self.dre

    def run(self, index: int) -> int:
        """Replays case `index`; the action messages read, the sentinels' not counted."""
        run = self.dre.assessor_run
        return sum(len(run(*args)) for args in self.calls[index % len(self.calls)])

    def close(self):
        pass


class OwnC:
    """durable's own C calls alone, without our C driver's work (writing the batch, reading
    the messages): per shard of each recorded `assessor_run`, its batch text (written once,
    beforehand) is asserted, every action started and completed, the session deleted, messages
    unread.
    How much of RawC is durable's engine itself."""

    name = "durable_own"

    def __init__(self, raw: RawC):
        from assessor.engines.durable import MAX_NUMBER, MAX_STRING

        dre = self.dre = raw.dre
        self.calls = [
            [
                (handle, text, sid)
                for shards, sid, stage, facts, *_limits in calls
                for handle, specs, _rules in shards
                if not (text := dre.assessor_batch(sid, stage, facts, specs, MAX_NUMBER, MAX_STRING)).startswith(
                    '[{"kind"'  # a batch of the trigger alone is never asserted (C3)
                )
            ]
            for calls in raw.calls
        ]

    def run(self, index: int) -> int:
        dre = self.dre
        start, complete = dre.start_action_for_state, dre.complete_and_start_action
        messages = 0
        for handle, batch, sid in self.calls[index % len(self.calls)]:
            _code, state = dre.assert_facts(handle, batch)
            action = start(handle, state)
            message = action[1] if action else None
            while message:
                messages += 1
                message = complete(handle, state)
            dre.delete_state(handle, sid)
        return messages

    def close(self):
        pass


class _Multi:
    """Several engines (one per framework of the bundled rules) evaluated as one case."""

    def __init__(self, engines):
        self.engines = engines

    def close(self):
        for e in self.engines:
            e.close()


def _build(kind: str, packs: list[Pack]):
    from assessor.engines import make_engine

    if kind == "closure":
        return _Multi([ClosureEngine(p.baseline) for p in packs])
    return _Multi([make_engine(kind, p.rules) for p in packs])


def _run_case(multi, packs: list[Pack], index: int) -> list | int:
    if isinstance(multi, (RawC, OwnC)):
        return multi.run(index)
    out = []
    for engine, pack in zip(multi.engines, packs):
        for stage, facts in pack.cases[index % len(pack.cases)]:
            out.append(engine.evaluate(stage, facts))
    return out


def _shards(multi: _Multi) -> int | None:
    try:
        return sum(len(shards) for e in multi.engines for shards in e._shards.values())
    except AttributeError:
        return None


class Prepared:
    """A pack with its engines built and checked; `row` collects its figures."""

    def __init__(
        self, packs: list[Pack], name: str, engines=("durable", "durable_c", "durable_own", "python", "closure")
    ):
        self.packs = packs
        self.n_cases = max(len(p.cases) for p in packs)
        n_rules = sum(len(p.rules) for p in packs)
        self.row = {
            "pack": name,
            "rules": n_rules,
            "scopes": sum(p.scopes for p in packs),
            "stages": max(p.stages for p in packs),
            "cases_per_pass": self.n_cases,
            "facts_per_case": round(sum(p.facts_per_case for p in packs), 1),
            "engine_calls_per_case": sum(len(p.cases[0]) for p in packs),
            "engines": {},
        }
        self.built, errors = {}, {}
        for kind in engines:
            if kind in ("durable_c", "durable_own"):
                continue  # from the durable engine once it has passed the check, below
            start = time.perf_counter()
            try:
                self.built[kind] = _build(kind, packs)
            except Exception as exc:  # a pack an engine cannot take is a result, not a crash of the bench
                errors[kind] = f"{type(exc).__name__}: {exc}"
                continue
            self.row["engines"][kind] = {"build_ms": round((time.perf_counter() - start) * 1000, 2)}
        if "durable" in self.built:
            self.row["durable_rulesets"] = _shards(self.built["durable"])
        # correctness first: every engine gives the python engine's answer on every case
        reference = "python" if "python" in self.built else next(iter(self.built), None)
        answers = {}
        for kind, multi in list(self.built.items()):
            try:
                answers[kind] = [_run_case(multi, packs, i) for i in range(self.n_cases)]
            except Exception as exc:
                errors[kind] = f"{type(exc).__name__}: {exc}"
                del self.built[kind]
        if "durable" in self.built and "durable_c" in engines:
            start = time.perf_counter()
            raw = RawC(self.built["durable"], packs)
            self.row["engines"]["durable_c"] = {
                "build_ms": round((time.perf_counter() - start) * 1000, 2),
                "messages_per_case": round(statistics.mean(raw.run(i) for i in range(self.n_cases)), 1),
            }
            floors = {"durable_c": raw}
            if "durable_own" in engines:
                start = time.perf_counter()
                own = floors["durable_own"] = OwnC(raw)
                self.row["engines"]["durable_own"] = {
                    "build_ms": round((time.perf_counter() - start) * 1000, 2),
                    "messages_per_case": round(statistics.mean(own.run(i) for i in range(self.n_cases)), 1),
                }
            # timed right after the driver in every round
            built = {}
            for kind, multi in self.built.items():
                built[kind] = multi
                if kind == "durable":
                    built.update(floors)
            self.built = built
        self.row["mismatches"] = sum(
            sum(a != b for a, b in zip(answers[kind], answers[reference])) for kind in answers if kind != reference
        )
        self.row["errors"] = errors
        self.row["fired_per_case"] = (
            round(statistics.mean(sum(len(r) for r in case) for case in answers[reference]), 1)
            if reference in answers
            else None
        )
        self.cpu = {kind: [] for kind in self.built}
        self.wall = {kind: [] for kind in self.built}

    def one_pass(self, reverse: bool = False) -> None:
        """Every engine once over all cases (CPU and wall time per case); `reverse` runs them
        in the opposite order, so that drift within a round favours neither side of a ratio."""
        for kind, multi in reversed(self.built.items()) if reverse else self.built.items():
            c0, w0 = time.process_time(), time.perf_counter()
            for i in range(self.n_cases):
                _run_case(multi, self.packs, i)
            self.cpu[kind].append((time.process_time() - c0) / self.n_cases)
            self.wall[kind].append((time.perf_counter() - w0) / self.n_cases)

    def finish(self) -> dict:
        n_rules = self.row["rules"]
        for kind in self.built:
            cpu, wall = statistics.median(self.cpu[kind]), statistics.median(self.wall[kind])
            self.row["engines"][kind].update(
                {
                    "ms_per_case": round(cpu * 1000, 4),
                    "wall_ms_per_case": round(wall * 1000, 4),
                    "us_per_rule": round(cpu * 1e6 / n_rules, 3),
                    "cases_per_s": round(1 / cpu, 1) if cpu else None,
                    "passes": len(self.cpu[kind]),
                }
            )
        base = self.row["engines"].get("closure", {}).get("ms_per_case")
        for figures in self.row["engines"].values():
            if base and "ms_per_case" in figures:
                figures["x_closure"] = round(figures["ms_per_case"] / base, 2)
        engines = self.row["engines"]
        # the driver's cost over the C calls it makes; those calls over durable's own (what our C
        # driver adds in C); and the whole driver, our Python and our C, over durable's own calls:
        # the measure of the driver's cost. Each a ratio of two passes of the same round,
        # timed next to each other: its median over rounds, and their spread beside it
        for over, under in (("durable", "durable_c"), ("durable_c", "durable_own"), ("durable", "durable_own")):
            if over in self.cpu and under in self.cpu and all(self.cpu[under]):
                ratios = sorted(a / b for a, b in zip(self.cpu[over], self.cpu[under]))
                engines[over][f"x_{under}"] = round(statistics.median(ratios), 3)
                engines[over][f"x_{under}_rounds"] = _spread(ratios)
        for multi in self.built.values():
            multi.close()
        return self.row


def _spread(ratios: list[float]) -> dict:
    """min, quartiles and max of sorted per-round ratios, and how many rounds."""
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    return {
        "min": round(ratios[0], 3),
        "p25": round(quartiles[0], 3),
        "p75": round(quartiles[2], 3),
        "max": round(ratios[-1], 3),
        "rounds": len(ratios),
    }


def measure(prepared: list[Prepared], rounds: int) -> list[dict]:
    """Rounds of passes, every pack and engine once per round, in the opposite order every other
    round, so drift on a shared machine hits every figure alike; per-case time is the median
    over rounds (CPU time: this process alone, whatever else the machine runs)."""
    for n in range(max(rounds, 1)):
        for prep in prepared:
            prep.one_pass(reverse=n % 2 == 1)
    return [prep.finish() for prep in prepared]

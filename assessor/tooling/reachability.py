"""Can every rung of a scale be chosen, and does every combination of evidence get one? (`assess lint`)

A search, not a proof about real evidence. Each value a scale reads (a fact, a
derived value, an earlier choice, or a computation inside a condition such as
`supervised_bcus / bcus`) becomes a free variable, independent of the others:
the search does not know that `contact_share` is `named_contacts /
neighbourhoods`. Each variable gets a few candidate values: for numbers, every
threshold the conditions compare it with, values between and beyond them, and
the bounds of its natural range (ranges.py: a fact's declared min and max, a
share's 0..1, a count's 0..rows), never a value outside it; yes and no; every
value of a choice. Assignments are
tried exhaustively when there are few, else a seeded sample (the same every
run). A rung is reachable if some assignment makes it the first that holds; a
scale has a gap if some assignment makes no rung hold and it has no `otherwise`.

Treating values as independent tries more combinations than real evidence can
produce, so a rung found unreachable in an exhaustive search is unreachable for
real, while a gap may be one that real evidence cannot fall into; the messages
say so.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import itertools
import math
import random
import zlib
from dataclasses import dataclass

from assessor import record
from assessor.errors import Finding
from assessor.language import conditions as ex
from assessor.rulebook.sites import DecisionSite
from assessor.tooling.ranges import UNKNOWN, Ranges

EXHAUSTIVE_LIMIT = 20_000  # assignments tried one by one up to this many
EXHAUSTIVE_PER_RUNG = 4  # ... or up to this many per rung of a long scale
EXPLAINED_RUNGS = 50  # unreachable rungs whose reason is worked out (all are reported)
SAMPLE_SIZE = 4_000  # else this many, drawn with a seed taken from the scale's name
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
OTHER_TEXT = "(any other text)"  # text no condition names: every such text behaves alike
ANOTHER_TEXT = "(yet another text)"  # a second one, for text compared with text


@dataclass(frozen=True)
class Variable:
    name: str  # a name in scope (possibly record.field) or `_hN` for a computation
    label: str  # as the user wrote it
    type: ex.Type
    integer: bool = False
    low: float | None = None
    high: float | None = None
    nonzero: bool = False  # a divisor: 0 is outside its range, though both bounds are not


def gaps(book) -> list:
    """The scale-gap findings of the scales without `otherwise`: `assess` refuses these rules before
    it runs, as lint reports them, so no case can get a decision with no outcome on either engine."""
    from assessor.rulebook.sites import decision_sites

    return [
        f
        for site in decision_sites(book)
        if site.decision.otherwise is None
        for f in check(site)
        if f.check == "scale-gap"
    ]


def check(site: DecisionSite) -> list:
    """Findings for unreachable rungs and gaps of one scale."""
    conditions, variables = _free_conditions(site)
    candidates = _candidates(conditions, variables)
    names = sorted(candidates)
    pools = [candidates[n] for n in names]
    total = math.prod(len(p) for p in pools)
    rungs = site.decision.rungs
    # a long scale has as many thresholds as rungs: its pools grow with it, and with the indexed
    # search below trying them all costs little
    exhaustive = total <= max(EXHAUSTIVE_LIMIT, EXHAUSTIVE_PER_RUNG * len(rungs))

    samples = max((len(p) for p in pools), default=0) + SAMPLE_SIZE

    def assignments():
        if exhaustive:
            return itertools.product(*pools)
        return _sample(pools, samples, zlib.crc32(site.label.encode()))

    has_otherwise = rungs[-1].condition is None
    first_holding = _FirstHolding(conditions)
    chosen = [False] * len(rungs)
    left = len(rungs)
    gap = None
    for assignment in assignments():
        values = _values(dict(zip(names, assignment)))
        first = first_holding(values)
        if first is None:
            gap = gap or values
        elif not chosen[first]:
            chosen[first] = True
            left -= 1
        if not left and (has_otherwise or gap is not None):
            break  # nothing more to learn
    unchosen = [i for i in range(len(rungs)) if not chosen[i]]
    # Why a rung was never chosen: whether its condition ever held, and which earlier rungs won
    # then. A second pass over the same assignments, for the unchosen rungs only (few, normally).
    ever_holds = dict.fromkeys(unchosen, False)
    blockers: dict = {i: set() for i in unchosen}
    explained = unchosen[:EXPLAINED_RUNGS]
    if explained:
        for assignment in assignments():
            values = _values(dict(zip(names, assignment)))
            holding = [i for i in explained if conditions[i] is None or ex.evaluate(conditions[i], values)]
            if holding:
                first = first_holding(values)
                for i in holding:
                    ever_holds[i] = True
                    if first is not None and first != i:
                        blockers[i].add(first)
    out = []
    for i in unchosen:
        holds = ever_holds[i] if i in explained else None
        out.append(_unreachable(site, i, holds, sorted(blockers[i]), exhaustive, total))
    if gap is not None:
        out.append(
            site.place.finding(
                "scale-gap",
                f"{site.label} has no `otherwise`, and no rung holds when {_describe(gap, variables)}; "
                "add `- otherwise: <outcome>` as the last rung (values were tried as if independent of one another, "
                "so real evidence may never fall here, but without `otherwise` such a case would get no outcome)",
            )
        )
    return out


def _sample(pools: list, count: int, seed: int):
    """COUNT assignments drawn with SEED; the first ones take every candidate of every variable at
    least once (each pool in a shuffled order), so no threshold of a long scale goes untried;
    the rest are drawn at random."""
    rng = random.Random(seed)
    orders = [rng.sample(p, len(p)) for p in pools]
    longest = max((len(p) for p in pools), default=0)
    for k in range(min(longest, count)):
        yield tuple(o[k % len(o)] for o in orders)
    for _ in range(count - longest):
        yield tuple(rng.choice(p) for p in pools)


_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


class _FirstHolding:
    """The first rung whose condition holds for given values, found without testing every rung.

    Rungs that compare one value with a constant (`share >= 0.75`, the bulk of a long scale)
    are indexed by value: sorted thresholds with the earliest rung beyond each, so one binary
    search per value answers for all of them. The other rungs are tested in order, but only
    those before the best indexed answer. A scale of n such rungs then costs O(log n) per
    assignment instead of O(n).
    """

    def __init__(self, conditions: list):
        by_name: dict = {}  # name -> op -> [(constant, rung)]
        self.others = []  # rungs tested one by one, in order
        for i, c in enumerate(conditions):
            simple = _simple(c)
            if simple is None:
                self.others.append(i)
            else:
                name, op, constant = simple
                by_name.setdefault(name, {}).setdefault(op, []).append((constant, i))
        self.conditions = conditions
        self.index = {name: {op: _Index(op, entries) for op, entries in ops.items()} for name, ops in by_name.items()}

    def __call__(self, values: dict):
        best = None
        for name, ops in self.index.items():
            head, _, tail = name.partition(".")
            v = values[head][tail] if tail else values[name]
            for index in ops.values():
                i = index.first(v)
                if i is not None and (best is None or i < best):
                    best = i
        for i in self.others:
            if best is not None and i > best:
                break
            c = self.conditions[i]
            if c is None or ex.evaluate(c, values):
                return i
        return best


def _simple(c):
    """(name, op, constant) of `name op constant` (either way round), else None."""
    if not (isinstance(c, ex.Binary) and c.op in COMPARISONS):
        return None
    if isinstance(c.left, ex.Name) and isinstance(c.right, ex.Literal):
        return c.left.name, c.op, c.right.value
    if isinstance(c.right, ex.Name) and isinstance(c.left, ex.Literal):
        return c.right.name, _FLIPPED[c.op], c.left.value
    return None


class _Index:
    """For one comparison with many constants: the earliest rung that holds for a value."""

    def __init__(self, op: str, entries: list):
        self.op = op
        if op in ("==", "!="):
            self.by_constant: dict = {}
            for constant, i in entries:
                self.by_constant.setdefault(constant, i)
            self.in_order = sorted((i, constant) for constant, i in self.by_constant.items())
            return
        entries = sorted(entries, key=lambda e: e[0])
        self.constants = [c for c, _ in entries]
        rungs = [i for _, i in entries]
        if op in (">", ">="):  # holds for constants up to the value: the earliest among a prefix
            self.best = list(itertools.accumulate(rungs, min))
        else:  # "<", "<=": holds for constants from the value on: the earliest among a suffix
            self.best = list(itertools.accumulate(reversed(rungs), min))[::-1]

    def first(self, v):
        op = self.op
        if op == "==":
            return self.by_constant.get(v)
        if op == "!=":
            return next((i for i, constant in self.in_order if constant != v), None)
        if op in (">", ">="):  # constant < v (or <=)
            k = (bisect.bisect_left if op == ">" else bisect.bisect_right)(self.constants, v)
            return self.best[k - 1] if k else None
        k = (bisect.bisect_right if op == "<" else bisect.bisect_left)(self.constants, v)  # constant > v (or >=)
        return self.best[k] if k < len(self.constants) else None


def _unreachable(
    site: DecisionSite, i: int, holds: bool | None, blockers: list, exhaustive: bool, total: int
) -> Finding:
    rung = site.decision.rungs[i]
    name = "`otherwise`" if rung.condition is None else f"rung {rung.outcome!r}"
    where = f"{name} of {site.label}"
    if not exhaustive:
        message = (
            f"{where} was not chosen in any of the sampled combinations of the values its "
            f"scale reads (of {total:,}); it may be unreachable: check that evidence can lead to it"
        )
        return _at(site, i, "unreachable-rung", message, "warning")
    if rung.condition is None:
        reason = "every combination of values makes a rung above it hold"
    elif holds is None:  # one of very many: not worked out
        reason = "its condition never holds, or an earlier rung always holds first"
    elif not holds:
        reason = "its condition can never hold"
    else:
        earlier = ", ".join(f"{site.decision.rungs[b].outcome!r} (line {site.rungs[b].line})" for b in blockers)
        reason = f"whenever its condition holds, an earlier rung holds first: {earlier}"
    return _at(
        site,
        i,
        "unreachable-rung",
        f"{where} can never be chosen: {reason}; reorder or tighten the conditions, or remove the rung",
        "error",
    )


def _at(site: DecisionSite, i: int, check_id: str, message: str, level: str) -> Finding:
    p = site.rungs[i]
    return Finding(p.path, p.line, p.column, check_id, message, level)


# ---------------------------------------------------------------- conditions with free variables


def _free_conditions(site: DecisionSite) -> tuple:
    """Each rung's condition (None for otherwise) with computations replaced by variables, and the variables."""
    ranges = Ranges(site.facts, site.derived, site.rows)
    variables: dict = {}
    computations: dict = {}  # variable name -> what it computes, for the divisors among its names
    hoisting = ex.Hoisting("_h")  # the same computation is the same variable

    def operand(node: ex.Node, source: str) -> ex.Node:
        if isinstance(node, ex.Literal):  # date("...") included: the parser makes it a literal
            return node
        if isinstance(node, ex.Name):
            variables.setdefault(node.name, node.name)
            if node.name in site.derived:
                computations[node.name] = site.derived[node.name]
            return node
        name = hoisting.name(source, node)
        if name not in variables:
            variables[name] = hoisting.computed[name][0]
            computations[name] = node
        return ex.Name(node.start, node.end, name)

    def walk(node: ex.Node, source: str) -> ex.Node:
        if isinstance(node, ex.Logical):
            return record.replace(node, items=tuple(walk(i, source) for i in node.items))
        if isinstance(node, ex.Unary) and node.op == "not":
            return record.replace(node, operand=walk(node.operand, source))
        if isinstance(node, ex.Binary) and node.op in COMPARISONS:
            return record.replace(node, left=operand(node.left, source), right=operand(node.right, source))
        if isinstance(node, ex.Member):
            return record.replace(node, item=operand(node.item, source))
        return operand(node, source)  # a yes/no value on its own

    conditions = [
        None if r.condition is None else walk(r.condition.tree, r.condition.source) for r in site.decision.rungs
    ]
    # A decision is taken only once every value it reads is computed, so a name that divides in one
    # of them is not 0 in any case the scale decides.
    divisors = set().union(*(_divisors(node, site.derived) for node in computations.values()))
    return conditions, {
        name: _variable(site, ranges, name, label, computations.get(name), name in divisors)
        for name, label in variables.items()
    }


def _variable(site: DecisionSite, ranges: Ranges, name: str, label: str, computes, divisor: bool) -> Variable:
    """A free variable with its natural range (ranges.py), for a name in scope or a computation."""
    if computes is not None and name not in site.derived:  # a computation inside a condition
        t = ex.NUMBER
        r = ranges.of(computes)
    else:
        head, _, tail = name.partition(".")
        t = site.names[head].column(tail) if tail else site.names[head]
        r = ranges.of_name(name) if t.kind == "number" else UNKNOWN
    if divisor:
        r = r.nonzero()
    low, high = r.bounds()
    return Variable(name, label, t, r.integer, low, high, nonzero=divisor and r.admits_zero)


def _divisors(node: ex.Node, derived: dict) -> set:
    """The names `node` divides by, through the derived values it reads (not inside `where`: a row's
    division is computed only for the rows there are)."""
    out: set = set()
    seen: set = set()

    def walk(n: ex.Node) -> None:
        if isinstance(n, ex.Binary):
            if n.op == "/" and isinstance(n.right, ex.Name):
                out.add(n.right.name)
            walk(n.left)
            walk(n.right)
        elif isinstance(n, ex.Unary):
            walk(n.operand)
        elif isinstance(n, ex.Call):
            for a in n.args:
                walk(a)
        elif isinstance(n, ex.Name) and n.name in derived and n.name not in seen:
            seen.add(n.name)
            walk(derived[n.name])

    walk(node)
    return out


# ---------------------------------------------------------------- candidate values


def _candidates(conditions: list, variables: dict) -> dict:
    literals: dict = {name: set() for name in variables}
    linked = {name: {name} for name in variables}  # variables compared with one another share thresholds

    def visit(node):
        if isinstance(node, ex.Logical):
            for i in node.items:
                visit(i)
        elif isinstance(node, ex.Unary):
            visit(node.operand)
        elif isinstance(node, ex.Member) and isinstance(node.item, ex.Name):
            literals[node.item.name].update(o.value for o in node.options)
        elif isinstance(node, ex.Binary):
            left, right = node.left, node.right
            if isinstance(left, ex.Name) and isinstance(right, ex.Name):
                group = linked[left.name] | linked[right.name]
                for member in group:
                    linked[member] = group
            for a, b in ((left, right), (right, left)):
                if isinstance(a, ex.Name) and isinstance(b, ex.Literal):
                    literals[a.name].add(b.value)

    for c in conditions:
        if c is not None:
            visit(c)
    own = {
        name: _pool(var, set().union(*(literals[m] for m in linked[name])), paired=len(linked[name]) > 1)
        for name, var in variables.items()
    }
    # Variables compared with one another draw from each other's values too, so that
    # `a > b + 1` can meet a value of `b + 1` above every value of `a`'s own pool.
    return {
        name: _fit(var, set().union(*(own[m] for m in linked[name]))) if len(linked[name]) > 1 else own[name]
        for name, var in variables.items()
    }


def _fit(var: Variable, values: set) -> list:
    """The values a variable can take from a pool shared with the variables it is compared with."""
    if var.type.kind in ("boolean", "choice"):
        return _pool(var, set(), paired=False)
    if var.type.kind == "number":
        values = {v for v in values if _within(var, v) and (not var.integer or float(v).is_integer())}
    return sorted(values)  # one kind per group: the type checker compares like with like


def _pool(var: Variable, literals: set, paired: bool) -> list:
    kind = var.type.kind
    if kind == "boolean":
        return [False, True]
    if kind == "choice":
        return list(var.type.values)
    if kind == "text":
        others = [OTHER_TEXT, ANOTHER_TEXT] if paired else [OTHER_TEXT]
        return sorted(v for v in literals if isinstance(v, str)) + others
    if kind == "date":  # dates compare as day numbers
        days = [d.toordinal() for d in literals if isinstance(d, dt.date)] or [dt.date(2000, 1, 1).toordinal()]
        return [dt.date.fromordinal(d) for d in _numbers(dataclasses.replace(var, integer=True), sorted(days), paired)]
    return _numbers(var, sorted(v for v in literals if isinstance(v, (int, float)) and not isinstance(v, bool)), paired)


def _numbers(var: Variable, thresholds: list, paired: bool) -> list:
    """Every threshold, a value in each interval between and beyond them (two when compared with
    another variable, so both can fall in one interval in either order), and the declared bounds.
    Whole numbers take the whole numbers next to each threshold instead."""
    if not thresholds:
        thresholds = [var.low if var.low is not None else 0]
    if var.integer:
        reach = 2 if paired else 1
        values: set[float] = {k for t in thresholds for k in range(math.floor(t) - reach, math.ceil(t) + reach + 1)}
    else:
        values = set(thresholds)
        edges = [thresholds[0] - 2] + thresholds + [thresholds[-1] + 2]
        for a, b in zip(edges, edges[1:]):
            values.update({a + (b - a) / 3, a + 2 * (b - a) / 3} if paired else {(a + b) / 2})
    values.update(b for b in (var.low, var.high) if b is not None)
    return sorted(v for v in values if _within(var, v)) or sorted(values)


def _within(var: Variable, v) -> bool:
    return (var.low is None or v >= var.low) and (var.high is None or v <= var.high) and not (var.nonzero and v == 0)


# ---------------------------------------------------------------- evaluation and messages


def _values(assignment: dict) -> dict:
    """Values as `expressions.evaluate` reads them: record fields nest under their record."""
    values: dict = {}
    for name, v in assignment.items():
        head, _, tail = name.partition(".")
        if tail:
            values.setdefault(head, {})[tail] = v
        else:
            values[name] = v
    return values


def _describe(values: dict, variables: dict) -> str:
    parts = []
    for name in sorted(variables):
        head, _, tail = name.partition(".")
        v = values[head][tail] if tail else values[name]
        parts.append(f"{variables[name].label} = {_show(v)}")
    return ", ".join(parts)


def _show(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dt.date):
        return v.isoformat()
    return f'"{v}"' if isinstance(v, str) else str(v)

"""The natural range of each number a scope computes: what lint may assume about real evidence.

A fact's range is declared (its type, `min` and `max`; a percentage lies in 0..100); a survey
figure lies in 0..100 and a difference of two in -100..100. A computation's range is worked out
from its parts by interval arithmetic: a count is whole, never negative, and at most the rows its
table can have (the `criteria` and `indicators` tables have a fixed number); `share()` lies in
0..1; so does a division whose numerator can never exceed its denominator, such as a count of
some rows of a table over all of them, or one part of a sum of counts over the whole sum.

Every range holds for every value evidence can give, so lint may rely on it: the gap search
(reachability.py) draws its examples from it, and lint's warnings (a divisor that may be 0, a
share compared with a number above 1) read it. It may be wider than what evidence really gives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from assessor.language import conditions as ex

INF = math.inf
# the numbers an indicator record (spi_2a.value) and a row of the `indicators` table carry
INDICATOR_FIELDS = {"value": (0, 100), "change_pp": (-100, 100), "difference_pp": (-100, 100), "gap_pp": (-100, 100)}


@dataclass(frozen=True)
class Range:
    low: float = -INF
    high: float = INF
    integer: bool = False

    @property
    def admits_zero(self) -> bool:
        return self.low <= 0 <= self.high

    @property
    def is_share(self) -> bool:
        return self.low >= 0 and self.high <= 1

    def within(self, low: float, high: float) -> Range:
        return Range(max(self.low, low), min(self.high, high), self.integer)

    def nonzero(self) -> Range:
        """The range of a divisor where the division was computed: a whole number is then at least 1 away from 0."""
        if self.integer and self.low >= 0:
            return Range(max(self.low, 1), self.high, True)
        if self.integer and self.high <= 0:
            return Range(self.low, min(self.high, -1), True)
        return self

    def bounds(self) -> tuple:
        """(low, high) with None for no bound, as the gap search's variables hold them."""
        return (None if self.low == -INF else self.low, None if self.high == INF else self.high)


UNKNOWN = Range()


def declared(spec) -> Range | None:
    """A fact's or column's declared range; None for what is not a number."""
    if spec is None or spec.type not in ("integer", "number", "percentage"):
        return None
    low = -INF if spec.min is None else spec.min
    high = INF if spec.max is None else spec.max
    return Range(low, high, spec.type == "integer")


class Ranges:
    """The ranges of one scope's values and computations.

    facts: name -> FactSpec of the criterion's evidence; derived: name -> expression tree of each
    derived value in scope; rows: table name -> its number of rows, where the rules fix it.
    """

    def __init__(self, facts: dict, derived: dict, rows: dict):
        self.facts = facts
        self.derived = derived
        self.rows = rows
        self._derived: dict = {}

    # ------------------------------------------------------------ names

    def of_name(self, name: str, table: str | None = None) -> Range:
        head, _, tail = name.partition(".")
        if table is not None and not tail:  # inside `where`, a column of the table's row comes first
            column = self.column(table, head)
            if column is not None:
                return column
        if tail:
            return self.column(head, tail) or UNKNOWN
        if name in self.facts:
            return declared(self.facts[name]) or UNKNOWN
        if name in self.derived:
            if name not in self._derived:
                self._derived[name] = UNKNOWN  # a derived value reads only those above it: no cycle
                self._derived[name] = self.of(self.derived[name])
            return self._derived[name]
        return UNKNOWN

    def column(self, table: str, column: str) -> Range | None:
        spec = self.facts.get(table)
        if spec is not None and spec.type == "table":
            return declared(dict(spec.columns).get(column))
        if column in INDICATOR_FIELDS:  # an indicator's record, or the `indicators` table
            return Range(*INDICATOR_FIELDS[column])
        return None

    def declared_divisor(self, node: ex.Node, table: str | None = None) -> Range | None:
        """The declared range of a divisor that is a fact or a column by name, else None."""
        if not isinstance(node, ex.Name) or "." in node.name:
            return None
        if table is not None:
            spec = self.facts.get(table)
            if spec is not None and spec.type == "table" and node.name in dict(spec.columns):
                return declared(dict(spec.columns)[node.name])
        return declared(self.facts.get(node.name))

    # ------------------------------------------------------------ computations

    def of(self, node: ex.Node, table: str | None = None) -> Range:
        if isinstance(node, ex.Literal):
            v = node.value
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return Range(v, v, isinstance(v, int))
            return UNKNOWN
        if isinstance(node, ex.Name):
            return self.of_name(node.name, table)
        if isinstance(node, ex.Unary) and node.op == "-":
            r = self.of(node.operand, table)
            return Range(-r.high, -r.low, r.integer)
        if isinstance(node, ex.Binary) and node.op in "+-*/":
            return self._arithmetic(node, table)
        if isinstance(node, ex.Call):
            return self._call(node, table)
        return UNKNOWN

    def _arithmetic(self, node: ex.Binary, table) -> Range:
        a, b = self.of(node.left, table), self.of(node.right, table)
        integer = a.integer and b.integer
        if node.op == "+":
            return Range(a.low + b.low, a.high + b.high, integer)
        if node.op == "-":
            return Range(a.low - b.high, a.high - b.low, integer)
        if node.op == "*":
            return _product(a, b, integer)
        b = b.nonzero()  # where a division is computed its divisor is not 0
        if b.low > 0 or (b.low == 0 and b.high > 0):
            inverse = Range(_inverse(b.high), INF if b.low == 0 else 1 / b.low)
        elif b.high < 0 or (b.high == 0 and b.low < 0):
            inverse = Range(-INF if b.high == 0 else 1 / b.high, _inverse(b.low))
        else:
            return UNKNOWN
        quotient = _product(a, inverse, False)
        if a.low >= 0 and self.at_most(node.left, node.right, table):
            quotient = quotient.within(0, 1)
        return quotient

    def _call(self, node: ex.Call, table) -> Range:
        f = node.function
        if f == "abs":
            r = self.of(node.args[0], table)
            if r.low >= 0:
                return r
            if r.high <= 0:
                return Range(-r.high, -r.low, r.integer)
            return Range(0, max(-r.low, r.high), r.integer)
        if len(node.args) > 1:  # min(a, b, ...), max(a, b, ...)
            rs = [self.of(a, table) for a in node.args]
            integer = all(r.integer for r in rs)
            pick = min if f == "min" else max
            return Range(pick(r.low for r in rs), pick(r.high for r in rs), integer)
        head, _, column = node.args[0].name.partition(".")
        rows = self.rows.get(head, INF)
        if f == "share":
            return Range(0, 1)
        if f == "count":
            return Range(rows if node.where is None and rows != INF else 0, rows, True)
        c = self.column(head, column) or UNKNOWN
        if f == "sum":  # no rows sum to 0
            return Range(min(0, _times(rows, c.low)), max(0, _times(rows, c.high)), c.integer)
        return c  # min and max of a column: a value of the column

    # ------------------------------------------------------------ shares

    def at_most(self, x: ex.Node, y: ex.Node, table: str | None = None) -> bool:
        """Whether x <= y for all evidence (a sound test: False when it cannot tell)."""
        x, y = self._expand(x), self._expand(y)
        xs, ys = _terms(x), _terms(y)
        if any(self.of(t, table).low < 0 for t in xs):
            return False
        left = list(ys)
        for t in xs:  # each term of x at most its own term of y; the rest of y never negative
            match = next((u for u in left if u == t), None) or next(
                (u for u in left if self._term_at_most(t, u, table)), None
            )
            if match is None:
                return False
            left.remove(match)
        return all(self.of(u, table).low >= 0 for u in left)

    def _term_at_most(self, x: ex.Node, y: ex.Node, table) -> bool:
        if x == y:
            return True
        if isinstance(x, ex.Call) and x.function == "min" and len(x.args) > 1:
            return any(self._term_at_most(a, y, table) for a in x.args)
        if isinstance(y, ex.Call) and y.function == "max" and len(y.args) > 1:
            return any(self._term_at_most(x, b, table) for b in y.args)
        if not (isinstance(x, ex.Call) and x.function in ("count", "sum") and len(x.args) == 1):
            return False
        head = x.args[0].name.partition(".")[0]
        if isinstance(y, ex.Call) and y.function == x.function and y.where is None and y.args == x.args:
            # some rows of a table against all of them: for a sum, only when no row is negative
            return x.function == "count" or (self.column(*x.args[0].name.split(".", 1)) or UNKNOWN).low >= 0
        if x.function == "sum" and isinstance(y, ex.Binary) and y.op == "*":
            # the sum of a column no row of which exceeds k, against k times the table's rows
            c = self.column(*x.args[0].name.split(".", 1)) or UNKNOWN
            for k, n in ((y.left, y.right), (y.right, y.left)):
                if not (isinstance(n, ex.Call) and n.function == "count" and n.where is None):
                    continue
                if n.args[0].name == head and isinstance(k, ex.Literal) and _number(k.value):
                    bound = float(k.value)  # type: ignore[arg-type]  # a number: _number checked it
                    return c.high <= bound and bound >= 0
        return False

    def _expand(self, node: ex.Node, depth: int = 0) -> ex.Node:
        """A derived value's name replaced by its computation, so that structure can be compared."""
        if depth > 20:
            return node
        if isinstance(node, ex.Name) and node.name in self.derived:
            return self._expand(self.derived[node.name], depth + 1)
        if isinstance(node, ex.Binary) and node.op in "+-*/":
            return ex.Binary(
                node.start,
                node.end,
                node.op,
                self._expand(node.left, depth + 1),
                self._expand(node.right, depth + 1),
            )
        if isinstance(node, ex.Call) and node.function in ("min", "max", "abs"):
            return ex.Call(node.start, node.end, node.function, tuple(self._expand(a, depth + 1) for a in node.args))
        return node


def _terms(node: ex.Node) -> list:
    if isinstance(node, ex.Binary) and node.op == "+":
        return _terms(node.left) + _terms(node.right)
    return [node]


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _times(a: float, b: float) -> float:
    """a * b where 0 times an unbounded value is 0 (a bound of 0 is a value, not a limit)."""
    return 0 if a == 0 or b == 0 else a * b


def _product(a: Range, b: Range, integer: bool) -> Range:
    corners = [_times(x, y) for x in (a.low, a.high) for y in (b.low, b.high)]
    return Range(min(corners), max(corners), integer)


def _inverse(x: float) -> float:
    return 0 if x in (INF, -INF) else 1 / x

"""The condition language policy staff write in rule files.

    staffed_share >= 0.9 and abstraction_policy
    count(bcu_staffing where constables_and_pcsos <= 12 * sergeants) == count(bcu_staffing)
    extent in ["all", "most"] and not spi_3b.trend == "worse"

A hand-written tokenizer and recursive-descent parser build a small tree; a type
checker validates it against the names in scope; `evaluate` computes values in
Python and `Hoisting.lower` lowers conditions to the engines' intermediate form. Nothing
here ever calls eval or exec. Errors carry the character offset in the
expression so callers can point at file, line and column.
"""

from __future__ import annotations

import datetime as _dt
import math
import re

from assessor.language import ir
from assessor.record import Record, field
from assessor.source.reader import MAX_NUMBER  # literals and whole-number results stay within


class ExpressionError(Exception):
    """Raised when an expression is malformed, ill-typed or cannot be evaluated."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.message = message
        self.offset = offset


# ---------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<string>"[^"\n]*"|'[^'\n]*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|<|>|\+|-|\*|/|\(|\)|\[|\]|,|\.)
  | (?P<bad>=|.)
    """,
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "in", "where", "true", "false", "yes", "no"}
AGGREGATES = ("count", "share", "sum", "min", "max")
FUNCTIONS = AGGREGATES + ("abs", "date")
MAX_LENGTH = 2000
MAX_DEPTH = 40
MAX_TREE_DEPTH = 100  # nodes on the longest path, e.g. a + b + c + ... with 100 terms


class Token(Record):
    """One token of a condition: its kind, its text and where it starts in the source."""

    kind: str
    text: str
    start: int


def tokenize(source: str) -> list[Token]:
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"expression is {len(source)} characters long; the limit is {MAX_LENGTH}")
    tokens = []
    for m in _TOKEN.finditer(source):
        kind = m.lastgroup or ""  # every alternative is a named group
        text = m.group()
        if kind == "ws":
            continue
        if kind == "bad":
            hint = ""
            if text == "=":
                hint = "; use >= for 'at least'" if source[m.end() : m.end() + 1] == ">" else "; use == to compare"
            raise ExpressionError(f"unexpected character {text!r}{hint}", m.start())
        if kind == "name" and text in KEYWORDS:
            kind = "keyword"
        tokens.append(Token(kind, text, m.start()))
    tokens.append(Token("end", "", len(source)))
    return tokens


# ---------------------------------------------------------------- tree


class Node(Record):
    """A node of a condition's tree; where it stands in the source is not part of what it means."""

    start: int = field(compare=False)
    end: int = field(compare=False)


class Literal(Node):
    """A number, yes/no, text or date written in the condition."""

    value: object = None  # bool, int, float, str, or date


class Name(Node):
    """A name in scope: a fact, a derived value, a decision's outcome, or a field of a record."""

    name: str = ""  # may be dotted: record.field or table.column


class Unary(Node):
    """`-x` or `not x`."""

    op: str = ""  # '-' or 'not'
    operand: Node = None  # type: ignore[assignment]  # always given: a default only because Node's fields have one


class Binary(Node):
    """Arithmetic or a comparison of two operands."""

    op: str = ""  # + - * / == != < <= > >=
    left: Node = None  # type: ignore[assignment]  # always given, as Unary.operand
    right: Node = None  # type: ignore[assignment]


class Logical(Node):
    """`and` or `or` over two or more conditions."""

    op: str = ""  # 'and' or 'or'
    items: tuple = ()


class Member(Node):
    """`x in [...]` or `x not in [...]`."""

    item: Node = None  # type: ignore[assignment]  # always given, as Unary.operand
    options: tuple = ()  # Literal nodes
    negated: bool = False


class Call(Node):
    """A function of the language, with its arguments and an optional `where` filter."""

    function: str = ""
    args: tuple = ()
    where: Node | None = None


class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0

    def peek(self, *texts) -> bool:
        t = self.tokens[self.i]
        return t.kind in ("op", "keyword") and t.text in texts

    def take(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def expect(self, text: str, what: str) -> Token:
        if not self.peek(text):
            t = self.tokens[self.i]
            found = "the end of the expression" if t.kind == "end" else repr(t.text)
            raise ExpressionError(f"expected {what}, found {found}", t.start)
        return self.take()

    def parse(self) -> Node:
        node = self.disjunction()
        t = self.tokens[self.i]
        if t.kind != "end":
            raise ExpressionError(f"unexpected {t.text!r}; expected 'and', 'or' or the end of the condition", t.start)
        return node

    def nested(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"expression is nested more than {MAX_DEPTH} levels deep", self.tokens[self.i].start)

    def disjunction(self) -> Node:
        return self._logical("or", self.conjunction)

    def conjunction(self) -> Node:
        return self._logical("and", self.negation)

    def _logical(self, op, part) -> Node:
        items = [part()]
        while self.peek(op):
            self.take()
            items.append(part())
        if len(items) == 1:
            return items[0]
        return Logical(items[0].start, items[-1].end, op, tuple(items))

    def negation(self) -> Node:
        if self.peek("not"):
            t = self.take()
            self.nested()
            operand = self.negation()
            self.depth -= 1
            return Unary(t.start, operand.end, "not", operand)
        return self.comparison()

    def comparison(self) -> Node:
        left = self.sum()
        if self.peek("==", "!=", "<", "<=", ">", ">="):
            op = self.take().text
            right = self.sum()
            if self.peek("==", "!=", "<", "<=", ">", ">="):
                t = self.tokens[self.i]
                raise ExpressionError("comparisons cannot be chained; join them with 'and'", t.start)
            return Binary(left.start, right.end, op, left, right)
        negated = False
        if self.peek("not") and self.tokens[self.i + 1].text == "in":
            self.take()
            negated = True
        if self.peek("in"):
            self.take()
            self.expect("[", "'[' starting a list of values")
            options = [self.literal()]
            while self.peek(","):
                self.take()
                options.append(self.literal())
            end = self.expect("]", "',' or ']'")
            return Member(left.start, end.start + 1, left, tuple(options), negated)
        return left

    def sum(self) -> Node:
        node = self.product()
        while self.peek("+", "-"):
            op = self.take().text
            right = self.product()
            node = Binary(node.start, right.end, op, node, right)
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.peek("*", "/"):
            op = self.take().text
            right = self.unary()
            node = Binary(node.start, right.end, op, node, right)
        return node

    def unary(self) -> Node:
        if self.peek("-"):
            t = self.take()
            self.nested()
            operand = self.unary()
            self.depth -= 1
            if (
                isinstance(operand, Literal)
                and isinstance(operand.value, (int, float))
                and not isinstance(operand.value, bool)
            ):
                return Literal(t.start, operand.end, -operand.value)
            return Unary(t.start, operand.end, "-", operand)
        return self.atom()

    def literal(self) -> Literal:
        t = self.tokens[self.i]
        node = self.unary()
        if not isinstance(node, Literal):
            raise ExpressionError("a list after 'in' may hold only literal values", t.start)
        return node

    def atom(self) -> Node:
        t = self.take()
        if t.kind == "number":
            value = float(t.text) if "." in t.text else int(t.text)
            if not abs(value) <= MAX_NUMBER:  # also catches inf, from a float of 400 digits
                raise ExpressionError(
                    f"the number {t.text[:20]}{'...' if len(t.text) > 20 else ''} is too large: "
                    f"numbers must lie within ±{MAX_NUMBER:,} (2**53)",
                    t.start,
                )
            return Literal(t.start, t.start + len(t.text), value)
        if t.kind == "string":
            return Literal(t.start, t.start + len(t.text), t.text[1:-1])
        if t.kind == "keyword" and t.text in ("true", "yes", "false", "no"):
            return Literal(t.start, t.start + len(t.text), t.text in ("true", "yes"))
        if t.kind == "op" and t.text == "(":
            self.nested()
            node = self.disjunction()
            self.depth -= 1
            close = self.expect(")", "')'")
            return _with_span(node, t.start, close.start + 1)
        if t.kind == "name":
            if self.peek("("):
                return self.call(t)
            name, end = t.text, t.start + len(t.text)
            if self.peek("."):
                self.take()
                part = self.take()
                if part.kind != "name":
                    raise ExpressionError(f"expected a field name after '{name}.'", part.start)
                name, end = f"{name}.{part.text}", part.start + len(part.text)
            return Name(t.start, end, name)
        if t.kind == "end":
            raise ExpressionError("the expression ends too early; a value is missing", t.start)
        raise ExpressionError(f"unexpected {t.text!r}; expected a value, a name or '('", t.start)

    def call(self, name: Token) -> Node:
        if name.text not in FUNCTIONS:
            raise ExpressionError(
                f"unknown function {name.text!r}; the functions are {', '.join(FUNCTIONS)}", name.start
            )
        self.take()  # (
        self.nested()
        args = [self.sum()]
        while self.peek(","):
            self.take()
            args.append(self.sum())
        where = None
        if self.peek("where"):
            self.take()
            where = self.disjunction()
        self.depth -= 1
        close = self.expect(")", "')'" if where else "',', 'where' or ')'")
        node = Call(name.start, close.start + 1, name.text, tuple(args), where)
        return _date_literal(node) if name.text == "date" else node


def _date_literal(node: Call) -> Node:
    """date("2010-03-31") is a fixed value: make it a literal, so it compares like one."""
    arg = node.args[0] if len(node.args) == 1 and node.where is None else None
    if not (isinstance(arg, Literal) and isinstance(arg.value, str)):
        return node  # the checker explains what date() takes
    try:
        return Literal(node.start, node.end, _dt.date.fromisoformat(arg.value))
    except ValueError:
        raise ExpressionError(f'"{arg.value}" is not a date written as "YYYY-MM-DD"', arg.start) from None


def _with_span(node: Node, start: int, end: int) -> Node:
    return type(node)(**{**node.__dict__, "start": start, "end": end})


def parse(source: str) -> Node:
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("the condition is empty")
    tree = _Parser(source).parse()
    _check_depth(tree)
    return tree


def _children(node: Node) -> tuple:
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Logical):
        return node.items
    if isinstance(node, Member):
        return (node.item,) + node.options
    if isinstance(node, Call):
        return node.args + ((node.where,) if node.where is not None else ())
    return ()


def _check_depth(tree: Node) -> None:
    """Refuse trees deeper than MAX_TREE_DEPTH: checking, evaluating and lowering recurse.
    Walked without recursion, since a long chain like a + b + c + ... nests one level a term."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise ExpressionError(
                f"expression is too long a chain: more than {MAX_TREE_DEPTH} operations "
                "nest inside each other; split it into derived values",
                node.start,
            )
        stack.extend((child, depth + 1) for child in _children(node))


# ---------------------------------------------------------------- types


class Type(Record):
    """number, boolean, text, date, choice (of `values`), table or record (of `columns`)."""

    kind: str
    values: tuple = ()
    columns: tuple = ()  # ((name, Type), ...) for table and record

    def column(self, name: str) -> Type | None:
        return dict(self.columns).get(name)

    def describe(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(f'"{v}"' for v in self.values)
        if self.kind == "boolean":
            return "yes/no"
        return self.kind


NUMBER = Type("number")
BOOLEAN = Type("boolean")
TEXT = Type("text")
DATE = Type("date")

ORDERED = ("number", "date")


def _stringy(t: Type) -> bool:
    return t.kind in ("text", "choice")


class TypeChecker:
    """Type-checks a tree against the names in scope: {name: Type}."""

    def __init__(self, names: dict):
        self.names = names
        self.read: set[str] = set()  # names in scope the checked trees read (heads of dotted names)

    def check(self, node: Node, row: Type | None = None) -> Type:
        method = getattr(self, "_" + type(node).__name__.lower())
        return method(node, row)

    def condition(self, node: Node) -> None:
        t = self.check(node)
        if t.kind != "boolean":
            raise ExpressionError(f"a condition must be yes or no, but this is {t.describe()}", node.start)

    def _literal(self, node: Literal, _row) -> Type:
        v = node.value
        if isinstance(v, bool):
            return BOOLEAN
        if isinstance(v, (int, float)):
            return NUMBER
        if isinstance(v, _dt.date):
            return DATE
        return TEXT

    def _name(self, node: Name, row) -> Type:
        head, _, tail = node.name.partition(".")
        if row is not None and not tail and row.column(head) is not None:
            return row.column(head)
        t = self.names.get(head)
        if t is None:
            raise ExpressionError(f"unknown name {head!r}{_suggest(head, self.names, row)}", node.start)
        self.read.add(head)
        if tail:
            if t.kind not in ("record", "table"):
                raise ExpressionError(f"{head!r} is {t.describe()}, it has no field {tail!r}", node.start)
            col = t.column(tail)
            if col is None:
                fields = ", ".join(n for n, _ in t.columns)
                raise ExpressionError(f"{head!r} has no field {tail!r}; its fields are {fields}", node.start)
            if t.kind == "table":
                raise ExpressionError(
                    f"{node.name!r} is a column of the table {head!r}; use it inside sum(), min() or max()", node.start
                )
            return col
        if t.kind == "table":
            raise ExpressionError(f"{head!r} is a table; use count({head}), or sum/min/max({head}.column)", node.start)
        if t.kind == "record":
            fields = ", ".join(n for n, _ in t.columns)
            raise ExpressionError(
                f"{head!r} has fields ({fields}); name one, e.g. {head}.{t.columns[0][0]}", node.start
            )
        return t

    def _unary(self, node: Unary, row) -> Type:
        t = self.check(node.operand, row)
        want = "boolean" if node.op == "not" else "number"
        if t.kind != want:
            what = "'not' needs a yes/no value" if node.op == "not" else "'-' needs a number"
            raise ExpressionError(f"{what}, but this is {t.describe()}", node.operand.start)
        return t

    def _binary(self, node: Binary, row) -> Type:
        lt, rt = self.check(node.left, row), self.check(node.right, row)
        if node.op in "+-*/":
            for side, t in ((node.left, lt), (node.right, rt)):
                if t.kind != "number":
                    raise ExpressionError(f"'{node.op}' needs numbers, but this is {t.describe()}", side.start)
            return NUMBER
        if node.op in ("==", "!="):
            self._comparable(node, lt, rt)
        else:
            if lt.kind not in ORDERED or lt.kind != rt.kind:
                bad = node.left if lt.kind not in ORDERED else node.right
                badt = lt if lt.kind not in ORDERED else rt
                raise ExpressionError(
                    f"'{node.op}' compares numbers or dates, but this is {badt.describe()}", bad.start
                )
        if isinstance(node.left, Literal) and isinstance(node.right, Literal):
            raise ExpressionError("this compares two fixed values; name a fact on one side", node.start)
        return BOOLEAN

    def _comparable(self, node, lt: Type, rt: Type) -> None:
        same = lt.kind == rt.kind or (_stringy(lt) and _stringy(rt))
        if not same:
            raise ExpressionError(
                f"'{node.op}' compares {lt.describe()} with {rt.describe()}; they can never be equal", node.start
            )
        for t, other in ((lt, node.right), (rt, node.left)):
            if t.kind == "choice" and isinstance(other, Literal) and other.value not in t.values:
                raise ExpressionError(f'"{other.value}" is not a possible value: expected {t.describe()}', other.start)

    def _logical(self, node: Logical, row) -> Type:
        for item in node.items:
            t = self.check(item, row)
            if t.kind != "boolean":
                raise ExpressionError(f"'{node.op}' joins yes/no conditions, but this is {t.describe()}", item.start)
        return BOOLEAN

    def _member(self, node: Member, row) -> Type:
        t = self.check(node.item, row)
        for option in node.options:
            self._comparable(Binary(option.start, option.end, "in", node.item, option), t, self.check(option, row))
        return BOOLEAN

    def _call(self, node: Call, row) -> Type:
        f = node.function
        if f in ("abs", "date"):
            if len(node.args) != 1 or node.where is not None:
                raise ExpressionError(f"{f}() takes one value", node.start)
            if f == "date":  # well-formed calls became literals in the parser
                raise ExpressionError('date() takes a date written as "YYYY-MM-DD"', node.start)
            t = self.check(node.args[0], row)
            if t.kind != "number":
                raise ExpressionError(f"abs() needs a number, but this is {t.describe()}", node.args[0].start)
            return NUMBER
        if f in ("min", "max") and len(node.args) > 1:  # the smallest or largest of several values
            if node.where is not None:
                raise ExpressionError(f"'where' applies to a table: {f}(table.column where ...)", node.where.start)
            for arg in node.args:
                t = self.check(arg, row)
                if t.kind != "number":
                    raise ExpressionError(f"{f}() needs numbers, but this is {t.describe()}", arg.start)
            return NUMBER
        if row is not None:
            raise ExpressionError(f"{f}() cannot be used inside another aggregate", node.start)
        if len(node.args) != 1:
            raise ExpressionError(
                f"{f}() takes one table (or table.column) and an optional 'where' condition", node.start
            )
        arg = node.args[0]
        if not isinstance(arg, Name):
            raise ExpressionError(f"{f}() needs a table name here", arg.start)
        head, _, column = arg.name.partition(".")
        table = self.names.get(head)
        self.read.add(head)
        if table is None or table.kind != "table":
            what = "unknown name" if table is None else f"{table.describe()}, not a table:"
            raise ExpressionError(f"{f}() needs a table; {head!r} is {what}".rstrip(":"), arg.start)
        if f in ("count", "share"):
            if column:
                raise ExpressionError(f"{f}() counts rows: write {f}({head} where ...)", arg.start)
            if f == "share" and node.where is None:
                raise ExpressionError(f"share() needs a condition: share({head} where ...)", node.start)
        else:
            if not column:
                raise ExpressionError(f"{f}() needs a column: {f}({head}.column)", arg.start)
            col = table.column(column)
            if col is None:
                fields = ", ".join(n for n, _ in table.columns)
                raise ExpressionError(f"table {head!r} has no column {column!r}; its columns are {fields}", arg.start)
            if col.kind != "number":
                raise ExpressionError(f"{f}() adds up numbers, but {arg.name!r} is {col.describe()}", arg.start)
        if node.where is not None:
            t = self.check(node.where, table)
            if t.kind != "boolean":
                raise ExpressionError(f"'where' needs a yes/no condition, but this is {t.describe()}", node.where.start)
        return NUMBER


def _suggest(name: str, names: dict, row: Type | None) -> str:
    import difflib

    candidates = list(names) + ([n for n, _ in row.columns] if row else [])
    close = difflib.get_close_matches(name, candidates, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


# ---------------------------------------------------------------- evaluation


def evaluate(node: Node, values: dict, row: dict | None = None):
    """Compute a checked tree. Tables are lists of dicts, records are dicts, dates are datetime.date."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Name):
        head, _, tail = node.name.partition(".")
        if row is not None and not tail and head in row:
            return row[head]
        value = values[head]
        return value[tail] if tail else value
    if isinstance(node, Unary):
        v = evaluate(node.operand, values, row)
        return (not v) if node.op == "not" else -v
    if isinstance(node, Logical):
        if node.op == "and":
            return all(evaluate(i, values, row) for i in node.items)
        return any(evaluate(i, values, row) for i in node.items)
    if isinstance(node, Member):
        v = evaluate(node.item, values, row)
        found = any(v == o.value for o in node.options)
        return found != node.negated
    if isinstance(node, Binary):
        a, b = evaluate(node.left, values, row), evaluate(node.right, values, row)
        return _binary(node, a, b)
    if isinstance(node, Call):
        return _call(node, values, row)
    raise AssertionError(f"unknown node {node!r}")


def _binary(node: Binary, a, b):
    op = node.op
    if op == "+":
        return _finite(node, a + b)
    if op == "-":
        return _finite(node, a - b)
    if op == "*":
        return _finite(node, a * b)
    if op == "/":
        if b == 0:
            raise ExpressionError("division by zero", node.right.start)
        return _finite(node, a / b)
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _finite(node: Node, value):
    if isinstance(value, float) and not math.isfinite(value):
        raise ExpressionError("the result is too large to be a number", node.start)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
        raise ExpressionError(f"the result is too large to be judged exactly (beyond ±{MAX_NUMBER:,})", node.start)
    return value


def _call(node: Call, values: dict, row):
    f = node.function
    if f == "abs":
        return abs(evaluate(node.args[0], values, row))
    if len(node.args) > 1:
        numbers = [evaluate(a, values, row) for a in node.args]
        return min(numbers) if f == "min" else max(numbers)
    head, _, column = node.args[0].name.partition(".")
    rows = values[head]
    if node.where is not None:
        chosen = [r for r in rows if evaluate(node.where, values, r)]
    else:
        chosen = list(rows)
    if f == "count":
        return len(chosen)
    if f == "share":
        if not rows:
            raise ExpressionError(f"share() of an empty table: {head!r} has no rows", node.start)
        return len(chosen) / len(rows)
    numbers = [r[column] for r in chosen]
    if f == "sum":
        return _finite(node, sum(numbers))
    if not numbers:
        raise ExpressionError(f"{f}() of no rows: no row of {head!r} qualifies", node.start)
    return min(numbers) if f == "min" else max(numbers)


# ---------------------------------------------------------------- lowering to the IR

_NEGATE = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "le": "gt", "gt": "le"}
_FLIP = {"eq": "eq", "ne": "ne", "lt": "gt", "gt": "lt", "le": "ge", "ge": "le"}
_OPS = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


def engine_name(name: str) -> str:
    """The engine's name for a (possibly dotted) name in scope: record fields join with '__'."""
    return name.replace(".", "__")


def dotted_name(name: str) -> str:
    """The name in scope an engine value name stands for (the inverse of engine_name)."""
    return name.replace("__", ".")


class Hoisting:
    """Names for the computed operands (arithmetic, aggregates) of conditions, which the engines
    cannot compute: each is computed in Python under its name before the engine runs. The same
    computation, written alike up to spaces, gets the same name, so it is computed once.
    """

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.computed: dict[str, tuple[str, Node]] = {}  # name -> (text, node), in the order first met
        self._names: dict[str, str] = {}  # text -> name

    def name(self, source: str, node: Node) -> str:
        """The name of the computation `node` (of the expression `source`)."""
        text = " ".join(source[node.start : node.end].split())
        if text not in self._names:
            name = self._names[text] = f"{self.prefix}{len(self._names) + 1}"
            self.computed[name] = (text, node)
        return self._names[text]

    def lower(self, source: str, tree: Node) -> ir.Cond:
        """The checked condition `tree` (parsed from `source`) in IR, its computations named here."""
        return Lowering(lambda node: self.name(source, node)).condition(tree)


class Lowering:
    """Lowers checked conditions to IR: negation pushed down (De Morgan), names as the engine's.

    `hoist(node)` must return the value name under which the caller will compute the operand
    `node` in Python before the engine runs (see Hoisting).
    """

    def __init__(self, hoist):
        self.hoist = hoist

    def condition(self, node: Node, negate: bool = False) -> ir.Cond:
        if isinstance(node, Unary) and node.op == "not":
            return self.condition(node.operand, not negate)
        if isinstance(node, Logical):
            is_all = (node.op == "and") != negate
            items = tuple(self.condition(i, negate) for i in node.items)
            return ir.AllOf(items) if is_all else ir.AnyOf(items)
        if isinstance(node, Member):
            positive = node.negated == negate
            name = self.operand_name(node.item)
            cmps = tuple(ir.Cmp("eq" if positive else "ne", name, ir.Lit(_ir_value(o.value))) for o in node.options)
            return ir.AnyOf(cmps) if positive else ir.AllOf(cmps)
        if isinstance(node, Binary) and node.op in _OPS:
            op = _OPS[node.op]
            left, right = node.left, node.right
            if isinstance(left, Literal):
                left, right, op = right, left, _FLIP[op]
            name = self.operand_name(left)
            operand = ir.Lit(_ir_value(right.value)) if isinstance(right, Literal) else ir.Ref(self.operand_name(right))
            return ir.Cmp(_NEGATE[op] if negate else op, name, operand)
        # a bare yes/no value
        return ir.Cmp("eq", self.operand_name(node), ir.Lit(not negate))

    def operand_name(self, node: Node) -> str:
        if isinstance(node, Name):
            return engine_name(node.name)
        return self.hoist(node)


def _ir_value(value):
    if isinstance(value, _dt.date):
        return value.toordinal()
    return value


def engine_value(value):
    """The value the engines see for a Python value: dates become day numbers."""
    return _ir_value(value)

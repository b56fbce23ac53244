"""Reading a loaded YAML document field by field, with located, plain errors.

Rule files and case files are both read through a `Reader`: it knows the
document, the path it stands at, and collects every finding instead of
stopping at the first, so one run shows a user all their mistakes.
"""

from __future__ import annotations

import math
import re
from typing import TypeVar

from assessor.errors import AssessorError, Finding
from assessor.source.document import Document, short_repr

T = TypeVar("T")

# no double or trailing underscores: the engines join record and field names with "__"
IDENT = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*\Z")
RESERVED = frozenset({"id", "sid", "kind", "scope", "stage"})
MAX_NAME = 64  # characters in a name; engine scopes and rule ids are built from names
# Numbers beyond ±2**53 lose their last digits as floats, and the engine compares numbers as
# floats (durable-rules saturates integers at 2**63): such a number would be judged wrongly.
# The one home of this limit: rule files, case files, condition literals and results, the engine.
MAX_NUMBER = 2**53
MAX_TEXT = 20000  # characters in one piece of text (a heading, a paragraph)
MAX_FINDINGS = 100  # a file with more problems than this is reported up to here, then stops


class Reader:
    def __init__(self, doc: Document, findings: list[Finding] | None = None, where: tuple = ()):
        self.doc = doc
        self.findings = findings if findings is not None else []
        self.where = where

    # navigation ---------------------------------------------------------
    def at(self, *keys) -> Reader:
        return Reader(self.doc, self.findings, self.where + tuple(keys))

    @property
    def value(self):
        v = self.doc.data
        for k in self.where:
            v = v[k]
        return v

    def error(self, check: str, message: str, *, key: bool = False, offset: int = 0) -> None:
        self.findings.append(self.doc.finding(self.where, check, message, key=key, offset=offset))
        if len(self.findings) >= MAX_FINDINGS:
            self.findings.append(
                Finding(
                    self.doc.path,
                    None,
                    None,
                    "too-many-findings",
                    f"stopped after {MAX_FINDINGS} problems; fix these and run again",
                )
            )
            raise AssessorError(self.findings)

    def raise_if_errors(self) -> None:
        if self.findings:
            raise AssessorError(self.findings)

    def found(self, value: T | None) -> T:
        """`value`, read here; None only after a finding said why, and then the findings are raised."""
        if value is None:
            self.raise_if_errors()
            raise AssertionError(f"{self.label}: nothing read, yet no finding says why")
        return value

    @property
    def label(self) -> str:
        """A readable name for where we are, e.g. criteria[2].choose.extent."""
        out = ""
        for k in self.where:
            out += f"[{k + 1}]" if isinstance(k, int) else (("." if out else "") + str(k))
        return out or "the file"

    # shapes -------------------------------------------------------------
    def mapping(self, required: tuple = (), optional: tuple = (), what: str | None = None) -> dict | None:
        """The value as a dict with only the allowed keys (any keys when none are named);
        None, and a finding, if it is not a mapping."""
        v = self.value
        what = what or self.label
        if not isinstance(v, dict):
            self.error("type", f"{what} must be a mapping of keys to values, got {kind_of(v)}")
            return None
        allowed = tuple(required) + tuple(optional)
        for k in v if allowed else ():
            if k not in allowed:
                import difflib  # only when a hint is needed

                hint = difflib.get_close_matches(str(k), [str(a) for a in allowed], n=1)
                also = f"did you mean {hint[0]!r}? " if hint else ""
                if v[k] is None and isinstance(k, str):
                    # `{describe: Hours of patrol, a week}`: the comma ended the text and began a key
                    also = (
                        "a comma inside { } starts a new key, so the text after it became one: put the whole "
                        'text in quotes (describe: "text, more text"); '
                    )
                self.at(k).error(
                    "unknown-key", f"unknown key {short_repr(k)} in {what}; {also}expected {_list(allowed)}", key=True
                )
        for k in required:
            if k not in v:
                self.error("missing-key", f"{what} needs the key {k!r}")
        return v

    def text(self, what: str | None = None, empty_ok: bool = False) -> str | None:
        v = self.value
        if not isinstance(v, str) or (not empty_ok and not v.strip()):
            self.error("type", f"{what or self.label} must be text, got {kind_of(v)}")
            return None
        if len(v) > MAX_TEXT:
            self.error("too-long", f"{what or self.label} is {len(v):,} characters long; the limit is {MAX_TEXT:,}")
            return None
        return v

    def ident(self, what: str | None = None) -> str | None:
        v = self.value
        if not isinstance(v, str) or not IDENT.match(v):
            self.error(
                "bad-id",
                f"{what or self.label} must be a name of lower-case letters and digits, "
                f"words joined by single _, got {short_repr(v)}",
            )
            return None
        if len(v) > MAX_NAME:
            self.error("too-long", f"{what or self.label} is {len(v)} characters long; names have at most {MAX_NAME}")
            return None
        return v

    def key_ident(self, key, what: str) -> bool:
        """Check a mapping key used as a name."""
        if not isinstance(key, str) or not IDENT.match(key):
            self.at(key).error(
                "bad-id",
                f"{what} {short_repr(key)} must be lower-case letters and digits, words joined by single _",
                key=True,
            )
            return False
        if len(key) > MAX_NAME:
            self.at(key).error(
                "too-long",
                f"{what} {short_repr(key)} is {len(key)} characters long; names have at most {MAX_NAME}",
                key=True,
            )
            return False
        if key in RESERVED:
            self.at(key).error("reserved-name", f"{what} {key!r} is a reserved word; choose another name", key=True)
            return False
        return True

    def number(self, what: str | None = None, low=None, high=None, integer=False):
        v = self.value
        ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        if ok and isinstance(v, float) and not math.isfinite(v):
            self.error("not-finite", f"{what or self.label} must be a finite number, got {v}")
            return None
        if not ok or (integer and not isinstance(v, int)):
            self.error(
                "type", f"{what or self.label} must be {'a whole number' if integer else 'a number'}, got {kind_of(v)}"
            )
            return None
        if abs(v) > MAX_NUMBER:
            self.error(
                "out-of-range",
                f"{what or self.label} is too large to be judged exactly: numbers must lie "
                f"within ±{MAX_NUMBER:,} (2**53), got {short_repr(v)}",
            )
            return None
        if (low is not None and v < low) or (high is not None and v > high):
            self.error(
                "out-of-range",
                f"{what or self.label} must be between {low} and {high}, got {v}"
                if low is not None and high is not None
                else f"{what or self.label} must be at least {low}, got {v}"
                if low is not None
                else f"{what or self.label} must be at most {high}, got {v}",
            )
            return None
        return v

    def items(self, what: str | None = None) -> list | None:
        v = self.value
        if not isinstance(v, list):
            self.error("type", f"{what or self.label} must be a list, got {kind_of(v)}")
            return None
        return v


def _list(keys) -> str:
    keys = [repr(k) for k in keys]
    if len(keys) <= 1:
        return "".join(keys) or "no keys"
    return ", ".join(keys[:-1]) + " or " + keys[-1]


def kind_of(v) -> str:
    if v is None:
        return "nothing"
    if isinstance(v, bool):
        return f"yes/no ({'yes' if v else 'no'})"
    if isinstance(v, (int, float)):
        return f"the number {v}"
    if isinstance(v, str):
        shown = v if len(v) <= 40 else v[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    return f"a {type(v).__name__} ({short_repr(v)})"

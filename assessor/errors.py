"""The one error type users see: a finding with a place, a check id and a plain message.

Exit codes are defined here once; the CLI documents them in --help.
"""

from __future__ import annotations

from assessor.record import Record, field

EXIT_OK = 0
EXIT_FINDINGS = 1  # lint errors, failed expectations, changed judgements under --fail-on-change
EXIT_BAD_INPUT = 2  # bad input or usage: the message says what was expected
EXIT_ENGINE = 3  # the rule engine failed: a bug, to be reported with the case file
EXIT_INTERRUPTED = 130  # stopped by Ctrl-C: what shells report for SIGINT (128 + 2)


class Finding(Record):
    """A problem at a place in a file. Lines and columns are 1-based; None when unknown.

    Findings compare on place and check id, not on wording, so tests survive message edits.
    """

    path: str
    line: int | None
    column: int | None
    check: str
    message: str = field(compare=False)
    level: str = field(default="error", compare=False)

    def __post_init__(self):
        for name in ("line", "column"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be 1-based, got {value}")

    def sort_key(self) -> tuple[str, int, int, str]:
        """Reading order: by file, line and column (a finding without them first), then check id."""
        return (self.path, self.line or 0, self.column or 0, self.check)

    def place(self) -> str:
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        return f"{self.place()}: {self.message} ({self.check})"

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "check": self.check,
            "level": self.level,
            "message": self.message,
        }


class AssessorError(Exception):
    """Raised when input cannot be assessed: one or more findings explain why."""

    def __init__(self, findings: list[Finding] | Finding):
        if isinstance(findings, Finding):
            findings = [findings]
        self.findings = sorted(findings, key=Finding.sort_key)
        super().__init__("\n".join(str(f) for f in self.findings))


class InternalError(AssessorError):
    """Our bug, not the user's: assessor's own templates failed on input that is valid. The CLI
    exits with EXIT_ENGINE and asks for a report; tools that only know AssessorError still stop
    with a located message."""

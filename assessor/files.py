"""Files the tool reads and writes: the bundled rulebook's folder, case discovery, atomic output.

Every stage and command finds and writes files through here, so "where is it" and "was it
written whole" have one answer each.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from assessor.errors import AssessorError, Finding

PACKAGE = Path(__file__).resolve().parent
EXPECTED_SUFFIX = ".expected.yaml"


def relative(path: Path) -> Path:
    """`path` relative to the working directory when inside it, so messages name files as users see them."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def bundled_root() -> Path:
    """The bundled rulebook's folder (rulebook.yaml, rules/, templates/, cases/): shipped inside the
    package as assessor/bundled/ (installed), or the repository root (source checkout)."""
    installed = PACKAGE / "bundled"
    return relative(installed if (installed / "rulebook.yaml").is_file() else PACKAGE.parent)


def bundled(name: str) -> Path:
    """A folder of the bundled rulebook: rules, templates or cases."""
    return bundled_root() / name


def case_files(directory) -> list[Path]:
    """The case files of a directory: *.yaml, except the expected-judgement files beside them."""
    return sorted(p for p in Path(directory).glob("*.yaml") if not p.name.endswith(EXPECTED_SUFFIX))


def write_atomically(path: str, text: str) -> None:
    """Write the whole file or nothing: a failed run never leaves a partial report."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise AssessorError(
            Finding(str(target), None, None, "io", f"cannot write the report: directory {directory} does not exist")
        )
    if target.is_dir():
        raise AssessorError(Finding(str(target), None, None, "io", "cannot write the report: it is a directory"))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        # mkstemp makes the file private; a report gets the permissions any new file would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise AssessorError(Finding(str(target), None, None, "io", f"cannot write the report: {e.strerror}")) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

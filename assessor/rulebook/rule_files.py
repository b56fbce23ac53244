"""The rule files of a rulebook's folders, and the revision they give (`Rulebook.revision`).

rulebook/read.py reads the files; rulebook/model_cache.py names a kept model by their revision,
which it finds without the reader (a run whose model is kept never imports it).
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def rule_files(folder: Path) -> list[Path]:
    """The rule files of a rules folder, or of an overlay folder, in the order they are read."""
    return sorted(folder.glob("*.yaml"))


def file_label(layer: int, path: Path) -> str:
    """How the revision names a rule file: by its name, prefixed by its overlay (1, 2, ...) if any."""
    return f"overlay{layer}/{path.name}" if layer else path.name


def rules_revision(files: list[tuple[str, bytes]]) -> str:
    """The rules' revision (`Rulebook.revision`, `rules_revision` in the JSON result): a SHA-256
    over the label and bytes of each rule file read, in order. Not the rulebook's revision
    (`Location.revision`, rulebook/locate.py), which covers its manifest and templates too."""
    digest = hashlib.sha256()
    for label, data in files:
        digest.update(label.encode() + b"\0" + data + b"\0")
    return digest.hexdigest()

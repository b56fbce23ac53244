"""An edition that extends another states only what changes: its rule files are overlaid on the
rule files of the edition it extends, before the rulebook is read.

A file of the overlay folder changes the file of the same name (grading.yaml, a framework
file); a file with a new name adds a framework; a file holding only `remove: true` removes one.
Within a file, mappings merge key by key: a key given replaces its value, a mapping merges in
turn, and a key given as null (nothing after the colon) is removed. Lists are replaced whole,
except `criteria`, which merges by `id`: an item naming a criterion the base has changes it
(its keys merge as above), `{id: ..., remove: true}` removes it, and an item with a new id adds
a criterion after the others.

The merged document remembers, for every value, the file and line it came from, so a mistake
in an overlay is reported in the overlay file and one in the base in the base file.
"""

from __future__ import annotations

from assessor import record
from assessor.source.document import Document, Mark

REMOVE = "remove"


def overlay(base: Document | None, over: Document, findings: list) -> Document | None:
    """`base` with `over` laid on it (None when `over` removes the file)."""
    if _removes(over.data):
        if base is None:
            message = "removes a file the edition it extends does not have"
            findings.append(over.finding((REMOVE,), "bad-overlay", message))
        return None
    if base is None:
        return over
    if not (isinstance(base.data, dict) and isinstance(over.data, dict)):
        return over  # not a mapping: the reader reports what is wrong with it, in its own file
    out = Document(base.path, None, {}, {})
    merge = _Merge(base, over, out, findings)
    out.data = merge.mapping((), (), ())
    return out


def _removes(data) -> bool:
    return isinstance(data, dict) and set(data) == {REMOVE} and data[REMOVE] is True


class _Merge:
    def __init__(self, base: Document, over: Document, out: Document, findings: list):
        self.base, self.over, self.out, self.findings = base, over, out, findings
        self._index = {id(base): _subtrees(base), id(over): _subtrees(over)}

    def mapping(self, bp: tuple, op: tuple, outp: tuple) -> dict:
        b, o = _at(self.base, bp), _at(self.over, op)
        self._mark(self.base, bp, outp)
        result = {}
        for k in b:
            if k not in o:
                result[k] = self.copy(self.base, bp + (k,), outp + (k,))
            elif o[k] is not None:  # null removes the key
                result[k] = self.value(bp + (k,), op + (k,), outp + (k,))
        for k, ov in o.items():
            if k not in b and ov is not None:
                result[k] = self.copy(self.over, op + (k,), outp + (k,))
        return result

    def value(self, bp: tuple, op: tuple, outp: tuple):
        b, o = _at(self.base, bp), _at(self.over, op)
        self._key(self.over, op, outp)
        if isinstance(b, dict) and isinstance(o, dict):
            return self.mapping(bp, op, outp)
        if bp == ("criteria",) and isinstance(b, list) and isinstance(o, list):
            return self.criteria(bp, op, outp)
        return self.copy(self.over, op, outp)

    def criteria(self, bp: tuple, op: tuple, outp: tuple) -> list:
        b, o = _at(self.base, bp), _at(self.over, op)
        self._mark(self.base, bp, outp)
        changes: dict[str, int] = {}
        for j, item in enumerate(o):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                changes.setdefault(item["id"], j)
        ids = {item.get("id") for item in b if isinstance(item, dict)}
        result: list = []
        used: set[int] = set()
        for i, item in enumerate(b):
            at = changes.get(item["id"]) if isinstance(item, dict) and isinstance(item.get("id"), str) else None
            if at is None:
                result.append(self.copy(self.base, bp + (i,), outp + (len(result),)))
                continue
            used.add(at)
            if o[at].get(REMOVE) is True:
                if set(o[at]) != {"id", REMOVE}:
                    self.findings.append(
                        self.over.finding(
                            op + (at, REMOVE), "bad-overlay", "a criterion removed is written {id: ..., remove: true}"
                        )
                    )
                continue
            result.append(self.mapping(bp + (i,), op + (at,), outp + (len(result),)))
        for j, item in enumerate(o):
            if j in used:
                continue
            if isinstance(item, dict) and item.get(REMOVE) is True and item.get("id") not in ids:
                self.findings.append(
                    self.over.finding(
                        op + (j, "id"),
                        "bad-overlay",
                        f"removes criterion {item.get('id')!r}, which the edition it extends does not have",
                    )
                )
                continue
            result.append(self.copy(self.over, op + (j,), outp + (len(result),)))
        return result

    def copy(self, doc: Document, sp: tuple, outp: tuple):
        """The value at `sp` of `doc`, placed at `outp` with the marks of everything under it."""
        n = len(sp)
        for path in self._index[id(doc)].get(sp, ()):
            mark = doc.marks.get(path)
            if mark is not None:
                self.out.marks[outp + path[n:]] = self._tag(doc, mark)
            kmark = doc.key_marks.get(path)
            if kmark is not None:
                self.out.key_marks[outp + path[n:]] = self._tag(doc, kmark)
        return _at(doc, sp)

    def _mark(self, doc: Document, path: tuple, outp: tuple) -> None:
        mark = doc.marks.get(path)
        if mark is not None:
            self.out.marks[outp] = self._tag(doc, mark)
        kmark = doc.key_marks.get(path)
        if kmark is not None and outp not in self.out.key_marks:
            self.out.key_marks[outp] = self._tag(doc, kmark)

    def _key(self, doc: Document, path: tuple, outp: tuple) -> None:
        kmark = doc.key_marks.get(path)
        if kmark is not None:
            self.out.key_marks[outp] = self._tag(doc, kmark)

    def _tag(self, doc: Document, mark: Mark) -> Mark:
        if mark.path is not None or doc.path == self.out.path:
            return mark
        return record.replace(mark, path=doc.path)


def _at(doc: Document, path: tuple):
    v = doc.data
    for k in path:
        v = v[k]
    return v


def _subtrees(doc: Document) -> dict:
    """path -> every marked path at or under it, so a subtree's marks are copied without a scan."""
    out: dict = {}
    for path in set(doc.marks) | set(doc.key_marks):
        for i in range(len(path) + 1):
            out.setdefault(path[:i], []).append(path)
    return out

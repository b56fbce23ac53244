"""YAML loading: positions, refusals, and no memory kept between documents."""

from __future__ import annotations

import pytest

from assessor.errors import AssessorError
from assessor.source import document as loading


def test_values_keep_their_line_and_column():
    doc = loading.parse('a: 1\nb:\n  - x\n  - {c: yes, d: "q"}\n', "t.yaml")
    assert doc.data == {"a": 1, "b": ["x", {"c": True, "d": "q"}]}
    assert doc.mark(("b", 1, "d")) == loading.Mark(4, 17, quoted=True)
    assert doc.key_marks[("b", 1, "c")] == loading.Mark(4, 6)


@pytest.mark.parametrize(
    "text, check, line",
    [
        ("a: 1\na: 2\n", "duplicate-key", 2),
        ("a: &x 1\nb: *x\n", "alias", 2),
        ("a: !!python/object:os.system 1\n", "syntax", 1),
        ("--- 1\n--- 2\n", "syntax", 2),
    ],
)
def test_refusals_are_located(text, check, line):
    with pytest.raises(AssessorError) as info:
        loading.parse(text, "t.yaml")
    (finding,) = info.value.findings
    assert (finding.check, finding.line) == (check, line)


def test_loading_keeps_nothing_between_documents():
    """The shared scalar constructor must not remember nodes: a batch of 10,000 cases would grow by GBs."""
    for _ in range(3):
        loading.parse("a: 1\nb: [2.5, yes, 2008-03-31, text]\n", "t.yaml")
    assert not loading._SCALARS._constructor.constructed_objects


def test_a_byte_order_mark_is_not_part_of_the_text(tmp_path):
    """A file saved with a UTF-8 byte order mark (as some Windows editors do) reads as without it;
    a byte that is not UTF-8 after it is placed at its line and at its byte in the file."""
    plain, marked, broken = tmp_path / "plain.yaml", tmp_path / "marked.yaml", tmp_path / "broken.yaml"
    plain.write_bytes("force: Cambridgeshire – 2008\n".encode())
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    broken.write_bytes(b"\xef\xbb\xbfforce: X\n\xff\n")
    assert loading.read_text(marked, "case file") == loading.read_text(plain, "case file")
    with pytest.raises(AssessorError) as e:
        loading.read_text(broken, "case file")
    assert str(e.value.findings[0]) == f"{broken}:2: case file is not UTF-8 text (byte 12) (encoding)"

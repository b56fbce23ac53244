"""The JSON Schemas shipped in assessor/schemas/ agree with the files and the output they describe.

Editors with the YAML language server validate and complete rule and case files
against these schemas, so a schema that rejects a good file (or accepts a
mistake the assessor would refuse) misleads the people writing them. These
tests keep the schemas, the bundled files and the code in step.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
from helpers import read_yaml, write_yaml

from assessor.case import read as cases_module
from assessor.errors import AssessorError
from assessor.files import bundled, case_files
from assessor.report.render import render_report
from assessor.rulebook import model as rulebook
from assessor.rulebook.read import load_rulebook
from assessor.source import reader as shapes

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "assessor" / "schemas"
RULES = bundled("rules")
CASES = case_files(ROOT / "cases")
RULE_FILES = sorted(RULES.glob("*.yaml"))
FRAMEWORK_FILE = RULES / "neighbourhood-policing.yaml"
GRADING_FILE = RULES / rulebook.GRADING_FILE
CAMBRIDGESHIRE = ROOT / "cases" / "cambridgeshire-2008.yaml"
EDITIONS_MANIFEST = ROOT / "tests" / "rulebooks" / "editions" / "rulebook.yaml"
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


@functools.cache
def validator(name: str):
    return jsonschema.Draft202012Validator(schema(name))


@functools.cache
def bundled_rulebook():
    """The bundled rulebook, read once: the model is frozen, so tests can share it."""
    return load_rulebook(RULES)


def as_json(data):
    """YAML data as an editor sees it: dates are text (YAML 1.2 has no date type)."""
    if isinstance(data, dict):
        return {k: as_json(v) for k, v in data.items()}
    if isinstance(data, list):
        return [as_json(v) for v in data]
    if isinstance(data, dt.date):
        return data.isoformat()
    return data


def load_yaml(path: Path):
    return read_yaml(path)


def errors(name: str, document) -> list:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator(name).iter_errors(document)
    ]


# ---------------------------------------------------------------- the schemas themselves

SCHEMA_FILES = ["rules.schema.json", "case.schema.json", "result.schema.json", "rulebook.schema.json"]


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_is_valid_draft_2020_12(name):
    s = schema(name)
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(s)


def _subschemas(node, path=""):
    """(path, schema) for every field-like subschema: properties, pattern properties, items, $defs,
    additionalProperties and the branches of anyOf/oneOf. Conditions (if/then/else, not,
    propertyNames) only constrain; they are not fields."""
    if not isinstance(node, dict):
        return
    yield path, node
    for key in ("properties", "patternProperties", "$defs"):
        for name, sub in node.get(key, {}).items():
            yield from _subschemas(sub, f"{path}/{key}/{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield from _subschemas(node[key], f"{path}/{key}")
    for key in ("anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(node.get(key, [])):
            if key != "allOf":
                yield from _subschemas(sub, f"{path}/{key}/{i}")


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_every_field_has_a_title_and_a_description(name):
    bare = [
        p or "(top)"
        for p, s in _subschemas(schema(name))
        if set(s) != {"$ref"} and not (s.get("title") and s.get("description"))
    ]
    assert not bare, f"{name}: fields without a title or description: {bare}"


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_every_object_closes_its_keys(name):
    """A misspelt key must be an error: every object says which keys it allows."""
    open_objects = [
        p or "(top)"
        for p, s in _subschemas(schema(name))
        if s.get("type") == "object" and "additionalProperties" not in s
    ]
    assert not open_objects, f"{name}: objects without additionalProperties: {open_objects}"


# Keywords that mean the same in Draft 2020-12 and in Draft 7, which is what the YAML language
# server implements (a $ref to "#/$defs/..." is a plain JSON pointer, so it resolves in both).
PORTABLE_KEYWORDS = {
    "$schema",
    "$ref",
    "$defs",
    "title",
    "description",
    "examples",
    "type",
    "enum",
    "const",
    "properties",
    "patternProperties",
    "additionalProperties",
    "propertyNames",
    "required",
    "minProperties",
    "maxProperties",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
}
_NAMED = ("properties", "patternProperties", "$defs")  # their keys are names, their values schemas


def _keywords(node) -> set:
    if not isinstance(node, dict):
        return set()
    found = set(node)
    for key, value in node.items():
        if key in _NAMED:
            for sub in value.values():
                found |= _keywords(sub)
        elif key in ("allOf", "anyOf", "oneOf"):
            for sub in value:
                found |= _keywords(sub)
        elif isinstance(value, dict) and key not in ("examples", "const", "enum"):
            found |= _keywords(value)
    return found


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schemas_use_only_keywords_editors_understand(name):
    assert _keywords(schema(name)) - PORTABLE_KEYWORDS == set()


@pytest.mark.parametrize("path", RULE_FILES + CASES, ids=lambda p: p.name)
def test_files_validate_as_draft_7_too(path):
    """What an editor's Draft 7 validator makes of the schema accepts the bundled files as well."""
    name = "rules.schema.json" if path.parent == RULES else "case.schema.json"
    draft7 = {k: v for k, v in schema(name).items() if k != "$schema"}
    assert list(jsonschema.Draft7Validator(draft7).iter_errors(as_json(load_yaml(path)))) == []


def test_closed_vocabularies_match_the_code():
    rules = schema("rules.schema.json")["$defs"]
    assert rules["factType"]["enum"] == list(rulebook.FACT_TYPES)
    assert set(rules["columnType"]["enum"]) == set(rulebook.FACT_TYPES) - {"table"}
    assert set(rules["keyName"]["not"]["enum"]) == set(shapes.RESERVED)
    book = load_rulebook(RULES)
    # grades are the rulebook's: the shipped schema takes any name, as the reader does, bar the reserved ones
    assert "enum" not in rules["gradeId"]
    assert rules["gradeId"]["not"]["enum"] == list(rulebook.RESERVED_GRADES)
    assert list(rules["gradeRung"]["properties"]) == ["otherwise"]
    assert set(rules["verdicts"]["required"]) == set(rulebook.VERDICT_ROLES)

    case = schema("case.schema.json")
    assert set(case["properties"]["overview"]["properties"]) == set(cases_module.OVERVIEW)
    assert set(case["properties"]["context"]["properties"]) == set(cases_module.CONTEXT)
    assert set(case["$defs"]["criterion"]["properties"]) == {"evidence", *cases_module.NARRATIVE}
    figures = case["$defs"]["figures"]["properties"]
    assert set(cases_module.SURVEY_FIGURES) <= set(figures)
    for ind in book.indicators.values():  # a comparison group named in grading.yaml needs its figures
        if ind.gap_with:
            assert {ind.gap_with, f"{ind.gap_with}_n"} <= set(figures), ind.id
    assert "enum" not in case["$defs"]["framework"]["properties"]["moderation"]["properties"]["grade"]


def _at(document: dict, pointer: str):
    for part in pointer.strip("/").split("/"):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


LIMITS = [  # (module, constant, schema, JSON pointer to the value that mirrors it)
    (rulebook, "RESERVED_CRITERIA", "rules.schema.json", "/$defs/criterion/properties/id/not/enum"),
    (rulebook, "RESERVED_SLOTS", "rules.schema.json", "/$defs/criterion/properties/choose/propertyNames/not/enum"),
    (rulebook, "MAX_WORD", "rules.schema.json", "/$defs/factLong/properties/values/items/maxLength"),
    (shapes, "MAX_TEXT", "rules.schema.json", "/$defs/text/maxLength"),
    (shapes, "MAX_TEXT", "case.schema.json", "/$defs/text/maxLength"),
    (shapes, "MAX_TEXT", "case.schema.json", "/$defs/paragraph/maxLength"),
    (cases_module, "MAX_FACT_TEXT", "case.schema.json", "/$defs/factValue/anyOf/3/maxLength"),
    (shapes, "MAX_NUMBER", "case.schema.json", "/$defs/factValue/anyOf/1/maximum"),
]


@pytest.mark.parametrize("module, constant, name, pointer", LIMITS, ids=[f"{c}-{n}" for _, c, n, _ in LIMITS])
def test_limits_match_the_code(module, constant, name, pointer):
    if not hasattr(module, constant):
        pytest.skip(f"{module.__name__}.{constant} is gone: update LIMITS and the schema")
    value = getattr(module, constant)
    mirrored = _at(schema(name), pointer)
    assert (sorted(mirrored) == sorted(value)) if isinstance(value, tuple) else mirrored == value


@pytest.mark.parametrize("name", ["name", "keyName"])
def test_the_name_pattern_is_the_code_s(name):
    pattern = re.compile(schema("rules.schema.json")["$defs"][name]["pattern"])
    for word in ["a", "spi_2a", "contact_share", "x1_y2", "A", "_a", "a_", "a__b", "2a", "a-b", "a b", "é"]:
        assert bool(pattern.search(word)) == bool(shapes.IDENT.match(word)), word


# ---------------------------------------------------------------- the bundled files validate


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_bundled_rule_files_validate(path):
    assert errors("rules.schema.json", as_json(load_yaml(path))) == []


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_cases_validate(path):
    assert errors("case.schema.json", as_json(load_yaml(path))) == []


@pytest.mark.parametrize("path", RULE_FILES + CASES, ids=lambda p: p.name)
def test_files_name_their_schema(path):
    """The first line tells the YAML language server which schema to use."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    m = MODELINE.match(first)
    assert m, f"{path.name}: first line should be '# yaml-language-server: $schema=...'"
    expected = "rules.schema.json" if path.parent == RULES else "case.schema.json"
    target = (path.parent / m.group(1)).resolve()
    assert target == (SCHEMAS / expected).resolve()


# ---------------------------------------------------------------- the JSON output validates


def _json_output(session, path, explain: bool) -> dict:
    """What `assess PATH -f json [--explain]` prints, parsed."""
    result = session.assess(path, margins=explain)
    return json.loads(render_report(session.renderer, result, "json", explain=explain))


@pytest.mark.parametrize("explain", [False, True], ids=["plain", "explain"])
@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_json_output_validates(python_session, path, explain):
    assert errors("result.schema.json", _json_output(python_session, path, explain)) == []


def _with_unknowns(tmp_path: Path) -> Path:
    """The Cambridgeshire case with two facts not gathered: one criterion per framework unassessed."""
    text = CAMBRIDGESHIRE.read_text(encoding="utf-8")
    for fact in ("abstraction_policy", "gap_action"):
        text, found = re.subn(rf"^(\s+{fact}:) yes\b", r"\1 unknown", text, count=1, flags=re.M)
        assert found == 1, fact
    path = tmp_path / "unknowns.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("explain", [False, True], ids=["plain", "explain"])
def test_json_output_with_unknown_facts_validates(python_session, tmp_path, explain):
    doc = _json_output(python_session, _with_unknowns(tmp_path), explain)
    assert errors("result.schema.json", doc) == []
    unassessed = [c["id"] for fw in doc["frameworks"] for c in fw["criteria"] if not c["assessed"]]
    assert unassessed == ["coverage", "spi_stability"]


# ---------------------------------------------------------------- wrong documents are rejected


def _set(*path_and_value):
    *path, value = path_and_value

    def change(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _drop(*path):
    def change(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


def _rename(*path_and_new):
    *path, new = path_and_new

    def change(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[new] = target.pop(path[-1])

    return change


COVERAGE = ("criteria", 0)
BAD_FRAMEWORKS = {  # each a mistake policy staff could make; the assessor refuses it too
    "misspelt key": _rename(*COVERAGE, "evidence", "evidense"),
    "unknown fact type": _set(*COVERAGE, "evidence", "neighbourhoods", {"type": "integr"}),
    "one-of without values": _set(*COVERAGE, "evidence", "neighbourhoods", {"type": "one-of"}),
    "table without columns": _set(*COVERAGE, "evidence", "neighbourhoods", {"type": "table"}),
    "unknown type of a shared fact": _set("evidence", "neighbourhoods", {"type": "integr"}),
    "shared evidence as a list": _set("evidence", ["neighbourhoods"]),
    "min on a yes/no fact": _set(*COVERAGE, "evidence", "abstraction_policy", {"type": "yes/no", "min": 0}),
    "table inside a table": _set(*COVERAGE, "evidence", "bcu_staffing", "columns", "bcu", "table"),
    "bare yes as a condition": _set(*COVERAGE, "choose", "extent", 0, {"all": True}),
    "two outcomes in one rung": _set(*COVERAGE, "choose", "extent", 0, {"all": "bcus > 1", "most": "bcus > 0"}),
    "a grade that is not a name": _set(*COVERAGE, "judge", 0, {"Excellent!": "bcus > 1"}),
    "otherwise names the reserved grade none": _set(*COVERAGE, "judge", 2, {"otherwise": "none"}),
    "a capitalised name": _rename(*COVERAGE, "derive", "bcus", "BCUs"),
    "a reserved name": _rename(*COVERAGE, "derive", "bcus", "stage"),
    "a number as a condition": _set(*COVERAGE, "choose", "extent", 0, {"all": 1}),
    "a slot named judgement": _rename(*COVERAGE, "choose", "extent", "judgement"),
    "no grade": _drop("grade"),
    "grading keys in a framework file": _set("grades", {"exceeding": "E", "meeting": "M", "failing": "F"}),
}
BAD_GRADING = {
    "survey per region": _set("surveys", "designs", "bcs", "per", "region"),
    "design factor as text": _set("surveys", "designs", "bcs", "design_factor", "1.2"),
    "confidence as a percentage": _set("surveys", "confidence", 95),
    "better is neither higher nor lower": _set("surveys", "indicators", "spi_2a", "better", "up"),
    "compare with something else": _set("surveys", "indicators", "spi_2a", "compare", ["national"]),
    "no outcome scale": _drop("surveys", "outcome"),
    "one grade only": _set("grades", {"meeting": "Meeting the standard"}),
    "a grade named none": _set("grades", "none", "Not graded"),
    "a colour that is not #rrggbb": _set("grades", "meeting", {"label": "Meeting", "colour": "blue; x: y"}),
    "three verdict words": _set("surveys", "verdicts", {"better": "up", "same": "level", "worse": "down"}),
}
# Mistakes only the rules themselves reveal: the shipped schema cannot know which grades a rulebook
# declares (`assess schema --write` generates one that does), so the assessor alone refuses these.
BAD_FOR_THIS_RULEBOOK = {
    "a grade that does not exist": (FRAMEWORK_FILE, _set(*COVERAGE, "judge", 0, {"excellent": "bcus > 1"})),
    "otherwise names no grade": (FRAMEWORK_FILE, _set(*COVERAGE, "judge", 2, {"otherwise": "good"})),
    "an indicator outcome that is not a grade": (
        GRADING_FILE,
        _set("surveys", "outcome", 0, {"good": 'msf == "better"'}),
    ),
    "a verdict word a condition does not know": (
        GRADING_FILE,
        _set("surveys", "verdicts", {"better": "up", "same": "level", "worse": "down", "none": "not_compared"}),
    ),
}

NP = ("frameworks", "neighbourhood_policing")
BAD_CASES = {  # each a mistake an inspector could make; the assessor refuses it too
    "misspelt top key": _rename("force", "forse"),
    "period with a dash": _set("period", "2007-08"),
    "percentage with a % sign": _set(*NP, "surveys", "spi_2a", "value", "51.4%"),
    "misspelt survey figure": _rename(*NP, "surveys", "spi_2a", "msf_average", "msf_avg"),
    "moderation grade that is not a name": _set(*NP, "moderation", "grade", "Good"),
    "moderation without a reason": _drop(*NP, "moderation", "reason"),
    "empty strengths written as nothing": _set(*NP, "criteria", "coverage", "strengths", None),
    "shared fact as a list": _set(*NP, "evidence", "neighbourhoods", [31]),
    "shared facts not a mapping": _set(*NP, "evidence", "neighbourhoods: 31"),
    "misspelt narrative heading": _rename(*NP, "criteria", "coverage", "strengths", "strenghts"),
    "no evidence": _drop(*NP, "criteria", "coverage", "evidence"),
    "unknown inside a table row": _set(*NP, "criteria", "coverage", "evidence", "bcu_staffing", 0, "sergeants", None),
    "bullets nested four deep": _set(
        *NP,
        "criteria",
        "coverage",
        "strengths",
        [{"text": "a", "items": [{"text": "b", "items": [{"text": "c", "items": [{"text": "d", "items": ["e"]}]}]}]}],
    ),
    "overview count as text": _set("overview", "bcus", "three"),
    "no BCUs": _set("overview", "bcus", 0),
}


def _mutated(path: Path, change):
    doc = load_yaml(path)
    change(doc)
    return doc


@pytest.mark.parametrize("change", BAD_FRAMEWORKS.values(), ids=BAD_FRAMEWORKS.keys())
def test_bad_framework_files_are_rejected(change, tmp_path):
    doc = _mutated(FRAMEWORK_FILE, change)
    assert errors("rules.schema.json", as_json(doc)), "the schema accepted it"
    _assert_assessor_refuses_rules(tmp_path, FRAMEWORK_FILE.name, doc)


@pytest.mark.parametrize("change", BAD_GRADING.values(), ids=BAD_GRADING.keys())
def test_bad_grading_files_are_rejected(change, tmp_path):
    doc = _mutated(GRADING_FILE, change)
    assert errors("rules.schema.json", as_json(doc)), "the schema accepted it"
    _assert_assessor_refuses_rules(tmp_path, GRADING_FILE.name, doc)


@pytest.mark.parametrize("path, change", BAD_FOR_THIS_RULEBOOK.values(), ids=BAD_FOR_THIS_RULEBOOK.keys())
def test_mistakes_against_the_declared_scale_are_refused(path, change, tmp_path):
    doc = _mutated(path, change)
    assert errors("rules.schema.json", as_json(doc)) == [], "the shipped schema knows no rulebook's grades"
    _assert_assessor_refuses_rules(tmp_path, path.name, doc)


def test_a_moderation_grade_the_rules_do_not_declare_is_refused(tmp_path):
    doc = _mutated(CAMBRIDGESHIRE, _set(*NP, "moderation", "grade", "good"))
    path = tmp_path / "case.yaml"
    write_yaml(path, doc)
    with pytest.raises(AssessorError, match="moderation grade must be one of exceeding, meeting, failing"):
        cases_module.load_case(path, load_rulebook(RULES))


def _assert_assessor_refuses_rules(tmp_path: Path, name: str, doc) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    write_yaml(rules / name, doc)
    with pytest.raises(AssessorError):
        load_rulebook(rules)


@pytest.mark.parametrize("change", BAD_CASES.values(), ids=BAD_CASES.keys())
def test_bad_cases_are_rejected(change, tmp_path):
    doc = _mutated(CAMBRIDGESHIRE, change)
    assert errors("case.schema.json", as_json(doc)), "the schema accepted it"
    path = tmp_path / "case.yaml"
    write_yaml(path, doc)
    with pytest.raises(AssessorError):
        cases_module.load_case(path, bundled_rulebook())


@pytest.mark.parametrize("word", ["yes", "no", "true", "off"])
def test_a_yes_no_word_is_not_a_condition(word):
    """Under YAML 1.2 (the editor's default) `- all: yes` reads as the text "yes"; refuse it too."""
    doc = _mutated(FRAMEWORK_FILE, _set(*COVERAGE, "choose", "extent", 0, {"all": word}))
    assert errors("rules.schema.json", as_json(doc))


def test_yes_no_words_are_accepted_where_yes_no_is_meant():
    """A YAML 1.2 editor reads `fictional: no` as text; the assessor (YAML 1.1) reads it as no."""
    doc = as_json(load_yaml(CAMBRIDGESHIRE))
    doc["fictional"] = "no"
    assert errors("case.schema.json", doc) == []


def test_a_new_case_validates(tmp_path):
    """`assess new-case` writes a skeleton that the case schema accepts as it stands."""
    import subprocess
    import sys

    out = tmp_path / "new.yaml"
    run = subprocess.run(
        [sys.executable, "-m", "assessor", "new-case", "--force", "Testshire Constabulary", "-o", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if "No such command" in run.stderr:
        pytest.skip("assess new-case is not there yet")
    assert run.returncode == 0, run.stderr
    assert errors("case.schema.json", as_json(load_yaml(out))) == []


BAD_RESULTS = {
    "an unexpected key": lambda d: d.__setitem__("grade", "meeting"),
    "a grade that is not a name": lambda d: d["frameworks"][0].__setitem__("grade", "Good!"),
    "a verdict that is not a word": lambda d: d["frameworks"][0]["indicators"][0]["msf"].__setitem__("verdict", 3),
    "a scale of one grade": lambda d: d["scale"].__setitem__("grades", d["scale"]["grades"][:1]),
    "a criterion without its statement": lambda d: d["frameworks"][0]["criteria"][0].pop("statement"),
    "a rule revision that is not a digest": lambda d: d.__setitem__("rules_revision", "HEAD"),
}


@pytest.mark.parametrize("change", BAD_RESULTS.values(), ids=BAD_RESULTS.keys())
def test_wrong_results_are_rejected(python_session, change):
    doc = _json_output(python_session, CAMBRIDGESHIRE, explain=False)
    bad = copy.deepcopy(doc)
    change(bad)
    assert errors("result.schema.json", bad)


# --- the result document: evaluate/result.py's TypedDicts are the schema's objects ---------------

RESULT_OBJECTS = [
    ("Result", ""),
    ("RulebookInfo", "/properties/rulebook"),
    ("SurveyMethod", "/properties/survey_method"),
    ("SurveyDesign", "/properties/survey_method/properties/designs/items"),
    ("SurveyExample", "/properties/survey_method/properties/example"),
    ("Scale", "/properties/scale"),
    ("ScaleGrade", "/properties/scale/properties/grades/items"),
    ("Framework", "/$defs/framework"),
    ("Moderation", "/$defs/framework/properties/moderation"),
    ("Criterion", "/$defs/criterion"),
    ("Narrative", "/$defs/criterion/properties/narrative"),
    ("Indicator", "/$defs/indicator"),
    ("MsfComparison", "/$defs/msf"),
    ("TrendComparison", "/$defs/trend"),
    ("Gap", "/$defs/indicator/properties/gap"),
    ("Trace", "/$defs/trace"),
    ("RungTrace", "/$defs/rung"),
    ("FailedComparison", "/$defs/failedComparison"),
    ("Margin", "/$defs/margin"),
]


def _object_keys(node: dict) -> tuple[set, set]:
    """(every key, the keys always required) of a schema object, or of the objects among its
    oneOf/anyOf alternatives (a key is required only if every alternative requires it)."""
    alternatives = node.get("oneOf") or node.get("anyOf") or [node]
    objects = [a for a in alternatives if a.get("type") == "object" and "properties" in a]
    assert objects, "no object here"
    keys = set().union(*(a["properties"] for a in objects))
    required = set.intersection(*(set(a.get("required", ())) for a in objects))
    return keys, required


@pytest.mark.parametrize("name, pointer", RESULT_OBJECTS, ids=[n for n, _ in RESULT_OBJECTS])
def test_the_result_types_are_the_schema(name, pointer):
    """Each object of the JSON output has the keys its TypedDict declares, required alike: a key
    added to the output is added to both, or this fails."""
    from assessor.evaluate import result

    typed = getattr(result, name)
    document = schema("result.schema.json")
    keys, required = _object_keys(_at(document, pointer) if pointer else document)
    assert set(typed.__required_keys__) == required, f"{name}: required keys differ from the schema's"
    assert set(typed.__required_keys__) | set(typed.__optional_keys__) == keys, f"{name}: keys differ"


def test_every_result_object_is_checked():
    """Every TypedDict of evaluate/result.py is paired with its schema object above."""
    from typing import is_typeddict

    from assessor.evaluate import result

    declared = {name for name, value in vars(result).items() if is_typeddict(value)}
    assert declared - {"IndicatorTests"} == {name for name, _ in RESULT_OBJECTS}


# ---------------------------------------------------------------- the rulebook manifest

MANIFESTS = [ROOT / "rulebook.yaml", ROOT / "examples" / "peel-style" / "rulebook.yaml", EDITIONS_MANIFEST]


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_manifests_validate(path):
    """The bundled manifest, the example rulebook's and the editions fixture's (editions that
    extend, in_force) are valid to the schema, in Draft 2020-12 and as an editor's Draft 7 reads it."""
    from assessor.rulebook.locate import read_manifest

    read_manifest(path)  # the assessor reads it, so the schema must accept it
    document = as_json(load_yaml(path))
    assert errors("rulebook.schema.json", document) == []
    draft7 = {k: v for k, v in schema("rulebook.schema.json").items() if k != "$schema"}
    assert list(jsonschema.Draft7Validator(draft7).iter_errors(document)) == []


BAD_MANIFESTS = {
    "name-with-space": lambda d: d.update(name="X Y"),
    "name-too-long": lambda d: d.update(name="a" * 65),
    "misspelt-key": lambda d: d.update(assesor=d.pop("assessor")),
    "no-title": lambda d: d.pop("title"),
    "version-in-words": lambda d: d.update(assessor="at least 0.2"),
    "version-empty-clause": lambda d: d.update(assessor=">=0.2,"),
    "no-editions": lambda d: d.update(editions=[]),
    "edition-without-rules": lambda d: d.update(editions=[{"id": "2008"}]),
    "edition-id-with-space": lambda d: d.update(editions=[{"id": "20 08", "rules": "rules"}]),
    "edition-unknown-key": lambda d: d.update(editions=[{"id": "2008", "rules": "rules", "extend": "2007"}]),
    "absolute-rules-folder": lambda d: d.update(editions=[{"id": "2008", "rules": "/etc"}]),
    "in-force-empty": lambda d: d.update(editions=[{"id": "2008", "rules": "rules", "in_force": {}}]),
    "in-force-a-year": lambda d: d.update(editions=[{"id": "2008", "rules": "rules", "in_force": {"from": "2008"}}]),
}


@pytest.mark.parametrize("change", BAD_MANIFESTS.values(), ids=BAD_MANIFESTS.keys())
def test_bad_manifests_are_rejected_by_schema_and_assessor(change, tmp_path):
    from assessor.rulebook.locate import read_manifest

    doc = load_yaml(ROOT / "rulebook.yaml")
    change(doc)
    assert errors("rulebook.schema.json", as_json(doc)), "the schema accepted it"
    (tmp_path / "rules").mkdir()
    write_yaml(tmp_path / "rulebook.yaml", doc)
    with pytest.raises(AssessorError):
        read_manifest(tmp_path / "rulebook.yaml")


def test_the_manifest_patterns_are_the_code_s():
    from assessor.rulebook import locate

    document = schema("rulebook.schema.json")
    name = document["properties"]["name"]
    assert name["maxLength"] == document["$defs"]["editionId"]["anyOf"][0]["maxLength"] == locate.MAX_NAME
    for word in ["hmic-2008", "a", "2008", "peel-style-example", "A", "-a", "a_b", "a b", "é", "a.b"]:
        assert bool(re.search(name["pattern"], word)) == bool(locate.NAME.match(word)), word
    edition = document["$defs"]["editionId"]["anyOf"][0]["pattern"]
    for word in ["2008", "2009.1", "v2_a-b", "A", "-a", ".a", "a b", "é", "a/b"]:
        assert bool(re.search(edition, word)) == bool(locate.EDITION.match(word)), word
    versions = document["properties"]["assessor"]["pattern"]
    for spec in [">=0.2", ">=0.2, <1", "==0.2.*", "~=0.2", "0.2", " >= 1 ", "at least 0.2", ">=0.2,", "=>0.2", ">=a"]:
        try:
            locate.version_satisfies("0.2.0", spec)
            readable = True
        except ValueError:
            readable = False
        assert bool(re.search(versions, spec)) == readable, spec

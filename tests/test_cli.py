"""The `assess` command as a user meets it: output, exit codes, messages, files."""

from __future__ import annotations

import gc
import json
import shutil
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from helpers import CAMBRIDGESHIRE, ROOT

from assessor.cli import COMMANDS, main
from assessor.report import environment, markdown
from assessor.report.render import REPORT_TEMPLATES, load_glossary, render_report, used_abbreviations
from assessor.session import Session


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_report_in_markdown_by_default():
    code, out, err = run(CAMBRIDGESHIRE)
    assert code == 0, err
    assert out.startswith("# Cambridgeshire Constabulary – HMIC Inspection\n")
    assert "**2007/08 Neighbourhood Policing Summary of judgement: Meeting the standard**" in out
    assert "**2007/08 Developing Citizen Focus Policing Summary of judgement: Meeting the standard**" in out
    assert err == ""


def test_both_engines_give_the_same_report():
    outputs = {
        engine: run(CAMBRIDGESHIRE, "--engine", engine, "-f", fmt)[1]
        for engine in ("durable", "python")
        for fmt in ("markdown",)
    }
    assert outputs["durable"] == outputs["python"]


def test_json_carries_the_documented_fields():
    code, out, _ = run(CAMBRIDGESHIRE, "-f", "json")
    assert code == 0
    doc = json.loads(out)
    for key in ("force", "period", "rules_revision", "case_digest", "assessor_version", "frameworks"):
        assert key in doc
    assert len(doc["rules_revision"]) == 64 and len(doc["case_digest"]) == 64
    fw = doc["frameworks"][0]
    assert (fw["id"], fw["title"], fw["grade"], fw["grade_text"]) == (
        "neighbourhood_policing",
        "Neighbourhood Policing",
        "meeting",
        "Meeting the standard",
    )
    crit = fw["criteria"][2]
    assert crit["id"] == "problem_solving"
    assert crit["choices"] == {"reach": "all", "evaluation": "partly", "resolution": "moderate"}
    assert crit["statement"].startswith("Joint problem solving involves the police")
    assert crit["trace"]["evaluation"]["chosen"] == "partly"
    spi_10b = fw["indicators"][2]
    assert spi_10b["msf"]["verdict"] == "same" and round(spi_10b["msf"]["z"], 2) == -1.82
    assert spi_10b["msf"]["critical"] == 1.96
    assert spi_10b["trend"]["verdict"] == "better"


def test_text_and_explain():
    code, out, _ = run(CAMBRIDGESHIRE, "-f", "text", "--explain")
    assert code == 0
    assert out.startswith("CAMBRIDGESHIRE CONSTABULARY – HMIC INSPECTION\n")
    flat = " ".join(out.split())  # the text format wraps lines
    assert "extent → all" in flat
    assert "abstraction_target is no" in flat
    assert "margin: bcu_staffing[Northern].sergeants 8 → 7 would make extent most (now all)" in flat


def test_output_file_is_written_whole(tmp_path):
    target = tmp_path / "report.md"
    code, out, _ = run(CAMBRIDGESHIRE, "-o", target)
    assert code == 0 and out == ""
    assert target.read_text(encoding="utf-8").startswith("# Cambridgeshire Constabulary")
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_output_in_a_missing_directory_is_a_plain_error(tmp_path):
    target = tmp_path / "nowhere" / "report.md"
    code, out, err = run(CAMBRIDGESHIRE, "-o", target)
    assert code == 2
    assert err.startswith(f"error: {target}: cannot write the report: directory")
    assert not target.parent.exists()


def test_a_failed_run_leaves_no_output_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        CAMBRIDGESHIRE.read_text(encoding="utf-8").replace("pc_vacancies: 9 ", "pc_vacancies: nine "), encoding="utf-8"
    )
    target = tmp_path / "report.md"
    code, _, err = run(bad, "-o", target)
    assert code == 2
    assert "pc_vacancies must be a whole number of at least 0, got the text 'nine'" in err
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_case_mistakes_name_file_line_and_column(tmp_path):
    text = CAMBRIDGESHIRE.read_text(encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "abstraction_monitoring: historical" in row)
    bad = tmp_path / "case.yaml"
    bad.write_text(
        text.replace("abstraction_monitoring: historical", "abstraction_monitoring: weekly"), encoding="utf-8"
    )
    code, _, err = run(bad)
    assert code == 2
    assert err.startswith(
        f"error: {bad}:{line}:35: abstraction_monitoring must be one of real-time, historical, "
        "none, got the text 'weekly' (wrong-type)"
    )
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.yaml"], "error: missing.yaml: case file does not exist (io)"),
        ([CAMBRIDGESHIRE, "--rules", "no-such-dir"], "error: no-such-dir: rules directory does not exist (io)"),
    ],
)
def test_missing_inputs(args, message):
    code, _, err = run(*args)
    assert code == 2
    assert err.strip() == message


def test_usage_errors_exit_2():
    code, _, err = run(CAMBRIDGESHIRE, "-f", "pdf")
    assert code == 2
    assert "Invalid value for '-f' / '--format'" in err


def test_help_documents_exit_codes():
    code, out, _ = run("--help")
    assert code == 0
    assert "Exit codes:" in out and "2  bad input or usage" in out
    code, out, _ = run("report", "--help")
    assert code == 0 and "--engine [durable|python]" in out


def test_help_lists_every_command_in_order():
    code, out, _ = run("--help")
    assert code == 0
    listed = [line.split()[0] for line in out.split("Commands:\n")[1].split("\n\n")[0].splitlines()]
    assert listed == list(COMMANDS)
    for name in COMMANDS:
        assert main.get_command(None, name).name == name


def test_assessing_a_case_loads_only_what_it_needs(tmp_path):
    """Cold start: `assess CASE` imports no other command's code, nor what only errors need, nor
    the result document's types (TypedDicts, for the type checker: building them costs a compile
    of every field's annotation)."""
    code = (
        "import sys; from assessor.cli import main\n"
        "try:\n"
        f"    main([{str(CAMBRIDGESHIRE)!r}, '--output', {str(tmp_path / 'r.md')!r}])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "print(sorted(m for m in sys.modules if m.startswith(('assessor.cli.', 'assessor.tooling', 'difflib', "
        "'assessor.evaluate.result'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split("\n")[-2] == str(["assessor.cli.common", "assessor.cli.options", "assessor.cli.report"])


def test_a_command_leaves_the_collector_as_it_found_it():
    """A command collects young objects less often while it runs (cli/__init__.py), and only then."""
    before = gc.get_threshold()
    code, out, _ = run(CAMBRIDGESHIRE)
    assert code == 0 and out
    assert gc.get_threshold() == before


def _run_program(monkeypatch, capsys, *argv) -> tuple[list, int | None]:
    """`cli.run` as the console script calls it: the os._exit calls it made, and the SystemExit
    code if it ended the usual way."""
    from assessor import cli

    exits: list = []
    monkeypatch.setattr(cli.os, "_exit", exits.append)
    # this process's own exit handlers (weakref's finalizers among them) must not run mid-session
    monkeypatch.setattr(cli.atexit, "_run_exitfuncs", lambda: exits.append("atexit"))
    monkeypatch.setattr(sys, "argv", ["assess", *map(str, argv)])
    monkeypatch.setattr(cli.main, "ran", None)
    try:
        cli.run()
        code = None
    except SystemExit as e:
        code = e.code
    return exits, code


def test_a_report_ends_the_process_once_its_output_is_out(monkeypatch, capsys):
    """`assess CASE` skips the interpreter's teardown (cli.run), with the command's exit code;
    other commands, and runs under a profiler, tracer or debugger, end the usual way."""
    from assessor import cli

    monkeypatch.setattr(cli, "_observed", lambda: False)  # as when no coverage tool runs the suite
    exits, code = _run_program(monkeypatch, capsys, CAMBRIDGESHIRE)
    assert exits == ["atexit", 0] and capsys.readouterr().out.startswith("# ")
    exits, code = _run_program(monkeypatch, capsys, ROOT / "no-such-case.yaml")
    assert exits == ["atexit", 2] and "does not exist" in capsys.readouterr().err
    exits, code = _run_program(monkeypatch, capsys, "lint")
    assert exits == [] and code == 0
    monkeypatch.undo()
    monkeypatch.setattr(sys, "getprofile", lambda: object())
    exits, code = _run_program(monkeypatch, capsys, CAMBRIDGESHIRE)
    assert exits == [] and code == 0
    monkeypatch.undo()
    monkeypatch.setattr(sys, "gettrace", lambda: None)
    monkeypatch.setitem(sys.modules, "bdb", sys)  # a debugger imported
    exits, code = _run_program(monkeypatch, capsys, CAMBRIDGESHIRE)
    assert exits == [] and code == 0


def test_what_is_registered_to_run_at_exit_still_runs_after_a_report(tmp_path):
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('registered at exit, run', flush=True))\n"
        f"sys.argv = ['assess', {str(CAMBRIDGESHIRE)!r}, '-o', {str(tmp_path / 'r.md')!r}]\n"
        "from assessor.cli import run\n"
        "run()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert (out.returncode, out.stdout) == (0, "registered at exit, run\n"), out.stderr
    assert (tmp_path / "r.md").read_text(encoding="utf-8").startswith("# ")


def test_a_profile_of_a_report_is_written(tmp_path):
    out = tmp_path / "assess.prof"
    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "assessor", str(CAMBRIDGESHIRE)],
        capture_output=True,
        check=True,
        cwd=ROOT,
    )
    assert out.stat().st_size > 0


# ---------------------------------------------------------------- one rendering


def _rendered_twice(session, result, fmt) -> str:
    """The report as it was made before it was rendered once: a rendering with an empty glossary
    tells which abbreviations Appendix 1 lists, and a second rendering lists them."""
    name, html = REPORT_TEMPLATES[fmt], fmt == "html"
    context = {"r": markdown.escaped(result) if fmt == "markdown" else result, "explain": False, "glossary": []}
    used = used_abbreviations(load_glossary(session.renderer), session.renderer.render(name, context, html=html))
    context["glossary"] = markdown.escaped(used) if fmt == "markdown" else used
    return session.renderer.render(name, context, html=html)


def _renderings(monkeypatch) -> list:
    made = []
    bounded = environment._bounded_output
    monkeypatch.setattr(environment, "_bounded_output", lambda *a: made.append(a[0].name) or bounded(*a))
    return made


@pytest.mark.parametrize("rulebook", ["bundled", "peel-style"])
def test_a_report_is_rendered_once_with_its_glossary(rulebook, monkeypatch):
    """Cold start: the layouts hand `glossary` to a macro only, so that call waits for the rest of
    the page, and the page is rendered once: the same page as rendering it twice."""
    if rulebook == "bundled":
        session, case = Session(engine="python"), CAMBRIDGESHIRE
    else:
        folder = ROOT / "examples" / "peel-style"
        session = Session(engine="python", rules_dir=folder / "rules", templates_dir=folder / "templates")
        case = folder / "cases" / "westerby-2021.yaml"
    with session:
        result = session.assess(case)
        for fmt in REPORT_TEMPLATES:
            made = _renderings(monkeypatch)
            page = render_report(session.renderer, result, fmt)
            assert made == [REPORT_TEMPLATES[fmt]]
            assert page == _rendered_twice(session, result, fmt)
            if rulebook == "bundled":  # the glossary is not empty: what it lists was found
                assert "Most Similar Force(s)" in page.split("Appendix 1")[1]


@pytest.mark.parametrize(
    ("layout", "renderings"),
    [
        ("{{ b.glossary(glossary) }}{% if glossary %}{{ glossary | length }} terms{% endif %}", 2),
        # the quick suite checks one way; make test checks them all
        pytest.param("{% for e in glossary %}{{ e }};{% endfor %}", 2, marks=pytest.mark.slow),
        pytest.param("{{ b.glossary(glossary) | upper }}", 3, marks=pytest.mark.slow),
        pytest.param("{% set g = b.glossary(glossary) %}{{ g }}{{ g }}", 3, marks=pytest.mark.slow),
        pytest.param(
            "{% set g = b.glossary(glossary) %}{% if g | trim %}{{ g | trim }}{% endif %}", 3, marks=pytest.mark.slow
        ),
    ],
)
def test_a_layout_reading_the_glossary_otherwise_is_rendered_again(layout, renderings, tmp_path, monkeypatch):
    """A rulebook's own layout may read `glossary` any way it likes: where a put-off call cannot
    stand for what it reads, the page is rendered again, and is the page rendering twice made."""
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    report = templates / "_report.j2"
    text = report.read_text(encoding="utf-8")
    assert text.count("{{ b.glossary(glossary) }}") == 1
    report.write_text(text.replace("{{ b.glossary(glossary) }}", layout), encoding="utf-8")
    with Session(engine="python", templates_dir=templates) as session:
        result = session.assess(CAMBRIDGESHIRE)
        for fmt in ("markdown", "html"):
            made = _renderings(monkeypatch)
            page = render_report(session.renderer, result, fmt)
            assert len(made) == renderings
            assert page == _rendered_twice(session, result, fmt)
            assert "MSF" in page.split("Appendix 1")[1].upper()


# ---------------------------------------------------------------- Ctrl-C


def _interrupt(*_args, **_kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    "target, args",
    [
        ("assessor.session.Session.assess_case", [CAMBRIDGESHIRE, "-o", "{tmp}/report.md"]),
        ("assessor.files.os.replace", [CAMBRIDGESHIRE, "-o", "{tmp}/report.md"]),  # in the middle of the write
        ("assessor.tooling.lint.lint_rulebook", ["lint"]),
    ],
    ids=["assessing", "writing", "linting"],
)
def test_ctrl_c_exits_130_with_one_line_and_keeps_the_previous_report(target, args, tmp_path, monkeypatch):
    report = tmp_path / "report.md"
    report.write_text("the report of the run before\n", encoding="utf-8")
    monkeypatch.setattr(target, _interrupt)
    code, out, err = run(*[str(a).format(tmp=tmp_path) for a in args])
    assert code == 130
    assert err.splitlines()[-1] == "interrupted: stopped by Ctrl-C before the command finished"
    assert "Aborted" not in err and "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"], "no temporary file is left"
    assert report.read_text(encoding="utf-8") == "the report of the run before\n"


@pytest.mark.slow
def test_a_real_ctrl_c_during_a_report(tmp_path):
    """SIGINT from the terminal, while the case is being assessed: exit 130, one line, no file."""
    ready = tmp_path / "ready"
    launch = (
        "import sys, time\n"
        "import assessor.session\n"
        "def waiting(*args, **kwargs):\n"
        f"    open({str(ready)!r}, 'w').close()\n"
        "    time.sleep(60)\n"
        "assessor.session.Session.assess_case = waiting\n"
        "from assessor.cli import main\n"
        "main(sys.argv[1:], prog_name='assess')\n"
    )
    report = tmp_path / "report.md"
    proc = subprocess.Popen(
        [sys.executable, "-c", launch, str(CAMBRIDGESHIRE), "-o", str(report)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(600):  # a guard against hanging, not a timing assertion
            if ready.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert ready.exists(), proc.communicate()[1].decode()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err.decode()
    assert err.decode() == "interrupted: stopped by Ctrl-C before the command finished\n"
    assert out == b"" and sorted(p.name for p in tmp_path.iterdir()) == ["ready"]

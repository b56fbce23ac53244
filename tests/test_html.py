"""The HTML report: one self-contained page, every case text escaped, checked in a browser.

The browser tests open the Cambridgeshire report in headless Chromium: a screenshot
must come out, the page's DOM must hold both grades and every summary statement, and
axe-core must find no accessibility violation in the report or the national summary.
They are skipped, saying why, when no Chromium binary is installed (Debian:
`apt-get install -y chromium`; or set CHROMIUM to the binary's path).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import zlib

import pytest
from helpers import CAMBRIDGESHIRE, ROOT, read_yaml, write_yaml
from markupsafe import escape

from assessor.report.render import render_report

PAYLOAD = "<script>alert(1)</script>"
URL = "https://example.org/report?a=1&b=2"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless_shell")


@pytest.fixture(scope="module")
def result(python_session):
    return python_session.assess(CAMBRIDGESHIRE)


@pytest.fixture(scope="module")
def page(python_session, result):
    return render_report(python_session.renderer, result, "html")


def case_strings(doc) -> list:
    """Every string in the result document: the case's own text and what was made from it."""
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [s for v in doc.values() for s in case_strings(v)]
    if isinstance(doc, list):
        return [s for v in doc for s in case_strings(v)]
    return []


def visible_text(markup: str) -> str:
    """The text of a page (tags dropped, entities decoded, white space collapsed)."""
    markup = re.sub(r"<(style|script)\b.*?</\1>", " ", markup, flags=re.S | re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", markup)).split())


# ------------------------------------------------------------------ the page itself


def test_page_is_one_self_contained_document(page):
    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")
    assert "<script" not in page.lower()
    for fetches in ("<link", "<img", "<iframe", "<object", "<embed", " src=", "url(", "@import", "xmlns"):
        assert fetches not in page.lower(), fetches
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "element ids must be unique"
    for href in re.findall(r'\shref="([^"]*)"', page):
        assert href.startswith("#") and href[1:] in ids, f"link {href!r} must point into the page"


def test_no_web_addresses_but_the_cases_own(python_session, tmp_path):
    """http:// and https:// appear only inside case text (here a URL put into a strength)."""
    data = read_yaml(CAMBRIDGESHIRE)
    strengths = data["frameworks"]["neighbourhood_policing"]["criteria"]["coverage"]["strengths"]
    strengths.append(f"The force publishes its neighbourhood pages at {URL} for residents.")
    case = tmp_path / "with-url.yaml"
    write_yaml(case, data)
    result = python_session.assess(case)
    page = render_report(python_session.renderer, result, "html")
    assert str(escape(URL)) in page
    rest = page
    for text in sorted(set(case_strings(result)), key=len, reverse=True):
        if len(text) > 3:
            rest = rest.replace(str(escape(text)), "")
    assert not re.search(r"https?://", rest, re.I), re.search(r".{60}https?://.{60}", rest, re.I | re.S)


def test_grades_and_moderation_are_shown(page, result):
    text = visible_text(page)
    for fw in result["frameworks"]:
        assert f"{result['period']} {fw['title']} Summary of judgement: {fw['grade_text']}" in text
        assert f'<span class="badge grade-{fw["grade"]} badge-large">' in page
        if fw["moderation"]:
            assert fw["moderation"]["reason"] in text


def test_every_criterion_has_its_statement_and_evidence(page, result):
    text = visible_text(page)
    for fw in result["frameworks"]:
        for c in fw["criteria"]:
            assert f'<section class="criterion" id="{fw["id"]}--{c["id"]}">' in page
            for paragraph in c["statement"].split("\n\n"):
                assert paragraph in text
            for key in ("strengths", "work_in_progress", "areas_for_improvement"):
                for entry in case_strings(c["narrative"].get(key) or []):
                    assert " ".join(entry.split()) in text
    assert text.count("None identified.") >= 1


def test_outcome_criteria_have_the_spi_table_sentences_and_a_chart_per_indicator(page, result):
    text = visible_text(page)
    assert "-1.5pp" in text and "+2.7pp" in text and "-6.8pp" in text  # SPI 2a, SPI 2a, SPI 10b
    charts = re.findall(r'<svg class="chart-svg"[^>]*>(.*?)</svg>', page, re.S)
    indicators = [ind for fw in result["frameworks"] for ind in fw["indicators"]]
    assert len(charts) == len(indicators) == 5
    for ind, svg in zip(indicators, charts):
        for paragraph in ind["sentences"].split("\n\n"):
            assert paragraph in text
        assert "<title id=" in svg and "<desc id=" in svg
        desc = html.unescape(re.search(r"<desc[^>]*>(.*?)</desc>", svg).group(1))
        assert f"{ind['value']:.1f}%" in desc
        assert f"{ind['interval'][0]:.1f}% to {ind['interval'][1]:.1f}%" in desc
        if ind["msf"]["verdict"] != "none":
            assert f"MSF average {result['period']}: {ind['msf']['average']:.1f}%" in desc
        labels = re.findall(r'<text class="row-label"[^>]*>(.*?)</text>', svg)
        assert labels[0] == f"{result['short_name']} {result['period']}"
        assert re.search(r'class="tick-label"[^>]*>\d+(\.\d)?%<', svg), "the axis is labelled in %"


def test_chart_points_sit_where_their_values_are(page, result):
    """The force's point lies between the ends of its interval, in the order of the numbers."""
    svg = re.findall(r'<svg class="chart-svg".*?</svg>', page, re.S)[0]
    force = re.search(r'<g class="row row-force">(.*?)</g>', svg, re.S).group(1)
    x_lo, x_hi = (
        float(x)
        for x in re.findall(r'<line class="ci" x1="([\d.]+)"', force)[:1]
        + re.findall(r'<line class="ci" x1="[\d.]+" y1="[\d.]+" x2="([\d.]+)"', force)[:1]
    )
    cx = float(re.search(r'<circle class="mk mk-force" cx="([\d.]+)"', force).group(1))
    ind = result["frameworks"][0]["indicators"][0]
    lo, hi = ind["interval"]
    assert x_lo < cx < x_hi
    assert abs((cx - x_lo) / (x_hi - x_lo) - (ind["value"] - lo) / (hi - lo)) < 0.01


def test_appendices(page, result):
    text = visible_text(page)
    assert '<dl class="glossary">' in page
    assert "<dt>MSF</dt><dd>Most Similar Force(s)</dd>" in page
    for design in result["survey_method"]["designs"]:
        assert design["title"] in text


def test_glossary_lists_what_the_markdown_report_lists(python_session, result, page):
    markdown = render_report(python_session.renderer, result, "markdown")
    section = markdown.split("## Appendix 1")[1].split("## Appendix 2")[0]
    assert re.findall(r"<dt>(.*?)</dt>", page) == re.findall(r"^- (\S+) – ", section, re.M)


def test_explain_adds_an_explanation_per_criterion(python_session, result):
    page = render_report(python_session.renderer, result, "html", explain=True)
    criteria = sum(len(fw["criteria"]) for fw in result["frameworks"])
    assert page.count('<aside class="explanation"') == criteria
    assert "✔" in page


def test_output_is_deterministic(python_session, result, page):
    assert render_report(python_session.renderer, result, "html") == page


def test_case_text_is_escaped_everywhere(python_session, tmp_path):
    """A case whose every free text carries a script tag renders it as text."""
    data = read_yaml(CAMBRIDGESHIRE)

    def spike(node):
        if isinstance(node, str):
            return f"{node} {PAYLOAD}"
        if isinstance(node, list):
            return [spike(v) for v in node]
        if isinstance(node, dict):
            return {k: spike(v) for k, v in node.items()}
        return node

    for key in ("force", "short_name", "published"):
        data[key] = spike(data[key])
    data["context"] = spike(data["context"])
    for fw in data["frameworks"].values():
        if "moderation" in fw:
            fw["moderation"]["reason"] = spike(fw["moderation"]["reason"])
        for criterion in fw["criteria"].values():
            for key in ("strengths", "work_in_progress", "areas_for_improvement"):
                if key in criterion:
                    criterion[key] = spike(criterion[key]) or [PAYLOAD]
    case = tmp_path / "spiked.yaml"
    write_yaml(case, data)
    result = python_session.assess(case)
    for explain in (False, True):
        page = render_report(python_session.renderer, result, "html", explain=explain)
        assert "<script" not in page.lower()
        escaped = page.count(str(escape(PAYLOAD)))
        assert escaped >= 100, escaped  # title, masthead, overview, context, moderation, every list
        assert f"<h1>{escape(data['force'])}" in page
        assert visible_text(page).count(PAYLOAD) == escaped


# ------------------------------------------------------------------ in a real browser


def chromium() -> str | None:
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if shutil.which(explicit) else None
    return next((found for found in map(shutil.which, BROWSERS) if found), None)


def run_browser(binary, tmp_path, *args) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def browser():
    binary = chromium()
    if binary is None and os.environ.get("CHROMIUM"):
        pytest.skip(f"CHROMIUM={os.environ['CHROMIUM']} is not an executable")
    if binary is None:
        pytest.skip(
            "no Chromium binary found (tried "
            + ", ".join(BROWSERS)
            + "; install it with `apt-get install -y chromium` or set CHROMIUM)"
        )
    return binary


@pytest.fixture
def page_file(page, tmp_path):
    path = tmp_path / "cambridgeshire.html"
    path.write_text(page, encoding="utf-8")
    return path


def png_rows(data: bytes) -> tuple:
    """(width, height, rows of (r, g, b) pixels) of an 8-bit RGB or RGBA PNG, as Chromium writes them."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, previous = zlib.decompress(idat), width * bpp, [], bytes(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                guess = left + up - corner
                near = min((abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - corner), 2, corner))
                line[i] = (line[i] + near[2]) & 255
        previous = bytes(line)
        rows.append([tuple(line[x : x + 3]) for x in range(0, stride, bpp)])
    return width, height, rows


@pytest.mark.browser
def test_browser_renders_a_screenshot(browser, page_file, tmp_path):
    png = tmp_path / "cambridgeshire.png"
    done = run_browser(browser, tmp_path, f"--screenshot={png}", "--window-size=1280,2000", page_file.as_uri())
    assert png.is_file(), f"no screenshot; chromium said:\n{done.stderr[-2000:]}"
    data = png.read_bytes()
    # A blank page compresses to about 12 kB; the masthead, grade cards and text do not.
    assert len(data) > 60_000, len(data)
    width, height, rows = png_rows(data)
    assert (width, height) == (1280, 2000)
    colours = {pixel for row in rows[::20] for pixel in row[::8]}
    assert len(colours) > 50, "the page looks blank"
    # The stylesheet took effect: the masthead is a dark band across the top of the page.
    band = rows[100][400:880]
    dark = [pixel for pixel in band if sum(pixel) < 3 * 90]
    assert len(dark) > 0.9 * len(band), band[:3]


@pytest.mark.browser
def test_browser_dom_has_both_grades_and_every_summary_statement(browser, page_file, tmp_path, result):
    done = run_browser(browser, tmp_path, "--dump-dom", page_file.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert '<section class="framework" id="neighbourhood_policing">' in dom
    text = visible_text(dom)
    for fw in result["frameworks"]:
        assert f"{result['period']} {fw['title']} Summary of judgement: {fw['grade_text']}" in text
        assert f"badge grade-{fw['grade']} badge-large" in dom
        for c in fw["criteria"]:
            for paragraph in c["statement"].split("\n\n"):
                assert paragraph in text, paragraph
    assert dom.count('<svg class="chart-svg"') == 5


# ------------------------------------------------------------------ accessibility: axe-core in the browser
#
# Published reports must meet WCAG 2.2 AA (Public Sector Bodies Accessibility Regulations 2018).
# axe-core is a test-only dependency from the npm registry (tests/browser/package.json; `make
# browser-deps` installs it); it runs inside headless Chromium on the page as a reader gets it.

AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
AXE_RUN = """<script>
axe.run(document, {runOnly: {type: "tag", values: %s}, resultTypes: ["violations"]}).then(function (r) {
  var out = document.createElement("pre");
  out.id = "axe-result";
  out.textContent = JSON.stringify(r.violations.map(function (v) {
    return {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(function (n) { return n.target.join(" "); })};
  }));
  document.body.appendChild(out);
}, function (e) {
  var out = document.createElement("pre");
  out.id = "axe-error";
  out.textContent = String(e);
  document.body.appendChild(out);
});
</script>"""


@pytest.fixture(scope="module")
def axe(browser):
    # a browser is there, so the check must run: only a missing browser skips it
    assert AXE.is_file(), f"axe-core is not installed ({AXE.relative_to(ROOT)} missing): run `make browser-deps`"
    return browser


def axe_violations(binary, tmp_path, markup: str, name: str) -> list:
    """axe-core's violations on MARKUP, loaded from a file in Chromium with axe injected last."""
    assert markup.count("</body>") == 1
    probe = markup.replace(
        "</body>", f"<script>{AXE.read_text(encoding='utf-8')}</script>" + AXE_RUN % json.dumps(AXE_TAGS) + "</body>"
    )
    path = tmp_path / name
    path.write_text(probe, encoding="utf-8")
    done = run_browser(binary, tmp_path, "--dump-dom", "--virtual-time-budget=60000", path.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    error = re.search(r'<pre id="axe-error">(.*?)</pre>', done.stdout, re.S)
    assert error is None, html.unescape(error.group(1))
    found = re.search(r'<pre id="axe-result">(.*?)</pre>', done.stdout, re.S)
    assert found, f"axe-core did not finish; chromium said:\n{done.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.browser
@pytest.mark.slow
def test_axe_finds_no_violations_in_the_force_report(axe, page, tmp_path):
    assert axe_violations(axe, tmp_path, page, "report.html") == []


@pytest.mark.browser
@pytest.mark.slow
def test_axe_finds_no_violations_in_the_explained_report(axe, python_session, result, tmp_path):
    page = render_report(python_session.renderer, result, "html", explain=True)
    assert axe_violations(axe, tmp_path, page, "explained.html") == []


@pytest.mark.browser
@pytest.mark.slow
def test_axe_finds_no_violations_in_the_national_summary(axe, tmp_path):
    from click.testing import CliRunner

    from assessor.cli import main

    out = tmp_path / "out"
    done = CliRunner().invoke(main, ["batch", str(ROOT / "cases"), "-o", str(out), "-f", "html", "--engine", "python"])
    assert done.exit_code == 0, done.output
    summary = (out / "summary.html").read_text(encoding="utf-8")
    assert axe_violations(axe, tmp_path, summary, "summary.html") == []

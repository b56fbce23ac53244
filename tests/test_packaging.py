"""The installed package carries the bundled rulebook whole: its manifest, rules, templates and cases."""

from __future__ import annotations

import configparser

from helpers import ROOT


def _declared():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    packages = {p.strip() for p in cfg["options"]["packages"].split() if p.strip()}
    data = {k: [g.strip() for g in v.split(",")] for k, v in cfg["options.package_data"].items()}
    return packages, data


def test_every_template_and_rule_directory_is_packaged():
    packages, data = _declared()
    assert "rulebook.yaml" in data.get("assessor.bundled", []), "add rulebook.yaml to assessor.bundled's package_data"
    for top in ("rules", "templates", "cases"):
        for path in sorted((ROOT / top).rglob("*")):
            if not path.is_file():
                continue
            package = ".".join(["assessor", "bundled", *path.relative_to(ROOT).parent.parts])
            assert package in packages, f"{path.relative_to(ROOT)}: add {package} to setup.cfg packages"
            suffix = "*" + path.suffix
            assert suffix in data.get(package, []), f"{path.relative_to(ROOT)}: add {suffix} to package_data"


def test_the_scaffold_of_assess_init_is_packaged():
    packages, data = _declared()
    scaffold = ROOT / "assessor" / "scaffold"
    for path in sorted(scaffold.rglob("*")):
        if not path.is_file():
            continue
        package = ".".join(path.relative_to(ROOT).parent.parts)
        assert package in packages, f"{path.relative_to(ROOT)}: add {package} to setup.cfg packages"
        pattern = "*" + path.suffix if path.suffix else path.name
        assert pattern in data.get(package, []), f"{path.relative_to(ROOT)}: add {pattern} to package_data"

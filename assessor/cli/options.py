"""The options several commands share, each with one meaning and one default."""

from __future__ import annotations

from pathlib import Path

import click

from assessor.files import bundled


def engine_option():
    return click.option(
        "--engine",
        type=click.Choice(["durable", "python"]),
        default="durable",
        show_default=True,
        help="Rule engine: durable-rules (Rete), or the plain Python evaluator of the same rules.",
    )


def rules_option():
    return click.option(
        "--rules",
        "rules_dir",
        type=click.Path(file_okay=False),
        default=None,
        help="Rules directory (default: the bundled rules).",
    )


def templates_option():
    return click.option(
        "--templates",
        "templates_dir",
        type=click.Path(file_okay=False),
        default=None,
        help="Templates directory (default: templates/ beside the rules, else the bundled ones).",
    )


def rules_path(rules_dir) -> Path:
    """--rules, else the bundled rules."""
    return Path(rules_dir) if rules_dir else bundled("rules")


def templates_path(rules: Path, templates_dir) -> Path:
    """--templates, else the templates/ beside the rules, else the bundled ones."""
    if templates_dir:
        return Path(templates_dir)
    sibling = rules.parent / "templates"
    return sibling if sibling.is_dir() else bundled("templates")

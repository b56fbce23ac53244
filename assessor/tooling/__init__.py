"""Policy-staff tools over a rulebook: lint, expected judgements, rule coverage, judgement diffs, new cases."""

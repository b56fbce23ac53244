"""⑤ The rulebook model → engine programs: flat rules over the IR, staged by what they depend on."""

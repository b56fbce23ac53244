"""⑦ Evidence + compiled rules → the result document: staged engine runs, survey significance,
why each rung did or did not hold, and what would change each decision.
"""

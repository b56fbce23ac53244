"""④ A case file → the evidence of one force, checked against the facts the rulebook declares."""

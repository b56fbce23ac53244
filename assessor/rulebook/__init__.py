"""③ rules/*.yaml → the validated, typed model of frameworks, criteria, facts and scales."""

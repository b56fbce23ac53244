"""② The condition language policy staff write (`supervised_bcus == bcus and contact_share >= 1`): parser, type
checker, evaluator, and its lowering to the flat IR both engines run.
"""

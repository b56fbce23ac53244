"""assessor: grade police forces against HMIC specific grading criteria written as YAML rules."""

__version__ = "0.2.0"

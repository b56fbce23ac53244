"""① YAML with positions: documents whose every value knows its file, line and column, and a reader that
checks their shape.
"""

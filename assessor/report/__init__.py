"""⑧ The result document → Markdown, HTML, text or JSON, worded by the templates."""

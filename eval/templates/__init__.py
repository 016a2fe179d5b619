"""Jinja templates of the human-evaluation form and the report."""

"""Evaluation of RedditESS models: metrics (local `evaluate` modules), generation, judging, human evaluation,
linguistic and safety analyses, and a report. Run `python -m eval --help`."""

"""Inspect AI adapter: contract scorer, task and replay solver, plus the replay judge provider."""

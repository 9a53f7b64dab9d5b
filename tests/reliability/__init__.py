"""Reliability suite: hard judge outputs, provider faults, prompt injection, secrets, fuzzing and size."""

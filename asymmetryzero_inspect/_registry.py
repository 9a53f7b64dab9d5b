"""Entry point for Inspect AI: importing this module registers the package's extensions."""

from asymmetryzero_inspect.replay import ReplayModel

__all__ = ["ReplayModel"]

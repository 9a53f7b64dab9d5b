"""Judge prices and the cost of a vote."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input: float
    output: float
    cached_input: float | None = None


class PriceTable:
    """Prices by model name; a key ending in '*' matches any model name with that prefix.

    An unknown model's cost is None, never 0, and is logged once per model.
    """

    def __init__(self, prices: dict[str, Price]):
        self._prices = dict(prices)
        self._warned: set[str] = set()

    @classmethod
    def load(cls, path: str | Path | None = None) -> PriceTable:
        """Read the packaged defaults, overridden by a user YAML file when given."""
        text = resources.files("shared_contract").joinpath("data/prices.yaml").read_text(encoding="utf-8")
        entries = dict(yaml.safe_load(text) or {})
        if path is not None:
            user = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
            if not isinstance(user, dict):
                raise ValueError(f"{path}: expected a mapping of model name to {{input, output}} prices")
            entries.update(user)
        prices = {}
        for model, entry in entries.items():
            try:
                prices[str(model)] = Price(**entry)
            except TypeError as error:
                raise ValueError(f"price of {model!r} must have 'input' and 'output' (and optional 'cached_input'): {error}") from None
        return cls(prices)

    def price(self, model: str) -> Price | None:
        """Return the model's price, or None when the table has none."""
        if model in self._prices:
            return self._prices[model]
        matches = [key for key in self._prices if key.endswith("*") and model.startswith(key[:-1])]
        return self._prices[max(matches, key=len)] if matches else None

    def cost(self, model: str, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0) -> float | None:
        """Return the cost in US dollars, or None when the price is unknown."""
        price = self.price(model)
        if price is None:
            if model not in self._warned:
                self._warned.add(model)
                logger.warning("no price for judge model %r: its cost is reported as unknown (null)", model)
            return None
        cached_rate = price.cached_input if price.cached_input is not None else price.input
        uncached = max(input_tokens - cached_input_tokens, 0)
        return (uncached * price.input + cached_input_tokens * cached_rate + output_tokens * price.output) / 1_000_000

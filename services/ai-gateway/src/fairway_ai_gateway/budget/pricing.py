"""The price table: what a call to each model costs, and the most a call can cost before it is made.

Costs are integer micro-dollars. A price in USD per million tokens is, conveniently, micro-dollars per token.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Framing the provider adds around the text of a request (role markers, system block), in tokens.
REQUEST_OVERHEAD_TOKENS = 64


@dataclass(frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float


class PriceTable:
    def __init__(self, prices: dict[str, tuple[float, float]]) -> None:
        self.prices = {model: Price(*p) for model, p in prices.items()}

    def price(self, model: str) -> Price:
        try:
            return self.prices[model]
        except KeyError:
            raise KeyError(f"no price for model {model!r}: add it to prices_per_mtok") from None

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> int:
        p = self.price(model)
        return math.ceil(input_tokens * p.input_per_mtok + output_tokens * p.output_per_mtok - 1e-9)

    def worst_case(self, model: str, prompt_text: str, max_tokens: int) -> int:
        """An upper bound of the call's cost. A token is at least one byte of UTF-8, so the prompt's byte
        length bounds its token count whatever the tokenizer; the output is bounded by max_tokens."""
        return self.cost(model, len(prompt_text.encode()) + REQUEST_OVERHEAD_TOKENS, max_tokens)


def usd(micros: int) -> float:
    return round(micros / 1_000_000, 6)


def micros(dollars: float) -> int:
    return math.floor(dollars * 1_000_000 + 1e-6)

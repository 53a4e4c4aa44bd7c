"""What a run costs: Anthropic's list prices per model, next to the model names.

Prices are USD per million tokens from Anthropic's pricing page (checked November 2026).
Cache writes are priced by the API's rule, 1.25 times input for the 5-minute cache (the one
Repobox uses) and 2 times input for the 1-hour cache; cache reads have their own column
because newer models discount them more than the usual 0.1 times input. A model missing here
still runs; its cost is reported as unknown rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: the SDK loads where a model is called, not in every process
    from anthropic.types import Usage


CACHE_WRITE_5M = 1.25
CACHE_WRITE_1H = 2.0
PER_TOKEN = 1 / 1_000_000


@dataclass(frozen=True)
class Price:
    input: float
    output: float
    cache_read: float
    long: Price | None = None  # a dearer tier for requests whose prompt exceeds `long_above`
    long_above: int = 0


_OPUS_4_5_TO_5 = Price(5.00, 25.00, 0.50)
_SONNET_4 = Price(3.00, 15.00, 0.30)

PRICES: dict[str, Price] = {
    "claude-fable-5-2": Price(8.00, 40.00, 0.20),
    "claude-mythos-5-2": Price(8.00, 40.00, 0.20),  # Mythos is priced as the Fable it pairs
    "claude-fable-5-1": Price(10.00, 50.00, 0.25),
    "claude-mythos-5-1": Price(10.00, 50.00, 0.25),
    "claude-fable-5": Price(10.00, 50.00, 1.00),
    "claude-mythos-5": Price(10.00, 50.00, 1.00),
    "claude-opus-5-5": Price(4.00, 20.00, 0.20),
    "claude-opus-5": _OPUS_4_5_TO_5,
    "claude-opus-4-8": _OPUS_4_5_TO_5,
    "claude-opus-4-7": _OPUS_4_5_TO_5,
    "claude-opus-4-6": _OPUS_4_5_TO_5,
    "claude-opus-4-5": _OPUS_4_5_TO_5,
    "claude-sonnet-5-5": Price(2.00, 10.00, 0.10),  # cache reads cut from 0.20 on 2026-10-07
    "claude-sonnet-5": Price(2.00, 10.00, 0.20),
    "claude-sonnet-4-6": _SONNET_4,
    "claude-sonnet-4-5": _SONNET_4,
    "claude-haiku-5-5": Price(0.10, 0.50, 0.01, long=Price(0.50, 2.50, 0.05), long_above=100_000),
    "claude-haiku-4-5": Price(1.00, 5.00, 0.10),
}

_DATED = re.compile(r"-\d{8}$")


def price_for(model: str) -> Price | None:
    """The price of `model`, also under its dated name (`claude-haiku-4-5-20251001`)."""
    return PRICES.get(model) or PRICES.get(_DATED.sub("", model))


def turn_cost(model: str, usage: Usage) -> float | None:
    """USD for one response's usage, or None when the model has no price here."""
    price = price_for(model)
    if price is None:
        return None
    cache_read = usage.cache_read_input_tokens or 0
    cache_write = usage.cache_creation_input_tokens or 0
    write_1h = 0
    if usage.cache_creation is not None:
        write_1h = usage.cache_creation.ephemeral_1h_input_tokens or 0
    prompt = usage.input_tokens + cache_read + cache_write
    if price.long is not None and prompt > price.long_above:
        price = price.long
    dollars = (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + cache_read * price.cache_read
        + (cache_write - write_1h) * price.input * CACHE_WRITE_5M
        + write_1h * price.input * CACHE_WRITE_1H
    )
    return dollars * PER_TOKEN

"""The names people may give a model or agent: `sonnet`, `opus`, `haiku`, a full model id the
installed Anthropic SDK knows, or an agent preset (`claude-code`).

Plain names with no behaviour, so settings can check `REPOBOX_COMPARE_DEFAULT` at start-up
and the grammar can check `compare sonet,opus …` at once; what a name runs as is decided
above, in `bot.compare.candidates` and `bot.agents.claude_code`.
"""

from __future__ import annotations

import typing

from anthropic.types import ModelParam

# The newest of each family in the SDK's model list (and in bot/agents/pricing.py).
ALIASES = {
    "sonnet": "claude-sonnet-5-5",
    "opus": "claude-opus-5-5",
    "haiku": "claude-haiku-5-5",
}
PRESETS = frozenset({"claude-code", "claude"})


def sdk_models() -> frozenset[str]:
    """The model ids the installed Anthropic SDK names (its `ModelParam` literal)."""
    names: set[str] = set()
    for part in typing.get_args(ModelParam):
        names.update(a for a in typing.get_args(part) if isinstance(a, str))
    return frozenset(names)


MODELS = sdk_models()


def known(name: str) -> bool:
    word = name.strip().lower()
    return word in ALIASES or word in PRESETS or word in MODELS

"""The names people may give a model or agent: `sonnet`, `opus`, `haiku`, a full model id the
installed Anthropic SDK knows, or an agent preset (`claude-code`).

Plain names with no behaviour, so settings can check `REPOBOX_COMPARE_DEFAULT` at start-up
and the grammar can check `compare sonet,opus …` at once; what a name runs as is decided
above, in `bot.compare.candidates` and `bot.agents.claude_code`.
"""

from __future__ import annotations

import functools
import typing

# The newest of each family in the SDK's model list (and in bot/agents/pricing.py).
ALIASES = {
    "sonnet": "claude-sonnet-5-5",
    "opus": "claude-opus-5-5",
    "haiku": "claude-haiku-5-5",
}
PRESETS = frozenset({"claude-code", "claude"})


@functools.cache
def sdk_models() -> frozenset[str]:
    """The model ids the installed Anthropic SDK names (its `ModelParam` literal).

    Read on first use: importing the SDK takes about a second, which every CLI command,
    worker and web process would otherwise pay at start-up to check `sonnet,opus`."""
    from anthropic.types import ModelParam

    names: set[str] = set()
    for part in typing.get_args(ModelParam):
        names.update(a for a in typing.get_args(part) if isinstance(a, str))
    return frozenset(names)


def known(name: str) -> bool:
    word = name.strip().lower()
    return word in ALIASES or word in PRESETS or word in sdk_models()

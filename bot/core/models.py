"""The names people may give a model or agent: `sonnet`, `opus`, `haiku`, a full model id the
installed Anthropic SDK knows, an agent preset (`claude-code`), or `demo` (no model at all).

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
DEMO = "demo"  # the demo agent: fixed rules on the prompt's words, no account (bot.agents.demo)
DEMO_LABEL = "demo agent (no AI)"  # how it is named wherever it shows
AGENTS = ("anthropic", "command", DEMO)  # what REPOBOX_AGENT may say

# Said wherever an agent cannot start for want of an account, or was set in the wrong place:
# the server's agent is read where `./dev run` starts, never in the terminal of a command.
WHERE_CHOSEN = (
    "The agent is chosen where `./dev run` starts: set it there and restart `./dev run` "
    "(setting it in another terminal changes nothing)."
)
TRY_DEMO = "To try Repobox with no account: `./dev demo` (or `REPOBOX_AGENT=demo ./dev run`)."


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
    return word in ALIASES or word in PRESETS or word == DEMO or word in sdk_models()

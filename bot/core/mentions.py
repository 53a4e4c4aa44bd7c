"""A leading @mention of the bot, in any surface's syntax (`@repobox`, Slack's `<@U123>`).

Every surface strips its own mention before the one grammar (`bot.commands.grammar`) reads
the rest; it lives here, below the grammar, because the forge readers need it too.
"""

from __future__ import annotations


def strip_mention(text: str, names: list[str] | tuple[str, ...]) -> tuple[str, bool]:
    """Remove a leading mention of any of `names` (`@repobox`, `<@U123>`); say if there was one."""
    stripped = text.strip()
    for name in names:
        for form in (f"<@{name}>", f"@{name}"):
            if stripped.lower().startswith(form.lower()):
                rest = stripped[len(form) :]
                if not rest or not (rest[0].isalnum() or rest[0] in "_-"):
                    return rest.lstrip(" \t:,").strip(), True
    return stripped, False

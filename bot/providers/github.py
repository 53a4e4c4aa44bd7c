"""The `github` provider (built in its own issue; until then it says it is not set up)."""

from __future__ import annotations

from bot.config import Settings
from bot.errors import UserError


def build(settings: Settings) -> object:
    del settings
    raise UserError("Github support is not set up on this Repobox yet.")

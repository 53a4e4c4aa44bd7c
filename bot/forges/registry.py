"""Which git host a name means: one dict per interface, filled by normal imports.

A typo or a broken module fails at import, loudly, not when the first comment arrives; and
the host modules import only `base`/`forge`, so nothing here imports itself back.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.config import Settings
from bot.core.errors import UserError
from bot.forges import github, gitlab, local
from bot.forges.forge import Forge
from bot.forges.provider import Provider

PROVIDERS: dict[str, Callable[[Settings], Provider]] = {
    "local": local.build,
    "gitlab": gitlab.build,
    "github": github.build,
}
FORGES: dict[str, Callable[[Settings], Forge]] = {  # hosts with issues and merge requests
    "gitlab": gitlab.build,
    "github": github.build,
}


def for_name(name: str, settings: Settings) -> Provider:
    build = PROVIDERS.get(name)
    if build is None:
        raise UserError(f"`{name}` is not a git host I know (local, gitlab, github).")
    return build(settings)


def forge_for(name: str, settings: Settings) -> Forge:
    build = FORGES.get(name)
    if build is None:
        raise UserError(f"`{name}` is not GitLab or GitHub.")
    return build(settings)

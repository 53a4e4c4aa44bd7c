"""Git hosts behind one interface: `local` (any git remote or path), `gitlab`, `github`.

`bot.repo_spec.parse` turns what a person typed into a `RepoSpec` (provider, project)
without touching the network; `for_name` builds the provider, whose `resolve` (in a job)
asks the host for the clone URL and default branch.
"""

from __future__ import annotations

import importlib

from bot.config import Settings
from bot.errors import UserError
from bot.providers.base import MergeRequest, Provider, Repository

__all__ = ["MergeRequest", "Provider", "Repository", "for_name"]

_MODULES = {
    "local": "bot.providers.local",
    "gitlab": "bot.providers.gitlab",
    "github": "bot.providers.github",
}


def for_name(name: str, settings: Settings) -> Provider:
    module_name = _MODULES.get(name)
    if module_name is None:
        raise UserError(f"`{name}` is not a git host I know (local, gitlab, github).")
    module = importlib.import_module(module_name)
    provider: Provider = module.build(settings)
    return provider

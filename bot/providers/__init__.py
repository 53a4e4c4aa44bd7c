"""Git hosts behind one interface: `local` (any git remote or path), `gitlab`, `github`.

`parse_spec` turns what a person typed into (provider, project) without touching the
network, so the web process can check it in microseconds; `for_name` builds the provider,
whose `resolve` (in a job) asks the host for the clone URL and default branch.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from urllib.parse import urlparse

from bot.config import Settings
from bot.errors import UserError
from bot.providers.base import MergeRequest, Provider, Repository

__all__ = ["MergeRequest", "Provider", "Repository", "for_name", "parse_spec"]

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


def parse_spec(spec: str, settings: Settings) -> tuple[str, str]:
    """(provider, project) for a repo as typed: `group/project`, `github:o/r`, a URL, a path."""
    spec = spec.strip().strip("<>")
    if "|" in spec:  # Slack wraps links as <url|label>
        spec = spec.split("|", 1)[0]
    for prefix in ("gitlab", "github", "local"):
        if spec.startswith(f"{prefix}:") and not spec.startswith(f"{prefix}://"):
            return prefix, spec[len(prefix) + 1 :].strip("/")
    if "://" in spec or spec.startswith("git@"):
        return _provider_for_url(spec, settings)
    if spec.startswith(("/", ".", "~")):
        return "local", str(Path(spec).expanduser())
    if settings.default_provider == "local":
        if Path(spec).exists():
            return "local", str(Path(spec).absolute())
        raise UserError(
            f"I don't know where `{spec}` lives: no GitLab or GitHub is configured.",
            hint="Use a clone URL or a path, or set GITLAB_URL / GITHUB_TOKEN.",
        )
    return settings.default_provider, spec.strip("/")


def _provider_for_url(url: str, settings: Settings) -> tuple[str, str]:
    """A web or clone URL on a configured host goes through that host's API (so shipping opens
    the MR/PR); any other URL is a plain git remote."""
    if "://" not in url:
        return "local", url  # scp-style (git@host:path): a plain remote
    parsed = urlparse(url)
    path = parsed.path.strip("/").removesuffix(".git")
    if settings.gitlab_url:
        gitlab = urlparse(settings.gitlab_url)
        prefix = gitlab.path.strip("/")
        if parsed.hostname == gitlab.hostname and path.startswith(prefix):
            project = path[len(prefix) :].strip("/").split("/-/", 1)[0]
            if "/" in project:
                return "gitlab", project
    if settings.github_token and parsed.hostname in {"github.com", "www.github.com"}:
        parts = path.split("/")
        if len(parts) >= 2:
            return "github", f"{parts[0]}/{parts[1]}"
    return "local", url

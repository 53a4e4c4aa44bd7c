"""What a repository spec is: the one parser that turns what a person typed into a `RepoSpec`.

A spec is data, never a command: it reaches git only as an argument after
`--end-of-options`, and it is held to an allow-list first. Accepted are `group/project` on
the configured host, `gitlab:…`, `github:…`, `https://` and `ssh://` URLs and scp-style
`user@host:path`; refused is anything that starts with `-`, holds whitespace or control
characters, names a transport (`ext::`, `fd::`, …) or carries a password.

Local paths (and `file://`) are for the terminal, where the operator types them. From chat
and webhooks they reach only repositories under `REPOBOX_LOCAL_ROOTS`, and from anywhere
never Repobox's own data dir, judged on the real path (symlinks, `..` and `/proc/self/cwd`
resolved). Parsing touches no network, so the web process answers a bad spec at once.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bot.core.config import Settings
from bot.core.errors import Forbidden, UserError

SPEC_MAX = 500
HOSTED = ("gitlab", "github")
_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
_PROJECT = re.compile(rf"^{_SEGMENT}(?:/{_SEGMENT})+$")
_SCP = re.compile(
    r"^(?P<user>[A-Za-z0-9_][A-Za-z0-9_.-]*)@(?P<host>[A-Za-z0-9][A-Za-z0-9.-]*):(?P<path>[^-].*)$"
)
_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")
_QUOTES = frozenset("<>\"'`\\")
REMOTE_SCHEMES = ("https", "ssh")
EXAMPLES = "Use `group/project`, `github:owner/repo`, or an `https://` or `ssh://` clone URL."


class Reach(StrEnum):
    """Who typed the spec, and so which repositories on this machine it may open."""

    TERMINAL = "terminal"  # the CLI: the operator, who may name any path
    CHAT = "chat"  # Slack, GitLab, GitHub: paths only under REPOBOX_LOCAL_ROOTS

    @classmethod
    def of_surface(cls, surface: str) -> Reach:
        return cls.TERMINAL if surface == "cli" else cls.CHAT


class SpecKind(StrEnum):
    HOSTED = "hosted"  # a project on the configured GitLab or GitHub, cloned by its API's URL
    REMOTE = "remote"  # an https://, ssh:// or scp-style URL that git fetches directly
    PATH = "path"  # a repository on this machine (a path or a file:// URL), as its real path


@dataclass(frozen=True)
class RepoSpec:
    provider: str  # local, gitlab or github
    project: str  # group/project, owner/repo, the remote URL, or the real path
    kind: SpecKind

    def __post_init__(self) -> None:
        if not self.project or self.project.startswith("-"):
            raise ValueError(f"not a project: {self.project!r}")

    @property
    def text(self) -> str:
        """The spec in a form `parse` reads back to the same value (jobs check it again)."""
        return f"{self.provider}:{self.project}" if self.kind is SpecKind.HOSTED else self.project


def canonical(provider: str, project: str) -> str:
    """The text of a stored (provider, project), for `parse` to check again in a job."""
    return f"{provider}:{project}" if provider in HOSTED else project


def parse(spec: str, settings: Settings, reach: Reach) -> RepoSpec:
    """The `RepoSpec` for `spec` as typed, or a `UserError` that says what is wrong with it."""
    text = _unwrap(spec)
    if len(text) > SPEC_MAX or any(_unsafe(ch) for ch in text):
        raise UserError(
            "A repository is one word, without spaces, quotes or control characters.",
            hint=EXAMPLES,
        )
    if text.startswith("-") or "::" in text:
        raise UserError(f"`{text}` is not a repository I can use.", hint=EXAMPLES)
    for prefix in (*HOSTED, "local"):
        if text.startswith(f"{prefix}:") and not text.startswith(f"{prefix}://"):
            rest = text[len(prefix) + 1 :]
            if prefix == "local":
                return _path(rest, settings, reach, typed=text)
            return _hosted(prefix, rest.strip("/"), text)
    if "://" in text:
        return _url(text, settings, reach)
    if _SCP.match(text):
        return RepoSpec("local", text, SpecKind.REMOTE)
    if text.startswith(("/", ".", "~")):
        return _path(text, settings, reach, typed=text)
    if settings.default_provider == "local":  # `group/project` with no host: a relative path?
        return _path(text, settings, reach, typed=text, bare=True)
    return _hosted(settings.default_provider, text.strip("/"), text)


def _unsafe(ch: str) -> bool:
    return ch.isspace() or not ch.isprintable() or ch in _QUOTES


def _unwrap(spec: str) -> str:
    """The spec without Slack's link markup (`<url|label>`) or surrounding space."""
    text = spec.strip().strip("<>")
    return text.split("|", 1)[0] if "|" in text else text


def _hosted(provider: str, project: str, typed: str) -> RepoSpec:
    if not _PROJECT.match(project):
        raise UserError(
            f"`{typed}` is not a project name.",
            hint="Use `group/project`: letters, digits, `.`, `_` and `-`.",
        )
    return RepoSpec(provider, project, SpecKind.HOSTED)


def _url(url: str, settings: Settings, reach: Reach) -> RepoSpec:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise UserError(f"`{url}` is not a URL I can read.", hint=EXAMPLES) from None
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise UserError("A `file://` URL names a path on this machine: `file:///path`.")
        return _path(unquote(parts.path), settings, reach, typed=url)
    if scheme not in (*REMOTE_SCHEMES, "http") or not parts.hostname:
        raise UserError(f"`{url}` is not a repository I can use.", hint=EXAMPLES)
    if parts.password is not None:
        raise UserError(
            "Please don't put a password or token in a repository URL.",
            hint="Repobox uses the tokens in its settings; the URL is stored and shown.",
        )
    hosted = _on_configured_host(parts.hostname, parts.path, settings)
    if hosted is not None:
        return hosted
    if scheme == "http" or not _HOST.match(parts.hostname):
        raise UserError(f"`{url}` is not a repository I can use.", hint=EXAMPLES)
    return RepoSpec("local", url, SpecKind.REMOTE)


def _on_configured_host(hostname: str, path: str, settings: Settings) -> RepoSpec | None:
    """A web or clone URL on a configured host goes through that host's API (so shipping
    opens the MR/PR, and git uses the clone URL the API gives)."""
    path = unquote(path).strip("/").removesuffix(".git")
    if settings.gitlab_url:
        gitlab = urlsplit(settings.gitlab_url)
        prefix = gitlab.path.strip("/")
        if hostname == gitlab.hostname and path.startswith(prefix):
            project = path[len(prefix) :].strip("/").split("/-/", 1)[0]
            if _PROJECT.match(project):
                return RepoSpec("gitlab", project, SpecKind.HOSTED)
    if settings.github_ready and hostname in {"github.com", "www.github.com"}:
        project = "/".join(path.split("/")[:2])
        if _PROJECT.match(project):
            return RepoSpec("github", project, SpecKind.HOSTED)
    return None


def _path(
    raw: str, settings: Settings, reach: Reach, *, typed: str, bare: bool = False
) -> RepoSpec:
    """A repository on this machine, as its real path, if `reach` may open it.

    From chat the place is judged before anything on disk is looked at, so the answer is
    the same whether or not the path exists. `bare`: a name that is a path only because no
    GitLab or GitHub is configured."""
    if raw.startswith("-") or not raw:
        raise UserError(f"`{typed}` is not a repository I can use.", hint=EXAMPLES)
    expanded = os.path.expanduser(raw)
    if expanded.startswith("~"):
        if reach is Reach.CHAT:
            raise _outside_roots(settings)
        raise UserError(f"`{typed}`: there is no such user's home directory here.")
    real = Path(os.path.realpath(expanded))
    if _within(real, Path(os.path.realpath(settings.data_dir))):
        raise Forbidden("Repobox's own data directory is not a repository I open.")
    outside = reach is Reach.CHAT and not any(_within(real, root) for root in _roots(settings))
    if bare and (outside or not real.exists()):
        raise UserError(
            f"I don't know where `{typed}` lives: no GitLab or GitHub is configured.",
            hint="Use a clone URL or a path, or set GITLAB_URL / GITHUB_TOKEN.",
        )
    if outside:
        raise _outside_roots(settings)
    if not real.exists():
        raise UserError(f"`{typed}` does not exist.")
    return RepoSpec("local", str(real), SpecKind.PATH)


def _roots(settings: Settings) -> list[Path]:
    return [Path(os.path.realpath(root)) for root in settings.local_roots]


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _outside_roots(settings: Settings) -> Forbidden:
    where = (
        "under REPOBOX_LOCAL_ROOTS" if settings.local_roots else "(REPOBOX_LOCAL_ROOTS is empty)"
    )
    return Forbidden(
        f"Local paths are for the terminal: from here I only open repositories {where}.",
        hint=EXAMPLES,
    )

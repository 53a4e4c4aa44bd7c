"""A review asked for by its merge request's URL (`/repobox review <url>` in Slack, the
JSON API): which host, project and number the URL names, on the configured hosts only.

Parsing touches no network, so the web process answers a wrong URL at once. The URL is
data: it is matched against the configured hosts and read into a project and a number,
and only those (checked again by their own patterns) travel on to the job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from bot.core.config import Settings
from bot.core.errors import UserError

URL_MAX = 500
_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
_GITHUB_PATH = re.compile(rf"^(?P<project>{_SEGMENT}/{_SEGMENT})/pull/(?P<number>[0-9]{{1,9}})$")
_GITLAB_PATH = re.compile(
    rf"^(?P<project>{_SEGMENT}(?:/{_SEGMENT})+)/-/merge_requests/(?P<number>[0-9]{{1,9}})$"
)
_TAIL = re.compile(r"/(?:files|commits|checks|diffs|pipelines|overview)$")
EXAMPLES = (
    "Use the pull request's or merge request's address, e.g. "
    "`https://github.com/owner/repo/pull/12` or `https://gitlab.example.com/group/project/-/merge_requests/3`."
)


@dataclass(frozen=True)
class AskedReview:
    provider: str  # github or gitlab
    project: str  # owner/repo, group/project
    number: int  # the pull request's number, the merge request's iid
    focus: str | None

    @property
    def label(self) -> str:
        mark = "#" if self.provider == "github" else "!"
        return f"{self.project}{mark}{self.number}"


def split(text: str) -> tuple[str, str | None]:
    """`<url> [focus…]` → the URL and the focus (None when there is none)."""
    words = text.strip().split(maxsplit=1)
    if not words:
        raise UserError("Which merge request? `review <url> [focus…]`.", hint=EXAMPLES)
    focus = words[1].strip() if len(words) > 1 else None
    return words[0], focus or None


def parse(text: str, settings: Settings) -> AskedReview:
    """What `review <url> [focus…]` names, or a `UserError` saying what is wrong."""
    raw, focus = split(text)
    url = raw.strip("<>").split("|", 1)[0]  # Slack's `<url|label>` link markup
    if len(url) > URL_MAX or not url.isprintable():
        raise UserError("That is not a merge request's address.", hint=EXAMPLES)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise UserError("That is not a merge request's address.", hint=EXAMPLES) from None
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.password:
        raise UserError("That is not a merge request's address.", hint=EXAMPLES)
    path = _TAIL.sub("", unquote(parts.path).strip("/"))
    host = (parts.hostname, parts.port)
    if settings.gitlab_url:
        gitlab = urlsplit(settings.gitlab_url)
        prefix = gitlab.path.strip("/")
        if host == (gitlab.hostname, gitlab.port) and path.startswith(prefix):
            found = _GITLAB_PATH.match(path[len(prefix) :].strip("/"))
            if found:
                return AskedReview("gitlab", found["project"], int(found["number"]), focus)
    if settings.github_ready and host in github_hosts(settings):
        found = _GITHUB_PATH.match(path)
        if found:
            return AskedReview("github", found["project"], int(found["number"]), focus)
    raise UserError(
        f"`{url[:120]}` is not a pull request or merge request on a host I work with.",
        hint=EXAMPLES,
    )


def github_hosts(settings: Settings) -> set[tuple[str | None, int | None]]:
    """Where GitHub's web pages live: github.com for the public API, else the API's host
    (GitHub Enterprise Server serves both from one host)."""
    api = urlsplit(settings.github_api_url)
    if api.hostname == "api.github.com":
        return {("github.com", None), ("www.github.com", None)}
    return {(api.hostname, api.port)}

"""A session's places as people read them: the thread it started in, then the merge request it
shipped ("Slack thread", "GitHub PR #12", "GitLab !12", "web"), each with a link when one is
known.

The dashboard's list, the session page and the API show the same places, so they are named
here once. Nothing here calls a platform: a Slack thread links only when the session's record
holds its permalink, and a forge place links to the merge request URL the session stored when
it shipped it. Only http(s) URLs become links; the labels are data, escaped by whoever renders
them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ICONS = {"slack": "slack", "gitlab": "gitlab", "github": "github", "cli": "terminal"}
WORDS = {"slack": "Slack thread", "web": "web", "api": "API", "cli": "terminal"}
FORGES = {"github": ("GitHub", "PR #", "issue #"), "gitlab": ("GitLab", "!", "issue #")}


@dataclass(frozen=True)
class Place:
    surface: str  # slack, github, gitlab, web, api, cli
    label: str  # what a person reads: "GitHub PR #12"
    url: str | None  # an http(s) link, when one is known
    home: bool  # where the session started (else bound later: the MR it shipped)

    @property
    def icon(self) -> str:
        """The place's symbol in the shared icons.svg."""
        return ICONS.get(self.surface, "globe")

    def to_dict(self) -> dict[str, object]:
        return {
            "surface": self.surface,
            "label": self.label,
            "url": self.url,
            "home": self.home,
            "icon": self.icon,
        }


def web_url(url: object) -> str | None:
    """Only http(s) links become hrefs (never `javascript:` from a stored value)."""
    text = str(url) if url else ""
    return text if text.startswith(("https://", "http://")) else None


def label(surface: str, thread_key: str) -> str:
    """The place's words; a forge thread key is `project_id:kind:number`
    (`bot.forges.events.CommentEvent.thread_key`)."""
    forge = FORGES.get(surface)
    if forge is None:
        return WORDS.get(surface, surface[:40] or "unknown")
    name, request, issue = forge
    parts = thread_key.split(":")
    kind, number = (parts[-2], parts[-1]) if len(parts) >= 3 else ("", "")
    if not number.isdigit():
        return name
    return f"{name} {issue if kind == 'issue' else request}{number}"


def places_of(
    surface: str,
    thread_key: str,
    thread_url: str | None,
    merge_request_url: str | None,
    others: Iterable[str],
    *,
    page: str | None = None,
) -> tuple[Place, ...]:
    """Its home thread, then each other place (`surface|thread_key`, `keys.session_places`),
    once. A forge place links to the merge request URL when the numbers match; a web home
    links to `page` (the dashboard's session page)."""
    home_url = web_url(thread_url) or (page if surface in ("web", "api") else None)
    found = [Place(surface, label(surface, thread_key), home_url, True)]
    mr = web_url(merge_request_url)
    for raw in sorted(set(others)):
        where, _, key = raw.partition("|")
        if not key or (where, key) == (surface, thread_key):
            continue
        words = label(where, key)
        number = key.rsplit(":", 1)[-1]
        url = mr if mr and mr.rstrip("/").rsplit("/", 1)[-1] == number else None
        found.append(Place(where, words, url, False))
    return tuple(found)

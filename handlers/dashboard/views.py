"""The dashboard's pages: which template, with which values.

Every page extends the shared layout (handlers/common/ui/templates/base.html); the session
page still reuses the live page's template, with the prompt box and the actions added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web

from bot.core.config import Settings
from bot.doctor.check import Check
from handlers.common.context import WebContext
from handlers.dashboard.html import page
from handlers.dashboard.rows import STATES, Filters, Listing
from handlers.dashboard.setup import Checklist
from handlers.dashboard.viewer import Viewer

ACTIONS = ("ship", "status", "diff", "cancel", "archive")


@dataclass(frozen=True)
class Draft:
    """What a person typed into the start form, shown again when it is refused."""

    repo: str = ""
    base: str = ""
    prompt: str = ""


def welcome(next_steps: Sequence[str]) -> web.Response:
    return page("home.html", steps=next_steps)


def repo_placeholder(settings: Settings, viewer: Viewer) -> str:
    """Offer a path only to whom the dashboard opens one: an admin, under REPOBOX_LOCAL_ROOTS."""
    hosted = "owner/repo or an https:// clone URL"
    if viewer.admin and settings.local_roots:
        return f"{hosted}, or a path"
    return hosted


def repo_hint(roots: Sequence[str], placeholder: str) -> str:
    """Under the repository field: the forms it takes, and where paths may be."""
    where = f" under `{'`, `'.join(roots)}`" if roots and "path" in placeholder else ""
    if where:
        return f"`group/project` on the configured host, a clone URL, or a repository{where}."
    return "`group/project` on the configured host, or an `https://` clone URL."


def dashboard(
    viewer: Viewer,
    *,
    csrf: str,
    message: str | None,
    error: str | None = None,
    listing: Listing,
    filters: Filters,
    draft: Draft,
    choices: Sequence[str],
    placeholder: str,
    settings_roots: Sequence[str],
    bot_name: str,
    status: int = 200,
) -> web.Response:
    return page(
        "dashboard.html",
        status=status,
        viewer=viewer,
        csrf=csrf,
        message=message,
        error=error,
        listing=listing,
        filters=filters,
        states=STATES,
        draft=draft,
        choices=choices,
        placeholder=placeholder,
        hint=repo_hint(settings_roots, placeholder),
        bot_name=bot_name,
    )


def setup(viewer: Viewer, csrf: str, checklist: Checklist) -> web.Response:
    return page("setup.html", viewer=viewer, csrf=csrf, checklist=checklist)


def health(viewer: Viewer, checks: Sequence[Check], csrf: str) -> web.Response:
    return page("health.html", viewer=viewer, checks=checks, csrf=csrf)


def next_steps(ctx: WebContext) -> list[str]:
    """What a newcomer on the embedded default sets up next, in the order it pays off
    (from the settings alone: this page is public, so it names no account or host)."""
    s, steps = ctx.settings, []
    if not (s.anthropic_api_key or s.agent != "anthropic"):
        steps.append(
            "Set `ANTHROPIC_API_KEY` (or pick another agent with `REPOBOX_AGENT`) so sessions "
            "can run. No key yet? `./dev demo` shows the whole flow with no AI."
        )
    if not (s.github_client_id or s.gitlab_client_id):
        steps.append(
            "Create a GitHub or GitLab OAuth app and set `GITHUB_CLIENT_ID`/`GITHUB_CLIENT_SECRET`"
            " or `GITLAB_CLIENT_ID`/`GITLAB_CLIENT_SECRET`, so people sign in as themselves."
        )
    if not (s.gitlab_token or s.github_ready):
        steps.append(
            "Set `GITLAB_URL` and `GITLAB_TOKEN`, or `GITHUB_TOKEN`, to work on hosted "
            "repositories."
        )
    if not s.slack_bot_token:
        steps.append(
            "Install the Slack app (`manifest.yml`) and set `SLACK_BOT_TOKEN` and "
            "`SLACK_SIGNING_SECRET`."
        )
    if not steps:
        steps.append("Everything is configured: sign in and start a session.")
    return steps

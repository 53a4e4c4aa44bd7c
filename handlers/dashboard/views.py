"""The dashboard's HTML: small server-rendered pages, every value escaped.

Shares the account pages' look (handlers/dashboard/auth/pages.py); the session page reuses the
live page's template and script, with the prompt box and the action buttons added.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from urllib.parse import urlencode

from aiohttp import web

from bot.doctor import Check
from bot.sessions.listing import Filters, Row, Scope, SessionPage
from handlers.common.context import WebContext
from handlers.dashboard.auth.pages import HEADERS, e, form, notice, page

ACTIONS = ("ship", "status", "diff", "cancel", "archive")
SESSION_STYLE = (  # the live page's stylesheet knows nothing of forms
    ".dashboard{margin:1rem 20px;max-width:60rem}.dashboard form.inline{display:inline;"
    "margin-right:.4rem}.dashboard textarea{width:100%;max-width:60rem}.dashboard button{"
    "padding:.3rem .8rem}.dashboard .notice{background:#1f2a3a;padding:.6rem;border-radius:4px}"
    ".dashboard a{color:#58a6ff}"
)
LIVE_HEADERS = {  # the live page's script and styles, plus our own forms
    **HEADERS,
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self' "
    "'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
}


def nav(csrf: str, admin: bool) -> str:
    health = ' · <a href="/dashboard/health">Health</a>' if admin else ""
    return (
        '<nav><a href="/dashboard/">Sessions</a> · <a href="/account/settings">Settings</a>'
        f"{health} · {form('/account/signout', csrf, 'Sign out')}</nav>"
    )


def welcome(next_steps: Sequence[str]) -> web.Response:
    steps = "".join(f"<li>{step}</li>" for step in next_steps)  # trusted, written below
    body = (
        "<p>Repobox runs coding sessions for you from Slack, GitLab, GitHub, the terminal "
        "and this dashboard.</p>"
        '<p><a href="/account/signin"><strong>Sign in</strong></a> to see and start sessions. '
        "Without an OAuth app, run <code>python app.py login</code> on the machine (the link "
        "it prints works once, for ten minutes); <code>python app.py</code> prints one at "
        "start-up.</p>"
        f"<h2>What to configure next</h2><ul>{steps}</ul>"
        "<p><code>python app.py doctor</code> checks each integration.</p>"
    )
    return page("Repobox", body)


def _row(row: Row) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(row.last_activity))
    mr = f'<a href="{e(row.merge_request_url)}">MR/PR</a>' if row.merge_request_url else ""
    return (
        f"<tr><td>{e(row.repository.name)} <small>{e(row.repository.kind)}</small></td>"
        f'<td><a href="/dashboard/sessions/{e(row.id)}">{e(row.title or row.id)}</a></td>'
        f'<td class="state">{e(row.state)}</td><td>{e(row.surface)}</td><td>{e(row.who)}</td>'
        f"<td>{e(when)}</td><td>{mr}</td></tr>"
    )


def _filters(listed: SessionPage, filters: Filters, admin: bool) -> str:
    """The list's filters, a GET form (no CSRF: it changes nothing)."""

    def options(pairs: Iterable[tuple[str, str]], chosen: str) -> str:
        return "".join(
            f'<option value="{e(v)}"{" selected" if v == chosen else ""}>{e(label)}</option>'
            for v, label in pairs
        )

    states = [("", "open"), *((s, s) for s in listed.states)]
    repos = [("", "all"), *((r.key, r.name) for r in listed.repositories)]
    state = filters.state.value if filters.state else ""
    fields = (
        f'<label>State <select name="state">{options(states, state)}</select></label> '
        f'<label>Project <select name="repo">{options(repos, filters.repository or "")}'
        "</select></label> "
    )
    if admin:
        scopes = [("mine", "mine"), ("everyone", "everyone")]
        fields += (
            f'<label>Whose <select name="scope">{options(scopes, filters.scope.value)}'
            "</select></label> "
        )
    return f'<form method="get" action="/dashboard/">{fields}<button>Show</button></form>'


def sessions_list(
    listed: SessionPage,
    filters: Filters,
    *,
    csrf: str,
    admin: bool,
    message: str | None,
    repos: Sequence[str],
) -> web.Response:
    head = (
        "<tr><th>Repository</th><th>Session</th><th>State</th><th>From</th><th>Started by</th>"
        "<th>Active</th><th>MR/PR</th></tr>"
    )
    table = (
        f"<table><thead>{head}</thead><tbody>{''.join(_row(r) for r in listed.rows)}"
        "</tbody></table>"
        if listed.rows
        else "<p>No sessions here yet: start one below, or mention @repobox in Slack or in "
        "a GitLab or GitHub comment.</p>"
    )
    pager = ""
    if listed.next_cursor:
        query = {
            "state": filters.state.value if filters.state else "",
            "repo": filters.repository or "",
            "scope": filters.scope.value,
            "after": listed.next_cursor,
        }
        pager = f'<a href="/dashboard/?{e(urlencode(query))}">Older</a>'
    if filters.cursor:
        pager = '<a href="/dashboard/">Newest</a> ' + pager
    options = "".join(f'<option value="{e(repo)}">' for repo in repos)
    start = form(
        "/dashboard/start",
        csrf,
        "Start session",
        '<p><label>Repository <input name="repo" list="repos" required size="40" '
        'placeholder="group/project, https://… or a path"></label>'
        f'<datalist id="repos">{options}</datalist></p>'
        '<p><label>Base branch <input name="base" placeholder="default branch"></label></p>'
        '<p><label>First prompt<br><textarea name="prompt" rows="4" cols="60"></textarea>'
        "</label></p>",
        css="start",
    )
    whose = "Everyone's sessions" if filters.scope is Scope.EVERYONE else "Your sessions"
    body = (
        nav(csrf, admin)
        + notice(message)
        + f"<h2>Start a session</h2>{start}<h2>{whose}</h2>{_filters(listed, filters, admin)}"
        + f"{table}<p>{pager}</p>"
    )
    return page("Dashboard", body)


def session_forms(session_id: str, csrf: str, admin: bool, message: str | None) -> str:
    base = f"/dashboard/sessions/{session_id}"
    prompt = form(
        f"{base}/prompt",
        csrf,
        "Send",
        '<label>Prompt<br><textarea name="prompt" rows="3" cols="60" required></textarea>'
        "</label><br>",
        css="prompt",
    )
    buttons = " ".join(form(f"{base}/{action}", csrf, action.title()) for action in ACTIONS)
    return (
        f'<style>{SESSION_STYLE}</style><section class="dashboard">'
        f"{nav(csrf, admin)}{notice(message)}{prompt}<div>{buttons}</div></section>"
    )


def health(checks: Iterable[Check], csrf: str) -> web.Response:
    rows = "".join(
        f'<tr><td>{e(check.name)}</td><td class="{"ok" if check.ok else "fail"}">'
        f"{'ok' if check.ok and check.configured else ('not set up' if check.ok else 'FAIL')}"
        f"</td><td>{e(check.detail)}</td></tr>"
        for check in checks
    )
    body = (
        nav(csrf, True) + "<p>The same checks <code>python app.py doctor</code> prints.</p>"
        f"<table><thead><tr><th>Integration</th><th></th><th>Found</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
    return page("Health", body)


def next_steps(ctx: WebContext) -> list[str]:
    """What a newcomer on the embedded default sets up next, in the order it pays off."""
    s, steps = ctx.settings, []
    if not (s.anthropic_api_key or s.agent != "anthropic"):
        steps.append(
            "Set <code>ANTHROPIC_API_KEY</code> (or pick another agent with "
            "<code>REPOBOX_AGENT</code>) so sessions can run."
        )
    if not (s.github_client_id or s.gitlab_client_id):
        steps.append(
            "Create a GitHub or GitLab OAuth app and set <code>GITHUB_CLIENT_ID</code>"
            "/<code>_SECRET</code> or <code>GITLAB_CLIENT_ID</code>/<code>_SECRET</code>"
            " so people sign in with their own accounts."
        )
    if not (s.gitlab_token or s.github_token):
        steps.append(
            "Set <code>GITLAB_URL</code> + <code>GITLAB_TOKEN</code> or "
            "<code>GITHUB_TOKEN</code> to work on hosted repositories."
        )
    if not s.slack_bot_token:
        steps.append(
            "Install the Slack app (<code>manifest.yml</code>) and set "
            "<code>SLACK_BOT_TOKEN</code> and <code>SLACK_SIGNING_SECRET</code>."
        )
    if not steps:
        steps.append("Everything is configured: sign in and start a session.")
    return steps

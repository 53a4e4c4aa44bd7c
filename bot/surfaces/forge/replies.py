"""The one-off answers on GitLab and GitHub: help, status, diff, refusals (markdown)."""

from __future__ import annotations

from typing import Any

from bot.commands.service import Status

MAX_PATCH = 50_000  # GitHub refuses comments over 65,536 characters

HELP = """\
I run a coding agent on this project's code and open the merge request when you are happy.
Mention me in a comment on an issue or a merge request:

- `@{name} <what to change>` start a session here (or send the next prompt to it)
- `@{name} ship it` push the work branch and open the merge request (on a merge request: \
push to its branch)
- `@{name} ship it anyway` ship although a required check fails (the description says who)
- `@{name} fix the checks` hand the failing checks to the agent
- `@{name} undo` take back the last prompt's changes (a revert commit once pushed)
- `@{name} status` · `@{name} diff` · `@{name} cancel` · `@{name} archive` · `@{name} help`
- `@{name} log` a fresh link to the session's live log page (links expire after 7 days)
- `@{name} whoami` who I take you for, and the co-author line your prompts' commits carry

`new` and `link` are for Slack and the terminal: here the session is this conversation's, \
on this project.

Only people who may push to this project can drive me."""


def help_text(name: str) -> str:
    return HELP.format(name=name)


def refusal(host: str) -> str:
    if host == "github":
        return "Sorry, only people with write access to this repository can ask me for changes."
    return (
        "Sorry, only people with Developer access or more to this project can ask me for changes."
    )


def no_session(name: str) -> str:
    return f"There is no session here yet. Tell me what to change first: `@{name} <prompt>`."


def status_text(status: Status) -> str:
    session = status.session
    lines = [
        f"**Session `{session.id}`** on `{session.project}` · branch `{session.work_branch}` · "
        f"{session.state.value}" + (f" · model `{status.model}`" if status.model else "")
    ]
    if session.merge_request:
        lines.append(f"Merge request: {session.merge_request.url}")
    if status.running is not None:
        lines.append(
            f"Running: {_first_line(status.running.text)} (for {status.running.author.name})"
        )
    for place, prompt in enumerate(status.waiting, start=1):
        lines.append(f"{place}. waiting: {_first_line(prompt.text)}")
    done = sum(1 for p in status.history if p.state.value == "done")
    lines.append(f"{done} of {len(status.history)} prompts done.")
    return lines[0] + "\n\n" + "\n".join(lines[1:])


def diff_text(diff: dict[str, Any]) -> str:
    stat = diff.get("stat")
    if not stat or not stat.get("files"):
        return "No changes yet."
    lines = [f"**{stat['summary']}**", ""]
    lines += [f"- `{f['path']}` (+{f['added']} −{f['removed']})" for f in stat["files"][:50]]
    patch = str(diff.get("patch") or "")
    if patch:
        cut = len(patch) > MAX_PATCH or diff.get("truncated")
        fence = "````"
        lines += ["", "<details><summary>Patch</summary>", "", f"{fence}diff", patch[:MAX_PATCH]]
        lines += [fence, "", "(cut short)" if cut else "", "</details>"]
    return "\n".join(lines)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 100 else line[:99] + "…"

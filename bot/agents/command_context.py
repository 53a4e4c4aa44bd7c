"""How a `command` agent learns where a prompt came from: `session.context`, `prompt.origin`.

(The built-in agent puts the same into its system prompt: `bot.agents.context`.)

Both are written as JSON next to the workdir's git data (`.git/repobox/context.json`,
never committed); a `command` agent finds it in `REPOBOX_CONTEXT_FILE`. They are also
rendered as a Markdown preamble before the prompt, for agents that read only the prompt
(Claude Code). Every piece of other people's text in the preamble is quoted, so it reads
as material to weigh, and a line of it can never pass for part of the request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from bot.agents.attachments import prompt_note
from bot.agents.base import RunRequest
from bot.sessions.origin import ForgeOrigin, Origin, origin_to_dict
from bot.sessions.quote import Quote
from bot.sessions.thread_context import ThreadContext

PREAMBLE_LIMIT = 40_000  # other people's words: enough to brief, not to drown the request
CONTEXT_FILE = Path(".git") / "repobox" / "context.json"
PROMPT_FILE = Path(".git") / "repobox" / "prompt.txt"


def has_context(request: RunRequest) -> bool:
    return bool(request.session.context or request.session.instructions or request.origin)


def write_context_file(request: RunRequest) -> Path | None:
    """The JSON file with the session's context and the prompt's origin (None: nothing)."""
    path = request.workdir / CONTEXT_FILE
    if not has_context(request) or not path.parent.parent.is_dir():
        path.unlink(missing_ok=True)  # a pooled workdir may hold an earlier session's file
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "session": {
            "id": request.session.id,
            "project": request.session.project,
            "work_branch": request.session.work_branch,
            "base_branch": request.session.base_branch,
        },
        "context": _context_dict(request),
        "origin": origin_to_dict(request.origin),
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
    return path


def write_prompt_file(request: RunRequest) -> Path | None:
    """The person's own words, for `REPOBOX_PROMPT_FILE` (None: the workdir has no .git
    folder to keep it in). Inside the session's workdir, where the sandbox shows it
    read-only, never committed, and removed when the run ends (`remove_prompt_file`)."""
    path = request.workdir / PROMPT_FILE
    if not path.parent.parent.is_dir():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(request.prompt)
    return path


def remove_prompt_file(request: RunRequest) -> None:
    (request.workdir / PROMPT_FILE).unlink(missing_ok=True)


def _context_dict(request: RunRequest) -> dict[str, object]:
    """The thread's context with the instruction files beside it (the agreed shape)."""
    context = request.session.context
    out: dict[str, object] = context.to_dict() if context is not None else {}
    if request.session.instructions is not None:
        out["instructions"] = dict(request.session.instructions)
    return out


def _quote(text: str) -> list[str]:
    return [f"> {line}".rstrip() for line in text.strip().splitlines()] or [">"]


def _said(items: Iterable[Quote]) -> list[str]:
    lines: list[str] = []
    for item in items:
        lines += [*_quote(f"**{item.author}**: {item.body}"), ""]
    return lines


def render_preamble(
    context: ThreadContext | None,
    origin: Origin | None,
    instructions: Mapping[str, str] | None = None,
) -> str:
    """The context as Markdown, other people's words quoted; empty when there is none."""
    lines: list[str] = []
    if context is not None:
        lines += [f"## The {context.noun} ({context.url})", ""]
        lines += [*_quote(f"**{context.title}**\n\n{context.body}"), ""]
        if context.comments:
            lines += ["## Earlier comments", "", *_said(context.comments)]
    for path, text in (instructions or {}).items():
        lines += [f"## Instructions from `{path}` (target branch)", "", *_quote(text), ""]
    if isinstance(origin, ForgeOrigin):
        lines += ["## The comment that asked for this", "", *_said([origin.comment.quote])]
        review = origin.review
        if review is not None:
            lines += [f"## It is a review comment on `{review.path}` line {review.line}", ""]
            if review.diff_hunk:
                lines += [*_quote(f"```diff\n{review.diff_hunk}\n```"), ""]
            lines += _said(review.discussion)
    text = "\n".join(lines).strip()
    if len(text) > PREAMBLE_LIMIT:
        text = text[:PREAMBLE_LIMIT] + "\n> … (cut short)"
    return f"# Context\n\n{text}" if text else ""


HISTORY_LIMIT = 20_000


def render_history(request: RunRequest) -> str:
    """The session's earlier prompts and what came of them, for a conversation started
    afresh (Claude Code's own transcript was lost, e.g. after a move to another host)."""
    lines: list[str] = []
    for earlier in request.history:
        lines += _said([Quote(earlier.author.name, earlier.text)])
        if earlier.summary:
            lines += [f"Result: {earlier.summary.strip()}", ""]
    text = "\n".join(lines).strip()
    if len(text) > HISTORY_LIMIT:
        text = "> … (earlier prompts left out)\n" + text[-HISTORY_LIMIT:]
    return f"## Earlier in this session\n\n{text}" if text else ""


def prompt_with_context(request: RunRequest, *, with_history: bool = False) -> str:
    """The prompt with its context preamble (and, when asked, the session's history)."""
    session = request.session
    parts = [render_preamble(session.context, request.origin, session.instructions)]
    if with_history and (history := render_history(request)):
        parts.append(history if parts[0] else f"# Context\n\n{history}")
    parts.append(prompt_note(request.attachments, request.workdir))
    preamble = "\n\n".join(p for p in parts if p)
    return f"{preamble}\n\n# Request\n\n{request.prompt}" if preamble else request.prompt

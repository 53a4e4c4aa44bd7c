"""Claude Code's tool calls as a person would say them: `read src/app.py`, `ran pytest -q`.

The names and inputs are those of Claude Code 2.1 (its `sdk-tools.d.ts`). A tool this
table does not know, an MCP tool included, is still shown readably: its name and its
first few arguments as `key=value`, never as JSON. So is a known tool whose input is not
of the shape its schema says (a count that is not a number, a list that is not a list).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.agents.text import short

Args = Mapping[str, object]  # a tool's input as Claude Code printed it


def _path(args: Args) -> str:
    return short(args.get("file_path") or args.get("notebook_path") or args.get("path") or "")


def _number(value: object) -> int:
    """`int(value)` for a JSON value; `TypeError` for one that has no number in it."""
    if isinstance(value, int | float | str):
        return int(value)
    raise TypeError(f"not a number: {value!r}")


def _items(value: object) -> list[object]:
    """The entries of a JSON list (or string, or object); `TypeError` for a scalar."""
    if isinstance(value, list | str | dict):
        return list(value)
    raise TypeError(f"not a list: {value!r}")


def _read(args: Args) -> str:
    start, count = args.get("offset"), args.get("limit")
    where = f" (lines {start or 1}–{_number(start or 1) + _number(count) - 1})" if count else ""
    return f"read {_path(args)}{where}"


def _edit(args: Args) -> str:
    return f"edited {_path(args)}" + (" (every match)" if args.get("replace_all") else "")


def _bash(args: Args) -> str:
    background = " in the background" if args.get("run_in_background") else ""
    return f"ran `{short(args.get('command', ''))}`{background}"


def _search(args: Args) -> str:
    where = f" in {short(args['path'], 40)}" if args.get("path") else ""
    return f"searched for `{short(args.get('pattern', ''))}`{where}"


def _agent(args: Args) -> str:
    kind = f" ({args['subagent_type']})" if args.get("subagent_type") else ""
    return f"started a sub-agent{kind}: {short(args.get('description', ''))}"


def _task_update(args: Args) -> str:
    status = args.get("status")
    what = short(args.get("subject") or f"task {args.get('taskId', '?')}", 60)
    return f"marked {what} {status}" if status else f"updated {what}"


def _todos(args: Args) -> str:
    todos = _items(args.get("todos") or [])
    done = sum(1 for t in todos if isinstance(t, dict) and t.get("status") == "completed")
    return f"updated the plan ({done}/{len(todos)} done)"


def _findings(args: Args) -> str:
    findings = _items(args.get("findings") or [])
    return f"reported {len(findings)} finding{'s' if len(findings) != 1 else ''}"


DESCRIBE: dict[str, Callable[[Args], str]] = {
    "Read": _read,
    "Write": lambda a: f"wrote {_path(a)}",
    "Edit": _edit,
    "MultiEdit": _edit,
    "NotebookEdit": lambda a: f"edited {_path(a)}",
    "Bash": _bash,
    "Monitor": lambda a: f"watched {short(a.get('description') or a.get('command') or '')}",
    "REPL": lambda a: f"ran code: {short(a.get('description') or a.get('code') or '')}",
    "Grep": _search,
    "Glob": lambda a: f"listed {short(a.get('pattern') or '.')}",
    "WebFetch": lambda a: f"fetched {short(a.get('url', ''))}",
    "WebSearch": lambda a: f"searched the web for `{short(a.get('query', ''))}`",
    "Agent": _agent,
    "Task": _agent,
    "SendMessage": lambda a: f"messaged agent {short(a.get('to', ''), 40)}",
    "TaskCreate": lambda a: f"planned: {short(a.get('subject', ''))}",
    "TaskUpdate": _task_update,
    "TaskGet": lambda a: f"looked at task {a.get('taskId', '?')}",
    "TaskList": lambda a: "listed the tasks",
    "TaskOutput": lambda a: f"read the output of task {a.get('task_id', '?')}",
    "TaskStop": lambda a: f"stopped task {a.get('task_id') or a.get('shell_id') or '?'}",
    "TodoWrite": _todos,
    "Skill": lambda a: f"used the skill {short(a.get('skill') or a.get('name') or '?', 60)}",
    "Workflow": lambda a: f"ran the workflow {short(a.get('name') or a.get('title') or '')}",
    "ReportFindings": _findings,
    "EnterPlanMode": lambda a: "started planning",
    "ExitPlanMode": lambda a: "finished the plan",
    "EnterWorktree": lambda a: f"entered a worktree {short(a.get('name') or '', 40)}".strip(),
    "ExitWorktree": lambda a: f"left the worktree ({a.get('action', 'keep')})",
    "CronCreate": lambda a: f"scheduled `{short(a.get('cron', ''), 30)}`",
    "CronDelete": lambda a: f"unscheduled {a.get('id', '?')}",
    "CronList": lambda a: "listed the schedules",
    "ScheduleWakeup": lambda a: f"asked to wake up in {a.get('delaySeconds', '?')} s",
    "AskUserQuestion": lambda a: "asked a question (nobody can answer in headless mode)",
}


def describe_tool(name: str, args: Args) -> str:
    """One short line for a tool call; unknown tools get their name and arguments."""
    describe = DESCRIBE.get(name)
    if describe is not None:
        try:
            return describe(args)
        except (TypeError, ValueError):  # an input shaped unlike the schema: fall through
            pass
    if name.startswith("mcp__"):
        server, _, tool = name.removeprefix("mcp__").partition("__")
        name = f"{tool} ({server})" if tool else server
    return f"used {name}" + (f": {arguments(args)}" if args else "")


def arguments(values: Args, limit: int = 120) -> str:
    """`key=value, …` for the scalar values of a dict, cut to `limit` characters."""
    parts = []
    for key, value in values.items():
        if isinstance(value, str | int | float | bool) and value != "":
            parts.append(f"{key}={short(value, 40)}")
        elif isinstance(value, list | dict) and value:
            parts.append(f"{key}=[{len(value)}]" if isinstance(value, list) else f"{key}={{…}}")
    return short(", ".join(parts), limit)

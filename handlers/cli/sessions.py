"""The command-line surface: `./dev session …`, talking to a running Repobox's Redis.

Every error is one clear line on stderr and a non-zero exit. `new`, `ship` and `watch`
follow the session's progress stream live (`follow`); `output` prints what they show.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import uuid
from collections.abc import Callable
from typing import TextIO, assert_never

from redis.exceptions import RedisError

from bot.commands.blocking import BlockingService
from bot.commands.executor import (
    Archived,
    Asker,
    CancelReply,
    DiffReply,
    Executor,
    HelpReply,
    LogLink,
    Queued,
    Reply,
    StatusReply,
    WhoAmI,
    needs_session,
)
from bot.commands.grammar import HELP_TEXT, Command, CommandKind, parse
from bot.core.config import Settings
from bot.core.errors import UserError
from bot.core.health import RedisHealth, refuses_writes
from bot.core.redisio import connect, locate
from bot.git.branches import require_branch
from bot.sessions.origin import CliOrigin
from bot.sessions.prompts import Submitted
from bot.sessions.session import Person, Session, SessionState, Thread
from handlers.cli.arguments import CliParser
from handlers.cli.follow import follow_prompt, wait_settled, watch
from handlers.cli.output import closed_pipe, print_cancel, print_diff, print_status
from handlers.cli.redis_trouble import READ_ONLY, REFUSING_HINT, health, unreachable
from jobs.session_jobs import SESSION_JOBS

STDIN_HELP = "a lone `-` reads it from stdin, for a long one"
FOLLOWERS = frozenset({"watch"})  # wait out a Redis outage at the start too (redis_trouble)
PAGE = 50


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    session = subparsers.add_parser("session", help="start and drive sessions from the terminal")
    commands = session.add_subparsers(
        dest="session_command", required=True, metavar="COMMAND", parser_class=CliParser
    )

    new = commands.add_parser("new", help="start a session on a repository")
    new.add_argument("repo", help="a path, a clone URL, group/project or github:owner/repo")
    new.add_argument("--base", help="the branch to start from (default: the repository's default)")
    new.add_argument("prompt", nargs="*", help=f"the first prompt (optional; {STDIN_HELP})")
    new.add_argument("--watch", action="store_true", help="follow the first prompt's run")
    new.add_argument(
        "--model", help="the model or agent its runs use (sonnet, opus, claude-code, …)"
    )

    prompt = commands.add_parser("prompt", help="send the next prompt to a session")
    prompt.add_argument("id")
    prompt.add_argument("text", nargs="+", help=f"the prompt or chat command ({STDIN_HELP})")
    prompt.add_argument("--watch", action="store_true", help="follow the run until it ends")

    compare = commands.add_parser(
        "compare", help="run one prompt on several models or agents side by side"
    )
    compare.add_argument("id")
    compare.add_argument(
        "--models",
        help="comma-separated candidates: sonnet, opus, haiku, a model id, claude-code "
        "(default: REPOBOX_COMPARE_DEFAULT)",
    )
    compare.add_argument("text", nargs="+", help=f"the prompt ({STDIN_HELP})")
    compare.add_argument("--watch", action="store_true", help="follow the comparison")
    pick = commands.add_parser("pick", help="adopt candidate N of the last comparison")
    pick.add_argument("id")
    pick.add_argument("number", type=int)

    for name, text in (
        ("ship", "push the work branch and open or update the merge request"),
        ("status", "show the session's state, run and queue"),
        ("watch", "follow the session's progress live until the run ends"),
        ("cancel", "stop the running prompt and drop queued ones"),
        ("archive", "close the session and remove its workdir"),
        ("diff", "show the session's changes as of its last checkpoint"),
        ("log", "print the signed link to the session's live log page"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("id")
    commands.add_parser("whoami", help="who Repobox takes you for (the commits' co-author)")
    listing = commands.add_parser("list", help="list sessions, most recent first")
    listing.add_argument("--all", action="store_true", help="include archived sessions")
    listing.add_argument("--page", type=int, default=1, help=f"which page of {PAGE} to show")


def main(args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout) -> int:
    try:
        service = BlockingService(settings, connect(locate(settings)), SESSION_JOBS)
        found = health(service, patient=args.session_command in FOLLOWERS)
        if found is RedisHealth.UNREACHABLE:
            raise unreachable(settings)
        if found is RedisHealth.REFUSES_WRITES and args.session_command not in READ_ONLY:
            raise UserError(found.message, hint=REFUSING_HINT)
        code = COMMANDS[args.session_command](service, args, out)
        out.flush()  # here, so a reader that went away (`| head`) is caught below
        return code
    except BrokenPipeError:
        return closed_pipe(out)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except RedisError as error:
        message = RedisHealth.REFUSES_WRITES if refuses_writes(error) else None
        text = message.message if message else str(unreachable(settings))
        print(f"error: {text}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if _following(args):
            print(f"\n{stopped_watching(getattr(args, 'id', None))}", file=sys.stderr)
        return 130


def stopped_watching(session_id: str | None) -> str:
    """Ctrl-C in `watch` stops only the watching: say so, and how to follow again."""
    again = (
        f"`./dev session watch {session_id}`"
        if session_id
        else "`./dev session list`, then `./dev session watch ID`,"
    )
    return f"stopped watching; the run goes on — {again} to follow it again"


def _following(args: argparse.Namespace) -> bool:
    """Whether Ctrl-C stopped only the watching (the session's work goes on without us)."""
    return args.session_command in ("watch", "ship") or bool(getattr(args, "watch", False))


def _person() -> Person:
    user = getpass.getuser()
    return Person(id=user, name=user)


def _typed(words: list[str]) -> list[str]:
    """The words as typed, or, for a lone `-`, the prompt read from stdin: a prompt longer
    than one command-line argument may be (128 KiB on Linux) still reaches Repobox whole."""
    if words != ["-"]:
        return words
    text = sys.stdin.read()
    if not text.strip():
        raise UserError("The prompt read from stdin is empty.")
    return [text]


def _new(service: BlockingService, args: argparse.Namespace, out: TextIO) -> int:
    """`new <repo> [@<base>] [prompt…]`, parsed as chat parses it (`--base` is `@<base>`)."""
    base = [f"@{require_branch(args.base)}"] if args.base else []  # the flag's own message
    # The repository argument is taken whole (a path may hold spaces); the rest is chat's.
    command = parse(" ".join(["new", ".", *base, *_typed(args.prompt)]))
    started = service.run(  # a "cli" thread: the operator's paths are theirs to open
        lambda commands: commands.start(
            repo=args.repo,
            base=command.base,
            prompt=command.prompt,
            thread=Thread("cli", uuid.uuid4().hex),
            person=_person(),
            request_id=uuid.uuid4().hex,
            model=args.model,
        )
    )
    args.id = started.session.id  # for the Ctrl-C line
    session = wait_settled(service, started.session.id)
    if session.state is SessionState.FAILED:  # a refused start leaves no session behind
        service.run(lambda commands: commands.discard(session, _person()))
        raise UserError(session.error or "The session could not be set up.")
    print(
        f"session {session.id} ready: {session.work_branch} from {session.base_branch}"
        f" ({session.workdir})",
        file=out,
    )
    if started.submitted is not None:
        return _after_submit(service, session, started.submitted, args.watch, out)
    return 0


def _prompt(service: BlockingService, args: argparse.Namespace, out: TextIO) -> int:
    """Whatever is typed is read as in a chat thread: `prompt ID ship it` ships."""
    text = " ".join(_typed(args.text))
    command = (
        parse(text) if text.strip() else Command(CommandKind.PROMPT, prompt=text)
    )  # said below
    return _execute(service, command, args, out)


def _compare(service: BlockingService, args: argparse.Namespace, out: TextIO) -> int:
    """`compare ID [--models a,b] prompt…`: sugar for typing `compare a,b prompt…`."""
    models = [args.models] if args.models else []
    command = parse(" ".join(["compare", *models, *_typed(args.text)]))
    if args.models and not command.candidates:
        raise UserError(f"`{args.models}` names no model or agent I can compare.")
    return _execute(service, command, args, out)


def _pick(service: BlockingService, args: argparse.Namespace, out: TextIO) -> int:
    if args.number < 1:
        raise UserError("Candidates are numbered from 1.", hint="For example `pick 1`.")
    return _execute(service, parse(f"pick {args.number}"), args, out)


def _session_command(service: BlockingService, args: argparse.Namespace, out: TextIO) -> int:
    """`ship`, `status`, `cancel`, `archive`, `diff` and `whoami`: the chat command itself."""
    return _execute(service, Command(CommandKind(args.session_command)), args, out)


def _execute(
    service: BlockingService, command: Command, args: argparse.Namespace, out: TextIO
) -> int:
    session = service.sessions.get(args.id) if needs_session(command) else None
    asker = Asker(_person(), uuid.uuid4().hex, CliOrigin(_person().id))
    reply = service.run(lambda commands: Executor(commands).execute(command, session, asker))
    return _show(service, reply, bool(getattr(args, "watch", False)), out)


def _show(service: BlockingService, reply: Reply, watch: bool, out: TextIO) -> int:
    """The CLI's renderer of the executor's replies (exit status: 0 unless a run failed)."""
    match reply:
        case Queued(submitted, ship=True):
            return follow_prompt(service, submitted.prompt.session_id, submitted.prompt.id, out)
        case Queued(submitted):
            session = service.sessions.get(submitted.prompt.session_id)
            return _after_submit(service, session, submitted, watch, out)
        case StatusReply(status):
            print_status(service.settings, status, out)
        case DiffReply(_, diff):
            print_diff(diff, out)
        case CancelReply() as cancel:
            print_cancel(cancel, out)
        case Archived(session):
            print(f"session {session.id} archived; its workdir will be removed", file=out)
        case HelpReply():
            print(HELP_TEXT.replace("*", "").replace("`", "").replace("• ", "  "), file=out)
        case WhoAmI(person, acting):
            print(f"{person.id} ({person.name}); commits carry {person.co_author}", file=out)
            if acting:
                print(acting, file=out)
        case LogLink(_, url):
            print(url, file=out)
        case _:
            assert_never(reply)
    return 0


def _after_submit(
    service: BlockingService, session: Session, submitted: Submitted, watch: bool, out: TextIO
) -> int:
    place = (
        f"position {submitted.position} in the queue" if submitted.position > 1 else "next to run"
    )
    print(f"prompt {submitted.prompt.seq} queued ({place})", file=out)
    if watch:
        return follow_prompt(service, session.id, submitted.prompt.id, out)
    return 0


def _list(service: BlockingService, args: argparse.Namespace, out: TextIO) -> int:
    """One page: open sessions by last activity, then (with --all) archived ones."""
    store = service.sessions
    page = max(1, args.page)
    start = (page - 1) * PAGE
    open_total = store.count(archived=False)
    total = open_total + (store.count(archived=True) if args.all else 0)
    sessions = store.page(archived=False, start=start, count=PAGE) if start < open_total else []
    if args.all and len(sessions) < PAGE:
        skip = max(0, start - open_total)
        sessions += store.page(archived=True, start=skip, count=PAGE - len(sessions))
    if not sessions:
        print("no sessions" if page == 1 else f"no sessions on page {page}", file=out)
    for s in sessions:
        print(f"{s.id}  {s.state.value:<12} {s.project}  {s.work_branch}", file=out)
    if total > start + PAGE:
        more = total - start - PAGE
        print(f"… {more} more: `./dev session list --page {page + 1}`", file=out)
    return 0


COMMANDS: dict[str, Callable[[BlockingService, argparse.Namespace, TextIO], int]] = {
    "new": _new,
    "prompt": _prompt,
    "list": _list,
    "watch": watch,
    "compare": _compare,
    "pick": _pick,
    **{name: _session_command for name in ("ship", "status", "cancel", "archive", "diff", "log")},
    "whoami": _session_command,
}

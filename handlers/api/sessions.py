"""What each session operation does: the same service and executor as every other surface,
with an `ApiOrigin`, and the dashboard's rules for who may start what.

A session the caller may not see is a 404, as if it did not exist; the chat surfaces'
refusals (`UserError`s) become problem documents in `handlers.api.problems`.
"""

from __future__ import annotations

import uuid

from bot.commands.executor import Archived, Asker, CancelReply, Queued, Reply
from bot.commands.grammar import Command, CommandKind
from bot.commands.repo_spec import Reach, SpecKind
from bot.core.errors import Forbidden, NotFound, UserError
from bot.identity import acting, linked
from bot.security.links import session_link
from bot.sessions import listing
from bot.sessions.session import Session, Thread
from handlers.api import models
from handlers.api.operations import Call
from handlers.api.problems import ApiProblem
from handlers.common.places import Place, places_of

PREFIX = "/api/v1"


async def own_session(call: Call) -> Session:
    try:
        found = await call.api.web.service.sessions.get(call.session_id)
    except NotFound:
        found = None
    if found is None or not call.caller.may_see(found):
        raise NotFound("There is no such session of yours.")
    return found


async def session_out(call: Call, session: Session) -> models.SessionOut:
    ctx = call.api.web
    status = await ctx.service.status(session)
    current, url = status.session, ctx.settings.public_url
    mr = current.merge_request
    threads = places_of(
        current.thread.surface,
        current.thread.key,
        current.thread.url,
        mr.url if mr else None,
        await ctx.service.sessions.places(current.id),
        page=f"{url}/dashboard/sessions/{current.id}",
    )
    return models.SessionOut(
        id=current.id,
        repo=current.repo,
        provider=current.provider,
        project=current.project,
        base_branch=current.base_branch,
        work_branch=current.work_branch,
        state=current.state,
        title=current.title,
        started_by=models.Author(name=current.created_by.name),
        created_at=current.created_at,
        updated_at=current.updated_at,
        merge_request=models.MergeRequest(url=mr.url, number=mr.number) if mr else None,
        error=current.error,
        running=status.running.seq if status.running else None,
        waiting=[p.seq for p in status.waiting],
        prompts=[models.PromptOut.of(p) for p in status.history],
        places=models.Places(
            api=f"{url}{PREFIX}/sessions/{current.id}",
            events=f"{url}{PREFIX}/sessions/{current.id}/events",
            dashboard=f"{url}/dashboard/sessions/{current.id}",
            live=session_link(ctx.settings, current.id),
            threads=_threads(threads),
        ),
    )


def _threads(places: tuple[Place, ...]) -> list[models.Thread]:
    return [models.Thread(surface=p.surface, label=p.label, url=p.url, home=p.home) for p in places]


async def list_sessions(call: Call) -> models.SessionList:
    asked: models.ListQuery = call.query
    if asked.scope == "everyone" and not call.caller.admin:
        raise Forbidden("Only admins (REPOBOX_ADMINS) see everyone's sessions.")
    wanted = {k: str(v) for k, v in asked.model_dump(exclude_none=True).items()}
    filters = listing.Filters.from_query(wanted)
    found = await linked.list_for(
        call.api.accounts, call.caller.account.id, call.caller.admin, filters
    )
    public = call.api.web.settings.public_url
    return models.SessionList(
        items=[
            models.SessionRow(
                id=row.id,
                provider=row.repository.kind,
                project=row.repository.name,
                title=row.title,
                state=row.state,
                surface=row.surface,
                started_by=row.who,
                last_activity=row.last_activity,
                merge_request_url=row.merge_request_url,
                places=_threads(
                    places_of(
                        row.surface,
                        row.thread_key,
                        row.thread_url,
                        row.merge_request_url,
                        row.places,
                        page=f"{public}/dashboard/sessions/{row.id}",
                    )
                ),
            )
            for row in found.rows
        ],
        next_cursor=found.next_cursor,
        repositories=[repo.key for repo in found.repositories],
    )


async def get_session(call: Call) -> models.SessionOut:
    return await session_out(call, await own_session(call))


def _check_start(call: Call, repo: str) -> None:
    """The dashboard's rules: a path on this machine is an admin's; with
    REPOBOX_REQUIRE_LINKED a hosted repository needs the person's account on its host."""
    spec = call.api.web.service.check_spec(repo, Reach.CHAT)
    if spec.kind is SpecKind.PATH and not call.caller.admin:
        raise Forbidden(
            "Only an admin opens repositories on this machine.",
            hint="Use `group/project` or an `https://` clone URL.",
        )


async def _linked_first(call: Call, repo: str) -> None:
    ctx = call.api.web
    if not ctx.settings.require_linked:
        return
    provider = acting.HOSTED.get(ctx.service.check_spec(repo, Reach.CHAT).provider)
    if provider is None or await call.api.accounts.connection(call.caller.account.id, provider):
        return
    raise UserError(
        f"Repobox works on {provider.value} repositories as you: link your {provider.value} "
        "account in Settings first."
    )


async def start_session(call: Call) -> models.Started:
    asked: models.StartSession = call.body
    _check_start(call, asked.repo)
    await _linked_first(call, asked.repo)
    request_id = call.request_id(uuid.uuid4().hex)
    started = await call.api.web.service.start(
        repo=asked.repo,
        base=asked.base or None,
        prompt=asked.prompt or None,
        thread=Thread("api", request_id),
        person=call.caller.person,
        request_id=request_id,
        origin=call.caller.origin,
        model=asked.model or None,
    )
    first = started.submitted.prompt if started.submitted else None
    return models.Started(
        session=await session_out(call, started.session),
        prompt=models.PromptOut.of(first) if first else None,
    )


async def get_diff(call: Call) -> models.Diff:
    found = await own_session(call)
    diff = await call.api.web.service.diff(found)
    return models.Diff(stat=diff.get("stat"), patch=str(diff.get("patch") or ""))


async def _execute(call: Call, command: Command) -> Reply:
    found = await own_session(call)
    asker = Asker(call.caller.person, call.request_id(uuid.uuid4().hex), call.caller.origin)
    return await call.api.executor.execute(command, found, asker)


def _accepted(reply: Reply) -> models.Accepted:
    if not isinstance(reply, Queued):
        raise ApiProblem(500, "internal", "Internal error", "The command answered oddly.")
    prompt = reply.submitted.prompt
    words = {
        "run": "Prompt",
        "ship": "Ship",
        "undo": "Undo",
        "compare": "Comparison",
        "pick": "Pick",
    }
    position = reply.submitted.position
    where = "runs next" if position <= 1 else f"is number {position} in the queue"
    return models.Accepted(
        message=f"{words[prompt.action.value]} {prompt.seq} {where}.",
        prompt=models.PromptOut.of(prompt),
        position=position,
    )


async def send_prompt(call: Call) -> models.Accepted:
    asked: models.PromptIn = call.body
    return _accepted(await _execute(call, Command(CommandKind.PROMPT, prompt=asked.prompt)))


async def ship(call: Call) -> models.Accepted:
    asked: models.ShipQuery = call.query
    kind = CommandKind.SHIP_ANYWAY if asked.anyway else CommandKind.SHIP
    return _accepted(await _execute(call, Command(kind)))


async def undo(call: Call) -> models.Accepted:
    return _accepted(await _execute(call, Command(CommandKind.UNDO)))


async def compare(call: Call) -> models.Accepted:
    asked: models.CompareIn = call.body
    command = Command(CommandKind.COMPARE, prompt=asked.prompt, candidates=tuple(asked.candidates))
    return _accepted(await _execute(call, command))


async def pick(call: Call) -> models.Accepted:
    asked: models.PickIn = call.body
    return _accepted(await _execute(call, Command(CommandKind.PICK, number=asked.number)))


async def cancel(call: Call) -> models.CancelOut:
    reply = await _execute(call, Command(CommandKind.CANCEL))
    assert isinstance(reply, CancelReply)
    running = reply.cancelled.running
    dropped = [p.seq for p in reply.cancelled.dropped]
    message = "Nothing to cancel: no prompt is running or waiting."
    if not reply.nothing:
        message = "Cancelling" + (f" prompt {running.seq}" if running else "")
        message += f"; dropped {len(dropped)} waiting." if dropped else "."
    return models.CancelOut(
        message=message, cancelled=running.seq if running else None, dropped=dropped
    )


async def archive(call: Call) -> models.Done:
    reply = await _execute(call, Command(CommandKind.ARCHIVE))
    assert isinstance(reply, Archived)
    return models.Done(message=f"Session {reply.session.id} archived.")

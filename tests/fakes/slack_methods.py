"""Checks a call to the fake Slack against slack-sdk's own description of the Web API.

slack-sdk's `WebClient` has one method per Web API method; its signature names the
required arguments, and its body says how the SDK sends the call: `json=kwargs` for the
methods Slack accepts JSON for, form or query parameters for the rest. Its block models
(`slack_sdk.models.blocks`) hold Block Kit's limits. So a call is refused, as Slack
refuses it, when:

- the method is not one slack-sdk knows (`unknown_method`), unless allow-listed;
- a required argument is missing, or a JSON body goes to a form-only method, or a
  timestamp (`ts`, `thread_ts`, …) in a JSON body is not a string (`invalid_arguments`);
- a JSON body carries the token instead of the `Authorization` header (`not_authed`:
  Slack reads a JSON call's token only from the header);
- a block does not parse into slack-sdk's models or breaks their limits (`invalid_blocks`).
"""

from __future__ import annotations

import functools
import inspect
import json
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

TIMESTAMPS = ("ts", "thread_ts", "timestamp", "message_ts", "latest", "oldest")
NOT_SENT = {"self", "app_token"}  # apps.connections.open's app_token travels as the auth header
ANY_METHOD = {"token", "team_id"}
"""Arguments every method takes: slack-sdk adds `team_id` to every call of a client made with
one (`default_params`), as Bolt's per-request clients are (org-wide installs)."""


@dataclass(frozen=True)
class SdkMethod:
    name: str
    required: tuple[str, ...]
    known: frozenset[str]  # every argument the signature names
    json: bool  # slack-sdk sends it as JSON, so Slack accepts JSON bodies for it


@functools.cache
def sdk_method(name: str) -> SdkMethod | None:
    """What slack-sdk says about Web API method `name` (e.g. "chat.postMessage")."""
    fn = getattr(WebClient, name.replace(".", "_"), None)
    if fn is None or not callable(fn):
        return None
    source = inspect.getsource(fn)
    if f'"{name}"' not in source:
        return None
    params = {
        param: spec
        for param, spec in inspect.signature(fn).parameters.items()
        if param not in NOT_SENT and spec.kind not in (spec.VAR_KEYWORD, spec.VAR_POSITIONAL)
    }
    required = tuple(p for p, spec in params.items() if spec.default is inspect.Parameter.empty)
    return SdkMethod(name, required, frozenset(params), "json=kwargs" in source)


@dataclass(frozen=True)
class Refusal:
    error: str
    message: str
    refuse: bool = True  # False: Slack ignores it; record it and serve the call


def call_problems(
    name: str, params: dict[str, Any], *, json_body: bool, bearer: bool
) -> list[Refusal]:
    """Why Slack would refuse this call (empty when it would accept it).

    `params` are the call's arguments as sent (JSON values undecoded), `json_body` whether
    they came as a JSON body (slack-sdk labels even empty bodies JSON), `bearer` whether the
    token came in the `Authorization` header."""
    method = sdk_method(name)
    if method is None:
        return [Refusal("unknown_method", f"{name} is not a Web API method slack-sdk knows")]
    problems: list[Refusal] = []
    is_json = json_body
    if is_json and not method.json:
        problems.append(
            Refusal("invalid_arguments", f"{name} takes form or query arguments, not a JSON body")
        )
    if is_json and "token" in params:
        problems.append(
            Refusal(
                "invalid_arguments" if bearer else "not_authed",
                "token in a JSON body (Slack reads it only from the Authorization header)",
            )
        )
    for arg in method.required:
        if arg not in params:
            problems.append(Refusal("invalid_arguments", f"missing required field: {arg}"))
    for arg in sorted(set(params) - method.known - ANY_METHOD):
        message = f"{arg} is not an argument of {name} (slack-sdk's signature); Slack ignores it"
        problems.append(Refusal("invalid_arguments", message, refuse=False))
    if is_json:
        for key in TIMESTAMPS:
            if key in params and params[key] is not None and not isinstance(params[key], str):
                problems.append(
                    Refusal("invalid_arguments", f"{key} must be a string, got {params[key]!r}")
                )
    return problems


def model_block_errors(blocks: Any) -> list[str]:
    """What slack-sdk's block models reject in `blocks` (a list, or its JSON string)."""
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return ["blocks are not valid JSON [json-pointer:/blocks]"]
    if not isinstance(blocks, list):
        return []  # the fake's own checks word this one
    errors: list[str] = []
    for i, raw in enumerate(blocks):
        where = f"[json-pointer:/blocks/{i}]"
        if not isinstance(raw, dict):
            continue
        try:
            block = Block.parse(raw)
            if block is None:
                errors.append(f"unsupported type: {raw.get('type')!r} {where}")
                continue
            block.validate_json()
        except (SlackObjectFormationError, KeyError, TypeError, ValueError) as exc:
            errors.append(f"{exc} {where}")
    return errors

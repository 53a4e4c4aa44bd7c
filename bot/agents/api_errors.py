"""Anthropic API failures, told to people in the thread.

By the time one of these reaches the agent, the SDK has already retried what can be
retried (429, 529, 5xx, dropped connections) with backoff, so the message says that too.
"""

from __future__ import annotations

import anthropic

from bot.core.errors import AgentError

TRANSIENT_TYPES = frozenset({"overloaded_error", "rate_limit_error", "api_error", "timeout_error"})


def is_transient_stream_error(error: anthropic.APIStatusError) -> bool:
    """An `error` event in the middle of a 200 stream: the SDK does not retry those."""
    return error.status_code == 200 and (error.type or "") in TRANSIENT_TYPES


def agent_error(error: anthropic.APIError, model: str, retries: int) -> AgentError:
    """One clear sentence for the thread; never the raw exception text."""
    tried = f"and still was after {retries} retries" if retries else "and was not retried"
    if isinstance(error, anthropic.APIConnectionError):
        kind = "timed out" if isinstance(error, anthropic.APITimeoutError) else "was unreachable"
        return AgentError(f"The Anthropic API {kind} {tried}; the run stopped.")
    if not isinstance(error, anthropic.APIStatusError):
        return AgentError("The Anthropic API failed; the run stopped.")
    status, kind = error.status_code, error.type or "error"
    detail = (error.api_message or "").strip()
    if status == 529 or kind == "overloaded_error":
        return AgentError(f"The Anthropic API is overloaded (529) {tried}; the run stopped.")
    if status == 429 or kind == "rate_limit_error":
        return AgentError(
            f"The Anthropic API is rate-limiting this key (429) {tried}; the run stopped."
        )
    if status >= 500 or status == 200:
        return AgentError(f"The Anthropic API failed ({status} {kind}) {tried}; the run stopped.")
    if status == 401:
        return AgentError("The Anthropic API rejected the API key (401); check ANTHROPIC_API_KEY.")
    if status == 403:
        return AgentError(f"The Anthropic API refused access (403): {detail or kind}.")
    if status == 404:
        return AgentError(
            f"The Anthropic API does not know the model `{model}` (404); check REPOBOX_MODEL."
        )
    if status == 413:
        return AgentError("The conversation grew too large for the Anthropic API (413).")
    return AgentError(f"The Anthropic API refused the request ({status}): {detail or kind}.")

"""One error hierarchy. `UserError`s are written for people and shown to them; anything
else is a crash: logged with a correlation id, never pasted into a chat."""

from __future__ import annotations


class RepoboxError(Exception):
    """Base of every error Repobox raises on purpose."""


class ConfigError(RepoboxError):
    """A setting is missing or malformed; raised at start-up."""


class UserError(RepoboxError):
    """Something the person asked for cannot be done; the message is shown to them as is."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class NotFound(UserError):
    """An id, repository, branch or session that does not exist (or is not visible)."""


class Forbidden(UserError):
    """The person may not do this; the message is a polite refusal."""


class Conflict(UserError):
    """The request does not fit the current state (e.g. a prompt for an archived session)."""


class UpstreamError(RepoboxError):
    """A platform (git host, Slack, model API) failed; `retry_after` is its hint, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GitError(UpstreamError):
    """A git command failed; the message is already redacted."""


class AgentError(RepoboxError):
    """The agent could not run the prompt; the message is shown in the thread."""

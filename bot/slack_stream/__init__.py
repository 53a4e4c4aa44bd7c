"""Slack's native agent UI for a prompt's reply: a streamed message with task cards, the
thread's status line, and the fallback to edited messages where Slack refuses streaming.

Standalone: the Slack renderer of the progress view drives it (see README, "Slack").
"""

from bot.slack_stream.budget import AppendBudget
from bot.slack_stream.calls import Caller, stream_client
from bot.slack_stream.refusals import RefusalMemory
from bot.slack_stream.status import ThreadStatus
from bot.slack_stream.values import StreamTarget, TaskStatus, TaskUpdate
from bot.slack_stream.writer import Fallback, Outcome, StreamWriter

__all__ = [
    "AppendBudget",
    "Caller",
    "Fallback",
    "Outcome",
    "RefusalMemory",
    "StreamTarget",
    "StreamWriter",
    "TaskStatus",
    "TaskUpdate",
    "ThreadStatus",
    "stream_client",
]

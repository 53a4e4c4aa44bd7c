"""Slack's native agent UI for a prompt's reply: a streamed message with task cards, the
thread's status line, and the fallback to edited messages where Slack refuses streaming."""

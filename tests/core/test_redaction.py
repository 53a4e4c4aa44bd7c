"""Redaction masks tokens so an operator can tell which one it was, reads any text in one
pass, and log lines stay short and on one line whatever they quote."""

from __future__ import annotations

import logging

import pytest

from bot.core.logs import MAX_MESSAGE, MAX_TRACEBACK, RedactingFilter, crash_summary
from bot.core.redaction import REDACTED, Redactor

GITHUB = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6wxyz"
MEGABYTE = 1_048_576


@pytest.mark.parametrize(
    ("token", "masked"),
    [
        (GITHUB, "ghp_****wxyz"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "github_pat_****mnop"),
        ("glpat-abcdefghij0123456789", "glpat-****6789"),
        ("xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp", "xoxb-****MnOp"),
        ("xapp-1-A0123456789-0123456789-abcdef0123", "xapp-****0123"),
        ("sk-ant-api03-abcdefghijklmnopqrstu", "sk-ant-****rstu"),
        ("xoxb-short-12", "xoxb-****"),  # too short to show any of it
    ],
)
def test_tokens_keep_their_kind_and_last_four(token: str, masked: str) -> None:
    assert Redactor()(f"token={token}.") == f"token={masked}."


def test_known_secrets_are_masked_and_other_secrets_show_nothing() -> None:
    redact = Redactor([GITHUB, "webhook-secret-value"])
    text = redact(f"a {GITHUB} b webhook-secret-value c https://oauth2:{GITHUB}@host/x")
    assert text == f"a ghp_****wxyz b {REDACTED} c https://{REDACTED}@host/x"


@pytest.mark.parametrize(
    "text",
    [
        "a" * MEGABYTE,  # the 40,000-letter login that froze the web process, 25 times over
        "ghp_" + "a" * MEGABYTE + "_",
        "xoxb-" * (MEGABYTE // 5),
        "a://" * (MEGABYTE // 4),
        "x://u:" * (MEGABYTE // 6),
        "http://" + "a" * MEGABYTE,
    ],
    ids=["letters", "token-run", "prefixes", "schemes", "userinfo", "url"],
)
def test_a_megabyte_of_adversarial_text_is_redacted_correctly(text: str) -> None:
    redacted = Redactor(["hunter2-long-secret"])(text + " hunter2-long-secret")
    assert redacted.endswith(f" {REDACTED}")
    assert "hunter2" not in redacted


def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("t", logging.WARNING, __file__, 1, message, args, None)


def test_a_log_line_is_cut_kept_on_one_line_and_still_redacted() -> None:
    log_filter = RedactingFilter(Redactor())
    record = _record("body %s\nforged line", "x" * (MAX_MESSAGE - 20) + " " + GITHUB + "y" * 50_000)
    log_filter.filter(record)
    line = record.getMessage()
    assert len(line) < MAX_MESSAGE + 40 and "\n" not in line
    assert "ghp_****" in line and GITHUB[4:12] not in line
    assert line.endswith("more characters]")


def test_a_traceback_is_cut_and_a_crash_summary_is_one_line() -> None:
    try:
        raise ValueError("bad\nvalue " + GITHUB + "z" * 20_000)
    except ValueError as error:
        caught = error
        record = logging.LogRecord(
            "t", logging.ERROR, __file__, 1, "x", None, (ValueError, error, error.__traceback__)
        )
    RedactingFilter(Redactor()).filter(record)
    assert record.exc_text is not None and len(record.exc_text) < MAX_TRACEBACK + 40
    assert GITHUB not in record.exc_text
    summary = crash_summary(caught)
    assert summary.startswith("ValueError: bad\\nvalue ") and "\n" not in summary
    assert "test_redaction.py" in summary and len(summary) < 400

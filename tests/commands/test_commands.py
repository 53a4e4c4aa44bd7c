"""The one command grammar, as people type it."""

from __future__ import annotations

import pytest

from bot.commands.grammar import Command, CommandKind, parse
from bot.core.errors import UserError
from bot.core.mentions import strip_mention


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("new group/project", Command(CommandKind.NEW, repo="group/project")),
        (
            "new github:o/r @dev fix the\nlogin bug",
            Command(CommandKind.NEW, "github:o/r", "dev", "fix the\nlogin bug"),
        ),
        ("NEW ./repo add tests", Command(CommandKind.NEW, repo="./repo", prompt="add tests")),
        (
            "new <https://git.example.com/a/b.git|a/b> go",
            Command(CommandKind.NEW, repo="https://git.example.com/a/b.git|a/b", prompt="go"),
        ),
        ("ship it", Command(CommandKind.SHIP)),
        ("Ship It!", Command(CommandKind.SHIP)),
        ("ship", Command(CommandKind.SHIP)),
        ("🚢", Command(CommandKind.SHIP)),
        (":ship:", Command(CommandKind.SHIP)),
        ("status", Command(CommandKind.STATUS)),
        ("diff", Command(CommandKind.DIFF)),
        ("cancel", Command(CommandKind.CANCEL)),
        ("archive", Command(CommandKind.ARCHIVE)),
        ("help", Command(CommandKind.HELP)),
        ("ship it anyway", Command(CommandKind.SHIP_ANYWAY)),
        ("Ship it anyway!", Command(CommandKind.SHIP_ANYWAY)),
        ("fix the checks", Command(CommandKind.FIX_CHECKS)),
        ("undo", Command(CommandKind.UNDO)),
        (
            "undo the rename in parser.py",
            Command(CommandKind.PROMPT, prompt="undo the rename in parser.py"),
        ),
        ("link group/project", Command(CommandKind.LINK, repo="group/project")),
        (
            "compare sonnet,opus fix the\nflaky test",
            Command(
                CommandKind.COMPARE, prompt="fix the\nflaky test", candidates=("sonnet", "opus")
            ),
        ),
        (
            "Compare Opus haiku claude-code go",
            Command(CommandKind.COMPARE, prompt="go", candidates=("opus", "haiku", "claude-code")),
        ),
        (
            "compare claude-opus-4-7,sonnet go",
            Command(CommandKind.COMPARE, prompt="go", candidates=("claude-opus-4-7", "sonnet")),
        ),
        ("compare the two parsers", Command(CommandKind.COMPARE, prompt="the two parsers")),
        ("pick 2", Command(CommandKind.PICK, number=2)),
        ("pick #3.", Command(CommandKind.PICK, number=3)),
        ("pick a better name", Command(CommandKind.PROMPT, prompt="pick a better name")),
        (
            "status of the build is red, fix it",
            Command(CommandKind.PROMPT, prompt="status of the build is red, fix it"),
        ),
        (
            "ship it after adding tests",
            Command(CommandKind.PROMPT, prompt="ship it after adding tests"),
        ),
        (
            "new tests for the parser",
            Command(CommandKind.PROMPT, prompt="new tests for the parser"),
        ),
    ],
)
def test_parse(text: str, expected: Command) -> None:
    if expected.kind is CommandKind.PROMPT and text.startswith("new "):
        with pytest.raises(UserError, match="does not look like a repository"):
            parse(text)
        return
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "That message is empty. Type `help` to see what I can do."),
        (
            "new",
            "`new` needs a repository. For example: `new group/project fix the login redirect`.",
        ),
        ("new a/b @ x", "`@` is not a valid branch name."),
        ("link", "`link` needs one repository. For example: `link group/project`."),
        ("pick", "`pick` needs a candidate's number. For example `pick 2`."),
        ("pick 0", "Candidates are numbered from 1. For example `pick 1`."),
        (
            "compare sonnet,opus",
            "`compare` needs a prompt to run on each candidate. For example `compare "
            "sonnet,opus fix the login redirect`; use `sonnet`, `opus`, `haiku`, a full model "
            "id such as `claude-sonnet-5-5`, `claude`, `claude-code`, or `demo` (no account "
            "needed).",
        ),
        (
            "compare sonnet,,opus go",
            "`sonnet,,opus` has an empty candidate. Separate names with commas: `sonnet,opus`.",
        ),
        (
            "compare sonnet,gpt-5 go",
            "`gpt-5` is not a model or agent I can compare. Use `sonnet`, `opus`, `haiku`, a "
            "full model id such as `claude-sonnet-5-5`, `claude`, `claude-code`, or `demo` (no "
            "account needed).",
        ),
    ],
)
def test_malformed_commands_explain_themselves(text: str, message: str) -> None:
    with pytest.raises(UserError) as raised:
        parse(text)
    assert str(raised.value) == message


def test_strip_mention() -> None:
    assert strip_mention("<@UBOT> new a/b", ["UBOT"]) == ("new a/b", True)
    assert strip_mention("@repobox: ship it", ["repobox"]) == ("ship it", True)
    assert strip_mention("@repoboxer hi", ["repobox"]) == ("@repoboxer hi", False)
    assert strip_mention("plain text", ["repobox"]) == ("plain text", False)

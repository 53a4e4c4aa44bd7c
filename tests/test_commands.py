"""The one command grammar, as people type it."""

from __future__ import annotations

import pytest

from bot.commands import Command, Kind, parse, strip_mention
from bot.errors import UserError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("new group/project", Command(Kind.NEW, repo="group/project")),
        (
            "new github:o/r @dev fix the\nlogin bug",
            Command(Kind.NEW, "github:o/r", "dev", "fix the\nlogin bug"),
        ),
        ("NEW ./repo add tests", Command(Kind.NEW, repo="./repo", prompt="add tests")),
        (
            "new <https://git.example.com/a/b.git|a/b> go",
            Command(Kind.NEW, repo="https://git.example.com/a/b.git|a/b", prompt="go"),
        ),
        ("ship it", Command(Kind.SHIP)),
        ("Ship It!", Command(Kind.SHIP)),
        ("ship", Command(Kind.SHIP)),
        ("🚢", Command(Kind.SHIP)),
        (":ship:", Command(Kind.SHIP)),
        ("status", Command(Kind.STATUS)),
        ("diff", Command(Kind.DIFF)),
        ("cancel", Command(Kind.CANCEL)),
        ("archive", Command(Kind.ARCHIVE)),
        ("help", Command(Kind.HELP)),
        ("link group/project", Command(Kind.LINK, repo="group/project")),
        (
            "status of the build is red, fix it",
            Command(Kind.PROMPT, prompt="status of the build is red, fix it"),
        ),
        ("ship it after adding tests", Command(Kind.PROMPT, prompt="ship it after adding tests")),
        ("new tests for the parser", Command(Kind.PROMPT, prompt="new tests for the parser")),
    ],
)
def test_parse(text: str, expected: Command) -> None:
    if expected.kind is Kind.PROMPT and text.startswith("new "):
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

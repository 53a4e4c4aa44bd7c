"""`.repobox.yml`: read from the base branch only, validated with errors people can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.checks.config import DEFAULT_TIMEOUT, FILENAME, Check, ChecksConfig, ConfigInvalid
from bot.checks.reading import parse_config, read_config
from bot.core.errors import NotFound
from tests.conftest import MakeRepo, git

ISSUE_EXAMPLE = """\
setup:                      # once per workdir, before the first run; cached by lockfile hash
  - pip install -r requirements.txt
checks:
  - name: tests
    run: pytest -q
    timeout: 600            # seconds
    required: true          # a failing required check blocks "ship it"
  - name: lint
    run: ruff check .
    required: false
    paths: ["**/*.py"]      # run only when the run changed matching files
autofix: 2                  # hand failing required checks back to the agent up to N times
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(text)
    return caught.value.problems


def test_the_example_from_the_issue_reads_as_written() -> None:
    config = parse_config(ISSUE_EXAMPLE)
    assert config.setup == ("pip install -r requirements.txt",)
    assert config.checks == (
        Check("tests", "pytest -q", 600.0, True, ()),
        Check("lint", "ruff check .", DEFAULT_TIMEOUT, False, ("**/*.py",)),
    )
    assert config.autofix == 2
    assert ChecksConfig.from_dict(config.to_dict()) == config


def test_defaults_a_single_setup_string_and_an_empty_file() -> None:
    config = parse_config("setup: make deps\nchecks:\n  - {name: unit, run: make test}\n")
    assert config.setup == ("make deps",)
    assert config.checks[0].required is True
    assert config.checks[0].timeout == DEFAULT_TIMEOUT
    assert config.checks[0].paths == ()
    assert config.autofix == 0
    assert parse_config("").checks == ()
    assert parse_config("# only a comment\n").setup == ()


def test_every_mistake_is_named_with_its_line_field_and_what_was_expected() -> None:
    text = (
        "checks:\n"
        "  - name: tests\n"
        "    run: pytest\n"
        "    timeout: soon\n"
        "    require: false\n"
        "  - run: ruff check .\n"
        "    paths: 3\n"
        "autofix: yes\n"
        "chekcs: []\n"
    )
    assert problems(text) == [
        "line 4, `checks[0].timeout`: expected seconds between 1 and 3600, got `soon`",
        "line 5, `checks[0].require`: expected one of name, run, timeout, required, paths "
        "(unknown key)",
        "line 6, `checks[1].name`: expected a short name (letters, digits, spaces, `_.:/-`; "
        "at most 40 characters), got nothing (it is missing)",
        'line 7, `checks[1].paths`: expected a list of globs such as ["**/*.py"], got `3`',
        "line 8, `autofix`: expected a whole number from 0 to 5, got `yes`",
        "line 9, `chekcs`: expected one of setup, checks, autofix, review, triggers, network, "
        "mcp, ci_fix (unknown key)",
    ]


def test_the_message_for_the_thread_says_where_and_what_to_do() -> None:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config("checks:\n  - name: tests\n    required: maybe\n", where="`main`")
    message = str(caught.value)
    assert message.startswith("`.repobox.yml` on `main` is not valid, so no checks ran:")
    assert (
        "• line 2, `checks[0].run`: expected a shell command, got nothing (it is missing)"
        in message
    )
    assert "• line 3, `checks[0].required`: expected true or false, got `maybe`" in message
    assert "docs/repobox-yml.md" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("checks: [a\n", "line 2: expected ',' or ']', but got '<stream end>' (the file is not"),
        (
            "- tests\n",
            "line 1, `(top level)`: expected a mapping with setup, checks, autofix, network "
            "and mcp",
        ),
        ("checks: pytest\n", "line 1, `checks`: expected a list of up to 20 checks, got `pytest`"),
        ("setup: [1]\n", "line 1, `setup[0]`: expected a shell command, got `1`"),
        ("checks:\n  - {name: t, run: x, timeout: 0}\n", "expected seconds between 1 and 3600"),
        ("checks:\n  - {name: t, run: x}\n  - {name: t, run: y}\n", "expected a name used once"),
        ("x: !!python/object/apply:os.system [echo]\n", "the file is not valid YAML"),
    ],
)
def test_malformed_files_are_refused_clearly(text: str, expected: str) -> None:
    assert any(expected in problem for problem in problems(text)), problems(text)


def test_it_is_read_from_the_base_branch_and_the_work_branch_cannot_change_it(
    make_repo: MakeRepo,
) -> None:
    strict = "checks:\n  - name: tests\n    run: pytest -q\n"
    loose = "checks: []\n"
    bare = make_repo(files={FILENAME: strict}, branches={"repobox/1-work": {FILENAME: loose}})
    config = read_config(bare, "main")
    assert [c.name for c in config.checks] == ["tests"]
    assert config.source.startswith("main@")
    base_commit = git("rev-parse", "main", cwd=bare).strip()
    assert read_config(bare, base_commit).checks == config.checks
    assert read_config(bare, "repobox/1-work").checks == ()  # only if asked for by name


def test_a_repository_without_the_file_has_no_checks(make_repo: MakeRepo) -> None:
    config = read_config(make_repo(), "main")
    assert not config.found
    assert config.checks == ()


def test_an_invalid_file_on_the_base_branch_names_the_branch(make_repo: MakeRepo) -> None:
    bare = make_repo(files={FILENAME: "checks:\n  - name: tests\n"})
    with pytest.raises(ConfigInvalid) as caught:
        read_config(bare, "main")
    assert str(caught.value).startswith("`.repobox.yml` on `main` is not valid")
    assert "line 2, `checks[0].run`: expected a shell command" in str(caught.value)


@pytest.mark.parametrize("base", ["--output=/tmp/x", "main..HEAD", "nope", "a" * 40])
def test_the_base_must_be_a_branch_or_commit_of_the_repository(
    make_repo: MakeRepo, base: str
) -> None:
    with pytest.raises(NotFound):
        read_config(make_repo(), base)


def test_an_oversized_file_is_refused_before_parsing(make_repo: MakeRepo, tmp_path: Path) -> None:
    bare = make_repo(files={FILENAME: "# " + "x" * 70_000 + "\n"})
    with pytest.raises(ConfigInvalid, match="at most 65536 are read"):
        read_config(bare, "main")


def test_problems_on_one_line_read_in_the_order_of_the_file() -> None:
    """A flow mapping puts many fields on one line: unknown keys first, then the fields in
    the order the file's sections have (setup, checks, autofix), each list item in turn."""
    text = "{checks: [{name: t, bogus: 1}], autofix: 9, zzz: 1, setup: [1, '']}\n"
    assert problems(text) == [
        "line 1, `zzz`: expected one of setup, checks, autofix, review, triggers, network, "
        "mcp, ci_fix (unknown key)",
        "line 1, `setup[0]`: expected a shell command, got `1`",
        "line 1, `setup[1]`: expected a shell command, got ``",
        "line 1, `checks[0].bogus`: expected one of name, run, timeout, required, paths "
        "(unknown key)",
        "line 1, `checks[0].run`: expected a shell command, got nothing (it is missing)",
        "line 1, `autofix`: expected a whole number from 0 to 5, got `9`",
    ]


def test_a_name_used_twice_is_found_beside_other_mistakes() -> None:
    text = "checks: [{name: t, run: x}, {name: t, run: x, timeout: yes}, {name: t, run: z}]\n"
    assert problems(text) == [
        "line 1, `checks[1].timeout`: expected seconds between 1 and 3600, got `yes`",
        "line 1, `checks[2].name`: expected a name used once, got `t`",
    ]

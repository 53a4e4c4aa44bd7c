"""The docs stay a front door and a reference a newcomer can trust.

The README is read first, so it stays short and opens with the two commands that work on a
fresh clone. Every relative link in it and in docs/ must land on a file and, where it names
one, a heading. The configuration reference and `Settings.from_env` must name the same
variables: a setting added to the code without its row, or a row left for a setting that
is gone, fails here rather than in a newcomer's terminal.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
README = TOP / "README.md"
DOCS = sorted((TOP / "docs").glob("*.md"))
CONFIG_DOC = TOP / "docs" / "configuration.md"
SETTINGS = TOP / "bot" / "core" / "config.py"
CODE = [TOP / "app.py", *(p for d in ("bot", "handlers", "jobs") for p in (TOP / d).rglob("*.py"))]

README_MAX_LINES = 200
FENCE = re.compile(r"^\s*```")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
ENV_NAME = re.compile(
    r"\b(?:REPOBOX|SLACK|GITLAB|GITHUB|ANTHROPIC)_[A-Z0-9_]*[A-Z0-9]\b|\bREDIS_URL\b"
)
APP_PY = re.compile(r"python app\.py(?: ([a-z]+))?")


def prose(path: Path) -> str:
    """The file without its fenced code blocks (a link or a name in an example is not prose)."""
    kept, fenced = [], False
    for line in path.read_text().splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            kept.append(line)
    return "\n".join(kept)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for line in prose(path).splitlines():
        if match := re.match(r"#{1,6}\s+(.*)", line):
            base = slug(match.group(1))
            name, n = base, 0
            while name in found:  # GitHub numbers repeated headings: x, x-1, x-2
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


def relative_links(path: Path) -> list[str]:
    targets = LINK.findall(prose(path))
    return [t for t in targets if not re.match(r"[a-z]+:", t)]  # not https:, mailto:


def test_readme_is_a_front_door() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md is {len(lines)} lines"


def test_readme_opens_with_the_two_commands() -> None:
    text = README.read_text()
    block = re.search(r"```[a-z]*\n(.*?)```", text, re.DOTALL)
    assert block is not None, "README.md has no code block"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert [c for c in commands if c][:2] == ["./dev run", "./dev test"]


def test_every_relative_link_lands() -> None:
    broken = []
    for page in [README, *DOCS]:
        for target in relative_links(page):
            file_part, _, anchor = target.partition("#")
            dest = (page.parent / file_part).resolve() if file_part else page
            if not dest.exists():
                broken.append(f"{page.relative_to(TOP)}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{page.relative_to(TOP)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def names_settings_read() -> set[str]:
    """Every variable `Settings.from_env` reads: the name given to `get(…)` or `number(env, …)`."""
    calls = [
        node for node in ast.walk(ast.parse(SETTINGS.read_text())) if isinstance(node, ast.Call)
    ]
    return {
        arg.value
        for call in calls
        for arg in call.args
        if isinstance(arg, ast.Constant)
        and isinstance(arg.value, str)
        and ENV_NAME.fullmatch(arg.value)
    }


def test_the_settings_reference_is_complete() -> None:
    read = names_settings_read()
    assert len(read) > 50  # the parse found the settings, not an empty set
    documented = set(ENV_NAME.findall(CONFIG_DOC.read_text()))
    assert sorted(read - documented) == [], "read by bot/core/config.py, not in configuration.md"


def test_the_settings_reference_names_only_real_variables() -> None:
    code = "\n".join(path.read_text() for path in CODE)
    documented = set(ENV_NAME.findall(CONFIG_DOC.read_text()))
    unknown = sorted(name for name in documented if f'"{name}"' not in code)
    assert unknown == [], "named in configuration.md, read nowhere in the code"


def test_the_docs_print_the_commands_that_work() -> None:
    """`./dev X` everywhere; `python app.py` only for the production processes it runs."""
    stray = []
    for page in [README, *DOCS]:
        for match in APP_PY.finditer(page.read_text()):
            if match.group(1) not in (None, "web", "worker"):
                stray.append(f"{page.relative_to(TOP)}: {match.group(0)}")
    assert not stray, "\n".join(stray)

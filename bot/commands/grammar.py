"""The one command grammar every surface speaks (docs/commands.md), parsed once, here.

Surfaces strip their own mention syntax first (`strip_mention`), then call `parse` and pass
the `Command` forward; nothing downstream looks at the raw text again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.commands.admission import check_prompt_size
from bot.compare.candidates import names_hint, parse_list
from bot.core.errors import UserError
from bot.core.models import known
from bot.git.branches import valid_branch


class CommandKind(StrEnum):
    NEW = "new"
    PROMPT = "prompt"
    SHIP = "ship"
    STATUS = "status"
    DIFF = "diff"
    CANCEL = "cancel"
    ARCHIVE = "archive"
    HELP = "help"
    LINK = "link"
    WHOAMI = "whoami"
    LOG = "log"
    SHIP_ANYWAY = "ship_anyway"
    FIX_CHECKS = "fix_checks"
    UNDO = "undo"
    COMPARE = "compare"
    PICK = "pick"
    REVIEW = "review"
    USE = "use"
    FIX_THIS = "fix_this"  # in a review finding's thread: fix that finding
    FIX_ALL = "fix_all"  # on a merge request: fix every open finding of its reviews


@dataclass(frozen=True)
class Command:
    kind: CommandKind
    repo: str | None = None
    base: str | None = None
    prompt: str | None = None
    candidates: tuple[str, ...] = ()  # `compare`: the names given (none: the default list)
    number: int | None = None  # `pick`: the candidate's number, from 1
    model: str | None = None  # `use <model>`, `new … --model <model>`: as named

    def to_dict(self) -> dict[str, Any]:
        """JSON for a job's arguments: a surface parses once and passes the result on."""
        return {
            "kind": self.kind.value,
            "repo": self.repo,
            "base": self.base,
            "prompt": self.prompt,
            "candidates": list(self.candidates),
            "number": self.number,
            "model": self.model,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Command:
        return cls(
            CommandKind(data["kind"]),
            data.get("repo"),
            data.get("base"),
            data.get("prompt"),
            tuple(str(c) for c in data.get("candidates") or ()),
            int(data["number"]) if data.get("number") is not None else None,
            str(data["model"]) if data.get("model") else None,
        )


SHIP_WORDS = frozenset({"ship it", "ship", "🚢", ":ship:", "ship 🚢", "🚢 ship it"})
SINGLE_WORDS = {
    "status": CommandKind.STATUS,
    "diff": CommandKind.DIFF,
    "cancel": CommandKind.CANCEL,
    "stop": CommandKind.CANCEL,
    "archive": CommandKind.ARCHIVE,
    "help": CommandKind.HELP,
    "?": CommandKind.HELP,
    "whoami": CommandKind.WHOAMI,
    "log": CommandKind.LOG,
    "ship it anyway": CommandKind.SHIP_ANYWAY,
    "ship anyway": CommandKind.SHIP_ANYWAY,
    "fix the checks": CommandKind.FIX_CHECKS,
    "fix checks": CommandKind.FIX_CHECKS,
    "undo": CommandKind.UNDO,
    "fix this": CommandKind.FIX_THIS,
    "apply": CommandKind.FIX_THIS,
    "apply this": CommandKind.FIX_THIS,
    "fix all": CommandKind.FIX_ALL,
}

HELP_TEXT = """\
*Repobox* runs a coding agent on your repository and opens the merge request when you are happy.

• `new <repo> [@<base-branch>] [prompt…]` start a session. `<repo>` is `group/project`, \
`gitlab:group/project`, `github:owner/repo`, an `https://` or `ssh://` clone URL, or a path \
(from the terminal, or under the directories the operator opened to chat).
• `<prompt…>` in a session's thread: the next prompt. Prompts sent during a run wait their turn.
• `ship it` push the work branch and open (or update) the merge request.
• `ship it anyway` ship although a required check fails (the merge request says who chose to)
• `fix the checks` hand the failing checks of `.repobox.yml` to the agent
• `undo` take back the last prompt's changes (a revert commit once pushed)
• `compare [<model>,<model>…] <prompt…>` run the prompt once per model or agent, side by \
side, each in its own copy of the work (`sonnet`, `opus`, `haiku`, a model id, `claude-code`, \
`demo`; no list: the default pair). A prompt that begins with the word "compare" is a comparison.
• `review [focus…]` on a merge request: one review with inline comments and suggestions \
on the changed lines (nothing is changed)
• `fix this` (or `apply`) in a review finding's thread: fix that finding and push; \
`fix all` on the merge request: fix every open finding
• `pick <n>` adopt candidate n of the last comparison and drop the others
• `use <model>` run this session's next prompts on another model or agent (`sonnet`, `opus`, \
`haiku`, a model id, `claude-code`); `new <repo> --model opus …` chooses it at the start
• `status` the session's state and queue · `diff` what changed so far
• `cancel` stop the current run and drop queued prompts · `archive` close the session
• `link <repo>` make `<repo>` this channel's default, so a mention with a prompt is enough \
(Slack only: a forge conversation already belongs to its project)
• `log` a fresh link to the session's live log page (links expire after 7 days)
• `whoami` who I take you for, and the co-author line your prompts' commits carry
• `help` this text"""


def looks_like_repo(word: str) -> bool:
    """A repository spec has a slash, a provider prefix, or is a path; a plain word is not."""
    return "/" in word or word.startswith(("gitlab:", "github:", "local:", ".", "~"))


def parse(text: str) -> Command:
    """Turn free text (mention already removed) into a `Command`.

    Raises `UserError` for text that is clearly meant as a command but is malformed, such as
    `new` with no repository; any other text is a prompt.
    """
    command = _parse(text)
    if command.prompt is not None:
        check_prompt_size(command.prompt)
    return command


def _parse(text: str) -> Command:
    cleaned = " ".join(text.split())
    if not cleaned:
        raise UserError("That message is empty.", hint="Type `help` to see what I can do.")
    lowered = cleaned.lower()
    if lowered.rstrip("!. ") in SHIP_WORDS or lowered in SHIP_WORDS:
        return Command(CommandKind.SHIP)
    single = SINGLE_WORDS.get(lowered.rstrip("!. ") or lowered)
    if single is not None:
        return Command(single)
    first, rest = _first_word(text.strip())
    if first.lower() == "new":
        return _parse_new(rest)
    if first.lower() == "link":
        return _parse_link(rest)
    if first.lower() == "compare":
        return _parse_compare(rest)
    if first.lower() == "review":  # `review [focus…]`: on a merge request, a review of it
        return Command(CommandKind.REVIEW, prompt=rest.strip() or None)
    if first.lower() == "pick" and (number := _pick_number(rest)) is not None:
        return Command(CommandKind.PICK, number=number)
    if first.lower() == "use" and (model := _use_model(rest)) is not None:
        return Command(CommandKind.USE, model=model)
    return Command(CommandKind.PROMPT, prompt=text.strip())


def _first_word(text: str) -> tuple[str, str]:
    """Split off the first word, keeping the rest's line breaks (prompts may be multi-line)."""
    match = re.match(r"(\S+)\s*(.*)", text, re.DOTALL)
    return (match.group(1), match.group(2)) if match else ("", "")


def _parse_new(rest: str) -> Command:
    """`new <repo> [@<base>] [--model <name>] [prompt…]` (the base and model in either order)."""
    repo_word, rest = _first_word(rest.strip())
    if not repo_word:
        raise UserError(
            "`new` needs a repository.",
            hint="For example: `new group/project fix the login redirect`.",
        )
    repo = repo_word.strip("<>")
    if not looks_like_repo(repo):
        raise UserError(
            f"`{repo}` does not look like a repository.",
            hint="Use `group/project`, `github:owner/repo`, a clone URL or a path like `./repo`.",
        )
    base: str | None = None
    model: str | None = None
    for _ in range(2):
        rest = rest.strip()
        if rest.startswith("@") and base is None:
            word, rest = _first_word(rest)
            base = word[1:]
            if not valid_branch(base):
                raise UserError(f"`@{base}` is not a valid branch name.")
        elif rest.startswith("--model") and model is None:
            model, rest = _model_flag(rest)
    prompt = rest.strip() or None
    return Command(CommandKind.NEW, repo=repo, base=base, prompt=prompt, model=model)


def _model_flag(text: str) -> tuple[str | None, str]:
    """A leading `--model <name>` (or `--model=<name>`): the name, checked, and the rest."""
    match = re.match(r"--model(?:=|\s+)(\S+)\s*(.*)", text.strip(), re.DOTALL)
    if match is None:
        if text.strip().startswith("--model"):
            raise UserError("`--model` needs a name.", hint=f"Use {names_hint()}.")
        return None, text.strip()
    name = match.group(1).lower()
    if not known(name):
        raise UserError(
            f"`{match.group(1)}` is not a model or agent I know.", hint=f"Use {names_hint()}."
        )
    return name, match.group(2)


def _use_model(rest: str) -> str | None:
    """`use opus`: a known name alone; anything else after `use` is a prompt ("use tabs")."""
    word = rest.strip().rstrip(".!")
    return word.lower() if word and " " not in word and known(word) else None


def _parse_link(rest: str) -> Command:
    repo = rest.strip().strip("<>")
    if not repo or " " in repo or not looks_like_repo(repo):
        raise UserError("`link` needs one repository.", hint="For example: `link group/project`.")
    return Command(CommandKind.LINK, repo=repo)


def _parse_compare(rest: str) -> Command:
    """`compare sonnet,opus fix the flaky test`, or `compare fix …` for the default list."""
    names: tuple[str, ...] = ()
    prompt = rest
    while prompt:  # `sonnet,opus` or `sonnet opus`: leading candidate names, then the prompt
        word, after = _first_word(prompt)
        listed = parse_list(word)
        if listed is None:
            break
        names, prompt = names + listed, after
    prompt = prompt.strip()
    if not prompt:
        raise UserError(
            "`compare` needs a prompt to run on each candidate.",
            hint=f"For example `compare sonnet,opus fix the login redirect`; use {names_hint()}.",
        )
    return Command(CommandKind.COMPARE, prompt=prompt, candidates=names)


def _pick_number(rest: str) -> int | None:
    """`pick 2` or `pick #2`; anything else after `pick` is a prompt ("pick a better name")."""
    match = re.fullmatch(r"#?(\d{1,3})[.!]?", rest.strip())
    if not rest.strip():
        raise UserError("`pick` needs a candidate's number.", hint="For example `pick 2`.")
    if match is None:
        return None
    number = int(match.group(1))
    if number < 1:
        raise UserError("Candidates are numbered from 1.", hint="For example `pick 1`.")
    return number

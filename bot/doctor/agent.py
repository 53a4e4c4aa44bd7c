"""What runs the prompts, and inside what: the Anthropic key, the agent in use, the sandbox.

The agent line names what the *server* runs (anthropic model, Claude Code, a command, the
demo): the terminal's doctor asks the running server for it (`bot.doctor.exchange`).
"""

from __future__ import annotations

import shutil

from bot.agents import claude_code
from bot.agents.command import check_agent_command
from bot.agents.command_line import program_of
from bot.core.config import Settings
from bot.core.errors import ConfigError
from bot.core.models import DEMO, DEMO_LABEL
from bot.doctor.check import Check, fail, fine, skipped, warn
from bot.doctor.reasons import unreachable
from bot.security.egress import model_api_host
from bot.security.sandbox import probe

TIMEOUT = 10.0
RESTART = "then restart `./dev run`"
NO_KEY_STEP = (
    "Set ANTHROPIC_API_KEY and restart `./dev run`, or try Repobox with no account: "
    "`./dev demo` (REPOBOX_AGENT=demo)."
)
UNCONFINED = (
    "commands agents run are NOT isolated: they can read the data dir, other sessions' "
    "workdirs and the home directory"
)


def check_anthropic(settings: Settings) -> Check:
    """A token count: free, and it needs a valid key and a known model."""
    if not settings.anthropic_api_key:
        if settings.agent == "anthropic":
            return fail(
                "Anthropic", "ANTHROPIC_API_KEY is not set (REPOBOX_AGENT=anthropic)", NO_KEY_STEP
            )
        return skipped("Anthropic", "ANTHROPIC_API_KEY")
    import anthropic

    client = anthropic.Anthropic(
        api_key=settings.anthropic_api_key,
        base_url=settings.anthropic_base_url,
        max_retries=1,
        timeout=TIMEOUT,
    )
    try:
        client.messages.count_tokens(
            model=settings.model, messages=[{"role": "user", "content": "ping"}]
        )
    except anthropic.AuthenticationError:
        return fail(
            "Anthropic", "the API key is not accepted", f"Check ANTHROPIC_API_KEY, {RESTART}."
        )
    except anthropic.NotFoundError:
        return fail(
            "Anthropic",
            f"the API does not know the model {settings.model}",
            f"Set REPOBOX_MODEL to a model your key may use, {RESTART}.",
        )
    except anthropic.APIStatusError as error:
        return fail("Anthropic", f"the API answered HTTP {error.status_code}", "Try again later.")
    except anthropic.APIConnectionError as error:
        url = settings.anthropic_base_url or "https://api.anthropic.com"
        detail, step = unreachable("The Anthropic API", error, url, "ANTHROPIC_BASE_URL")
        return fail("Anthropic", detail, step)
    return fine("Anthropic", f"key accepted, model {settings.model}")


def check_agent(settings: Settings) -> Check:
    """Which agent runs prompts here, and whether it can start."""
    if settings.agent == DEMO:
        return fine("Agent", f"{DEMO_LABEL}: fixed rules on the prompt's words, no account")
    if settings.agent == "anthropic":
        return fine("Agent", f"anthropic: the built-in agent, model {settings.model}")
    if settings.agent != "command" or not settings.agent_command:
        return fail(
            "Agent",
            f"REPOBOX_AGENT={settings.agent} is not an agent I know",
            f"Set REPOBOX_AGENT to anthropic, command or demo, {RESTART}.",
        )
    program = program_of(settings.agent_command)
    what = (
        "claude code (the claude-code preset)"
        if claude_code.is_preset(settings.agent_command)
        else f"command `{program}` (REPOBOX_AGENT_COMMAND)"
    )
    try:
        check_agent_command(settings)
    except ConfigError as error:
        return fail(
            "Agent", f"{what}: {error}", f"Install `{program}` where workers find it, {RESTART}."
        )
    return fine("Agent", f"{what}, found at {shutil.which(program)}")


def check_sandbox(settings: Settings) -> Check:
    """Whether the commands agents run are confined (bubblewrap), and if not, what follows."""
    if settings.sandbox == "off":
        return warn(
            "Sandbox",
            f"NO SANDBOX: off (REPOBOX_SANDBOX=off), so {UNCONFINED}",
            f"Unset REPOBOX_SANDBOX (or set it to require) where bubblewrap works, {RESTART}.",
        )
    status = probe()
    if status.usable:
        required = ", required (REPOBOX_SANDBOX=require)" if settings.sandbox == "require" else ""
        return fine(
            "Sandbox", f"on: agents' commands run inside bubblewrap ({status.detail}){required}"
        )
    if settings.sandbox == "require":
        return fail(
            "Sandbox",
            f"required (REPOBOX_SANDBOX=require) but not usable: {status.detail}; agent runs fail",
            f"Make bubblewrap work here ({status.detail.split('; ')[-1]}), {RESTART}.",
        )
    return warn(
        "Sandbox",
        f"NO SANDBOX: {status.detail.split('; ')[0]}, so {UNCONFINED}",
        f"To enable it: {status.detail.split('; ')[-1]}, {RESTART}; REPOBOX_SANDBOX=require "
        "then refuses to run commands unconfined.",
    )


def check_network(settings: Settings) -> Check:
    """Where the commands agents run may connect: the allow-list, open, or nowhere."""
    if not settings.agent_network:
        return fine("Network", "none: agents' commands reach no host (REPOBOX_AGENT_NETWORK=false)")
    if settings.egress == "open":
        return warn(
            "Network",
            "open (REPOBOX_EGRESS=open): agents' commands can reach any host",
            f"Unset REPOBOX_EGRESS to limit them to an allow-list, {RESTART}.",
        )
    if settings.sandbox == "off" or not probe().usable:
        return warn(
            "Network",
            "allow-list NOT ENFORCED: it needs the sandbox, so agents' commands can reach any host",
            f"Make the sandbox work here (see the Sandbox line), {RESTART}.",
        )
    listed = ", ".join(settings.egress_hosts) or "no other host"
    repos = (
        f"; repositories may add {', '.join(settings.egress_allowed)}"
        if settings.egress_allowed
        else ""
    )
    return fine(
        "Network",
        f"allow-list: agents' commands reach {listed} (and {model_api_host(settings)} for an "
        f"external agent){repos}",
    )

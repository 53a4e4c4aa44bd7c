"""One run's network allow-list: which hosts it may reach, and its proxy's lifetime.

Every command an agent runs and every check goes through `confined`: with the sandbox on
and `REPOBOX_EGRESS=allow-list` (the default), the commands get a network namespace of
their own whose only way out is an `EgressProxy` for this run, started here and stopped
when the run ends. The hosts: the model API for an external agent (ANTHROPIC_BASE_URL's
host, else api.anthropic.com), the operator's `REPOBOX_EGRESS_HOSTS`, and what the
repository's `.repobox.yml` adds within `REPOBOX_EGRESS_ALLOWED`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from bot.core.config import Settings
from bot.security.egress_proxy import EgressProxy, host_allowed
from bot.security.sandbox import Sandbox, sandbox_for

MODEL_API_HOST = "api.anthropic.com"


def model_api_host(settings: Settings, url: str | None = None) -> str:
    """The host an external agent's model API calls go to: `url` (the ANTHROPIC_BASE_URL
    its environment holds), else the setting's, else Anthropic's."""
    if url := url or settings.anthropic_base_url:
        host = urlsplit(url).hostname
        if host:
            return host
    return MODEL_API_HOST


def repo_hosts(settings: Settings, asked: Iterable[str]) -> tuple[tuple[str, ...], list[str]]:
    """The hosts a repository asked for that the operator lets repositories add, and those
    it may not (for a problem line)."""
    kept: list[str] = []
    refused: list[str] = []
    for host in asked:
        wanted = host.strip().lower()
        if not wanted:
            continue
        bare = wanted.lstrip(".")
        ok = host_allowed(bare, settings.egress_allowed) and (
            not wanted.startswith(".") or wanted in {h.lower() for h in settings.egress_allowed}
        )
        (kept if ok else refused).append(wanted)
    return tuple(kept), refused


def repo_url_refusal(settings: Settings, url: str) -> str | None:
    """Why a URL a repository declared (an MCP server's) may not be fetched, or None.

    The worker connects to it itself, so a repository must not point it anywhere (no SSRF):
    its host must be within `REPOBOX_EGRESS_ALLOWED`, the hosts the operator lets
    repositories add, and plain http:// only to a host listed there by name."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or not host_allowed(host, settings.egress_allowed):
        return f"its host {host or '(none)'} is not within REPOBOX_EGRESS_ALLOWED"
    named = {h.strip().lower().rstrip(".") for h in settings.egress_allowed}
    if parts.scheme != "https" and host not in named:
        return f"plain http:// is only for hosts REPOBOX_EGRESS_ALLOWED names exactly; use https://{host}"
    return None


def run_hosts(
    settings: Settings,
    *,
    external_agent: bool = False,
    model_url: str | None = None,
    extra: Iterable[str] = (),
) -> tuple[str, ...]:
    """Every host one run's commands may reach."""
    hosts = [*settings.egress_hosts, *extra]
    if external_agent:
        hosts.append(model_api_host(settings, model_url))
    return tuple(dict.fromkeys(h.lower() for h in hosts))


def enforced(settings: Settings) -> bool:
    """Whether commands' network goes through the allow-list (not open, not switched off)."""
    return settings.egress == "allow-list" and settings.agent_network


@contextmanager
def confined(settings: Settings, hosts: Iterable[str]) -> Iterator[Sandbox | None]:
    """The sandbox for one run, with its own allow-list proxy while the block runs; None
    when commands run bare (no sandbox: the start-up warning and the doctor say so)."""
    sandbox = sandbox_for(settings)
    if sandbox is None or not enforced(settings):
        yield sandbox
        return
    folder = Path(tempfile.mkdtemp(prefix="repobox-egress-"))  # short: a socket path
    try:
        with EgressProxy(folder / "proxy.sock", hosts) as proxy:
            yield sandbox.with_egress(proxy)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def refusal_text(host: str) -> str:
    """The warning step for a refused connection, the same from every runner."""
    return (
        f"⚠️ the sandbox refused a connection to {host}: it is not on the network allow-list "
        "(REPOBOX_EGRESS_HOSTS, or `network: hosts:` in .repobox.yml within "
        "REPOBOX_EGRESS_ALLOWED)"
    )

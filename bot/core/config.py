"""Settings: every environment variable is read once, here, at start-up.

Everything else takes a `Settings`. Every external base URL is a setting, so tests point
Repobox at local fakes without hooks.
"""

from __future__ import annotations

import os
import shlex
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from bot.core.budget_rules import BudgetRule, parse_budgets
from bot.core.env_values import flag, number, paths, words
from bot.core.errors import ConfigError
from bot.core.mcp_servers import McpServer, mcp_servers
from bot.core.models import AGENTS, DEMO, TRY_DEMO, known
from bot.core.secret_names import SECRET_ENV_NAMES, decode_secret_key, is_secret_field

# The current Sonnet in the SDK's model list (anthropic.types.ModelParam); prices for it and
# the other models are in bot/agents/pricing.py.
DEFAULT_MODEL = "claude-sonnet-5-5"
SANDBOX_MODES = ("auto", "require", "off")
ACT_AS = ("person", "bot")


@dataclass(frozen=True)
class Settings:
    """What Repobox was started with. Secrets live here and nowhere else."""

    data_dir: Path = Path(".repobox")
    redis_url: str | None = None
    port: int = 3000
    public_url: str = "http://localhost:3000"
    secret_key: str | None = None
    old_secret_keys: tuple[str, ...] = ()  # REPOBOX_OLD_SECRET_KEYS: still decrypt, never encrypt
    admins: frozenset[str] = frozenset()  # REPOBOX_ADMINS: github:login, gitlab:name, slack:U…
    require_linked: bool = False  # REPOBOX_REQUIRE_LINKED: sessions need the starter's link
    act_as: str = "person"  # REPOBOX_ACT_AS: person (when linked, with rights) or bot
    bot_name: str = "repobox"

    agent: str = "anthropic"
    agent_command: str | None = None
    claude_args: str = ""  # extra flags for the claude-code preset (REPOBOX_CLAUDE_ARGS)
    model: str = DEFAULT_MODEL
    run_timeout: float = 30 * 60
    compare_default: tuple[str, ...] = ("sonnet", "opus")  # `compare` with no list
    compare_max: int = 3  # candidates one comparison may run (REPOBOX_COMPARE_MAX)
    models_allowed: frozenset[str] = frozenset()  # REPOBOX_MODELS_ALLOWED: `use`/`--model` names
    budgets: tuple[BudgetRule, ...] = ()  # REPOBOX_BUDGETS: spending caps (bot.core.budget_rules)
    max_turns: int = 60
    max_tokens: int = 2_000_000
    agent_network: bool = True
    sandbox: str = "auto"  # bubblewrap for agents' commands: auto, require or off
    egress: str = "allow-list"  # REPOBOX_EGRESS: the sandbox's network, allow-list or open
    egress_hosts: tuple[str, ...] = ()  # REPOBOX_EGRESS_HOSTS: hosts every run may reach
    egress_allowed: tuple[str, ...] = ()  # REPOBOX_EGRESS_ALLOWED: hosts repos may add
    mcp_servers: tuple[McpServer, ...] = ()  # REPOBOX_MCP_SERVERS: every run's MCP servers
    mcp_env: Mapping[str, str] = field(default_factory=dict)  # REPOBOX_MCP_ENV's values
    secret_file_patterns: tuple[str, ...] = (
        ".env",
        ".env.*",
        "*.pem",
        "*.key",
        "id_rsa*",
        "id_ed25519*",
        "credentials.*",
    )
    extra_secret_env: frozenset[str] = frozenset()
    agent_pass_env: frozenset[str] | None = None
    agent_env: frozenset[str] = frozenset()  # more names agents' commands may see
    local_roots: tuple[Path, ...] = ()  # where chat and webhooks may open local repositories

    idle_archive_after: float = 24 * 3600
    heartbeat_interval: float = 5.0
    heartbeat_timeout: float = 30.0
    pool_size: int = 2
    workers: int = 2
    host: str = "localhost"
    shutdown_grace: float = 30.0  # seconds a running run may finish in when Repobox stops
    host_timeout: float = 30.0  # a host silent this long is lost: its sessions move
    checkpoint_bundle_max: int = 8 * 1024 * 1024  # bytes of a checkpoint bundle kept in Redis
    checkpoint_push: bool = False  # beyond the cap, push the work branch to the forge instead
    retention_days: float = 30.0  # archived sessions and all they own are deleted after this
    min_free_mb: float = 500.0  # below this free on the data dir, new sessions and runs wait

    git_author_name: str = "Repobox"
    git_author_email: str = "repobox@users.noreply.localhost"

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_edit_interval: float = 1.0
    slack_streaming: bool = True  # native streaming where Slack allows it (REPOBOX_SLACK_STREAMING)
    slack_stream_interval: float = 1.0  # seconds between appends to one stream (Tier 4: 100+/min)
    slack_tier3_per_minute: int = 45  # chat.update, reactions.add per workspace (Tier 3: 50+)
    slack_final_wait: float = 15.0  # the longest a final reply waits for budget in a job
    slack_minute: float = 60.0  # the window Slack counts its tiers in (tests shorten it)

    gitlab_url: str | None = None
    gitlab_token: str | None = None
    gitlab_webhook_secret: str | None = None

    github_api_url: str = "https://api.github.com"
    github_token: str | None = None
    github_webhook_secret: str | None = None
    github_client_id: str | None = None  # an OAuth app: "Sign in with GitHub", linking
    github_client_secret: str | None = None
    github_app_id: str | None = None  # a GitHub App as the bot (docs/github-app.md)
    github_app_private_key: str | None = None  # its PEM (or REPOBOX_GITHUB_APP_PRIVATE_KEY_FILE)
    gitlab_client_id: str | None = None  # an OAuth application on GITLAB_URL
    gitlab_client_secret: str | None = None
    oidc_issuer: str | None = None  # any OpenID Connect provider: "Sign in with <oidc_name>"
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_allowed_domains: frozenset[str] = frozenset()  # e-mail domains allowed (none: any)
    oidc_name: str = "single sign-on"  # the button's words (REPOBOX_OIDC_NAME)
    api_rate_limit: int = 120  # requests per minute one API token may make

    forge_retries: int = 4  # GitLab/GitHub API: retries of a 429, 5xx or dropped connection
    forge_backoff: float = 1.0  # seconds before the first retry; doubles each time
    forge_edit_interval: float = 2.0  # at most one edit of a progress comment this often
    triggers: bool = (
        True  # issues assigned to the bot or labelled start sessions (REPOBOX_TRIGGERS)
    )
    trigger_label: str = "repobox"  # the label that starts one (REPOBOX_TRIGGER_LABEL)

    anthropic_api_key: str | None = None
    anthropic_base_url: str | None = None

    allowed_slack_teams: frozenset[str] = frozenset()
    allowed_slack_channels: frozenset[str] = frozenset()
    allowed_slack_users: frozenset[str] = frozenset()
    allowed_repos: frozenset[str] = frozenset()

    default_provider: str = field(default="local")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the environment once; a bad value is a `ConfigError` with the variable's name."""
        env = os.environ if env is None else env
        get = env.get
        port = int(number(env, "REPOBOX_PORT", 3000))
        agent = (get("REPOBOX_AGENT") or "anthropic").strip().lower()
        # The demo agent compares with itself unless told otherwise: it needs no account.
        compare = get("REPOBOX_COMPARE_DEFAULT") or (
            "demo,demo" if agent == DEMO else "sonnet,opus"
        )
        gitlab_url = get("GITLAB_URL") or None
        settings = cls(
            data_dir=Path(get("REPOBOX_DATA_DIR") or ".repobox").expanduser().absolute(),
            redis_url=get("REDIS_URL") or None,
            port=port,
            public_url=(get("REPOBOX_PUBLIC_URL") or f"http://localhost:{port}").rstrip("/"),
            secret_key=get("REPOBOX_SECRET_KEY") or None,
            old_secret_keys=tuple(sorted(words(get("REPOBOX_OLD_SECRET_KEYS")))),
            admins=words(get("REPOBOX_ADMINS")),
            require_linked=flag(get("REPOBOX_REQUIRE_LINKED"), False),
            act_as=(get("REPOBOX_ACT_AS") or "person").strip().lower(),
            bot_name=(get("REPOBOX_BOT_NAME") or "repobox").lstrip("@"),
            agent=agent,
            agent_command=get("REPOBOX_AGENT_COMMAND") or None,
            claude_args=get("REPOBOX_CLAUDE_ARGS") or "",
            model=get("REPOBOX_MODEL") or DEFAULT_MODEL,
            run_timeout=number(env, "REPOBOX_RUN_TIMEOUT", 30 * 60),
            compare_default=tuple(w.strip().lower() for w in compare.split(",") if w.strip()),
            compare_max=int(number(env, "REPOBOX_COMPARE_MAX", 3)),
            models_allowed=frozenset(w.lower() for w in words(get("REPOBOX_MODELS_ALLOWED"))),
            budgets=parse_budgets(get("REPOBOX_BUDGETS") or ""),
            max_turns=int(number(env, "REPOBOX_MAX_TURNS", 60)),
            max_tokens=int(number(env, "REPOBOX_MAX_TOKENS", 2_000_000)),
            agent_network=flag(get("REPOBOX_AGENT_NETWORK"), True),
            sandbox=(get("REPOBOX_SANDBOX") or "auto").strip().lower(),
            egress=(get("REPOBOX_EGRESS") or "allow-list").strip().lower(),
            egress_hosts=tuple(sorted(words(get("REPOBOX_EGRESS_HOSTS")))),
            egress_allowed=tuple(sorted(words(get("REPOBOX_EGRESS_ALLOWED")))),
            mcp_servers=mcp_servers(get("REPOBOX_MCP_SERVERS")),
            mcp_env={n: get(n) or "" for n in sorted(words(get("REPOBOX_MCP_ENV"))) if get(n)},
            secret_file_patterns=tuple(
                words(get("REPOBOX_SECRET_FILES")) or cls.secret_file_patterns
            ),
            extra_secret_env=words(get("REPOBOX_SECRET_ENV")),
            agent_pass_env=words(get("REPOBOX_AGENT_PASS_ENV"))
            if get("REPOBOX_AGENT_PASS_ENV") is not None
            else None,
            agent_env=words(get("REPOBOX_AGENT_ENV")),
            local_roots=paths(get("REPOBOX_LOCAL_ROOTS")),
            idle_archive_after=number(env, "REPOBOX_IDLE_ARCHIVE_HOURS", 24) * 3600,
            heartbeat_interval=number(env, "REPOBOX_HEARTBEAT_SECONDS", 5),
            heartbeat_timeout=number(env, "REPOBOX_HEARTBEAT_TIMEOUT", 30),
            pool_size=int(number(env, "REPOBOX_POOL_SIZE", 2)),
            workers=max(1, int(number(env, "REPOBOX_WORKERS", 2))),
            shutdown_grace=number(env, "REPOBOX_SHUTDOWN_GRACE", 30),
            host=get("REPOBOX_HOST") or socket.gethostname(),
            host_timeout=number(
                env, "REPOBOX_HOST_TIMEOUT", number(env, "REPOBOX_HEARTBEAT_TIMEOUT", 30)
            ),
            checkpoint_bundle_max=int(number(env, "REPOBOX_CHECKPOINT_BUNDLE_MAX_MB", 8) * 2**20),
            checkpoint_push=flag(get("REPOBOX_CHECKPOINT_PUSH"), False),
            retention_days=number(env, "REPOBOX_RETENTION_DAYS", 30),
            min_free_mb=number(env, "REPOBOX_MIN_FREE_MB", 500),
            git_author_name=get("REPOBOX_GIT_NAME") or cls.git_author_name,
            git_author_email=get("REPOBOX_GIT_EMAIL") or cls.git_author_email,
            slack_bot_token=get("SLACK_BOT_TOKEN") or None,
            slack_signing_secret=get("SLACK_SIGNING_SECRET") or None,
            slack_app_token=get("SLACK_APP_TOKEN") or None,
            slack_api_url=get("SLACK_API_URL") or "https://slack.com/api/",
            slack_edit_interval=number(env, "REPOBOX_SLACK_EDIT_INTERVAL", 1.0),
            slack_streaming=flag(get("REPOBOX_SLACK_STREAMING"), True),
            slack_stream_interval=number(env, "REPOBOX_SLACK_STREAM_INTERVAL", 1.0),
            slack_tier3_per_minute=int(number(env, "REPOBOX_SLACK_TIER3_PER_MINUTE", 45)),
            slack_final_wait=number(env, "REPOBOX_SLACK_FINAL_WAIT", 15.0),
            gitlab_url=gitlab_url.rstrip("/") if gitlab_url else None,
            gitlab_token=get("GITLAB_TOKEN") or None,
            gitlab_webhook_secret=get("GITLAB_WEBHOOK_SECRET") or None,
            github_api_url=(get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
            github_token=get("GITHUB_TOKEN") or None,
            github_webhook_secret=get("GITHUB_WEBHOOK_SECRET") or None,
            github_client_id=get("GITHUB_CLIENT_ID") or None,
            github_client_secret=get("GITHUB_CLIENT_SECRET") or None,
            github_app_id=(get("REPOBOX_GITHUB_APP_ID") or "").strip() or None,
            github_app_private_key=_app_key(
                get("REPOBOX_GITHUB_APP_PRIVATE_KEY"), get("REPOBOX_GITHUB_APP_PRIVATE_KEY_FILE")
            ),
            gitlab_client_id=get("GITLAB_CLIENT_ID") or None,
            gitlab_client_secret=get("GITLAB_CLIENT_SECRET") or None,
            oidc_issuer=(get("REPOBOX_OIDC_ISSUER") or "").rstrip("/") or None,
            oidc_client_id=get("REPOBOX_OIDC_CLIENT_ID") or None,
            oidc_client_secret=get("REPOBOX_OIDC_CLIENT_SECRET") or None,
            oidc_allowed_domains=frozenset(
                d.lower().lstrip("@") for d in words(get("REPOBOX_OIDC_ALLOWED_DOMAINS"))
            ),
            oidc_name=get("REPOBOX_OIDC_NAME") or "single sign-on",
            api_rate_limit=int(number(env, "REPOBOX_API_RATE_LIMIT", 120)),
            forge_retries=int(number(env, "REPOBOX_FORGE_RETRIES", 4)),
            forge_backoff=number(env, "REPOBOX_FORGE_BACKOFF", 1.0),
            forge_edit_interval=number(env, "REPOBOX_FORGE_EDIT_INTERVAL", 2.0),
            anthropic_api_key=get("ANTHROPIC_API_KEY") or None,
            anthropic_base_url=get("ANTHROPIC_BASE_URL") or None,
            allowed_slack_teams=words(get("REPOBOX_SLACK_TEAMS")),
            allowed_slack_channels=words(get("REPOBOX_SLACK_CHANNELS")),
            allowed_slack_users=words(get("REPOBOX_SLACK_USERS")),
            allowed_repos=words(get("REPOBOX_ALLOWED_REPOS")),
            triggers=flag(get("REPOBOX_TRIGGERS"), True),
            trigger_label=(get("REPOBOX_TRIGGER_LABEL") or "").strip() or "repobox",
            default_provider=(get("REPOBOX_DEFAULT_PROVIDER") or "").strip().lower()
            or ("gitlab" if gitlab_url else "local"),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.agent not in AGENTS:
            raise ConfigError(
                f"REPOBOX_AGENT must be anthropic, command or demo, got {self.agent!r}. {TRY_DEMO}"
            )
        if self.agent == "command" and not self.agent_command:
            raise ConfigError("REPOBOX_AGENT=command needs REPOBOX_AGENT_COMMAND")
        try:
            shlex.split(self.claude_args)
        except ValueError as error:
            raise ConfigError(f"REPOBOX_CLAUDE_ARGS cannot be read as arguments: {error}") from None
        if self.compare_max < 2:
            raise ConfigError(f"REPOBOX_COMPARE_MAX must be 2 or more, got {self.compare_max}")
        unknown = [name for name in self.compare_default if not known(name)]
        if unknown or not 2 <= len(self.compare_default) <= self.compare_max:
            raise ConfigError(
                "REPOBOX_COMPARE_DEFAULT must name 2 to REPOBOX_COMPARE_MAX models or presets "
                f"(sonnet, opus, haiku, a model id, claude-code, demo), "
                f"got {self.compare_default!r}"
            )
        if unknown_models := sorted(m for m in self.models_allowed if not known(m)):
            raise ConfigError(
                "REPOBOX_MODELS_ALLOWED must name models or presets (sonnet, opus, haiku, a model "
                f"id, claude-code, demo), got {', '.join(unknown_models)}"
            )
        self._validate_confinement()
        if self.secret_key is not None:
            decode_secret_key(self.secret_key)  # a bad key stops start-up, not the first link
        if self.act_as not in ACT_AS:
            raise ConfigError(f"REPOBOX_ACT_AS must be person or bot, got {self.act_as!r}")
        if self.default_provider not in {"local", "gitlab", "github"}:
            raise ConfigError(
                "REPOBOX_DEFAULT_PROVIDER must be local, gitlab or github, "
                f"got {self.default_provider!r}"
            )

        if self.api_rate_limit < 1:
            raise ConfigError(
                f"REPOBOX_API_RATE_LIMIT must be 1 or more, got {self.api_rate_limit}"
            )
        _check_github_app(self.github_app_id, self.github_app_private_key)
        if self.oidc_issuer and not self.oidc_issuer.startswith(("https://", "http://")):
            raise ConfigError(f"REPOBOX_OIDC_ISSUER must be a URL, got {self.oidc_issuer!r}")

    def _validate_confinement(self) -> None:
        if self.sandbox not in SANDBOX_MODES:
            raise ConfigError(f"REPOBOX_SANDBOX must be auto, require or off, got {self.sandbox!r}")
        if self.egress not in ("allow-list", "open"):
            raise ConfigError(f"REPOBOX_EGRESS must be allow-list or open, got {self.egress!r}")

    def with_changes(self, **changes: object) -> Settings:
        """A copy with some values changed (tests and sub-processes use this)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def secret_values(self) -> list[str]:
        """Every secret Repobox holds, for redaction; the short ones are skipped."""
        names = [f.name for f in fields(self) if is_secret_field(f.name)]
        values = [getattr(self, name) for name in names] + list(self.old_secret_keys)
        values += list(self.mcp_env.values())
        return [v for v in values if isinstance(v, str) and len(v) >= 6]

    @property
    def secret_env_names(self) -> frozenset[str]:
        """Environment variables never handed to an agent or a command it runs."""
        return SECRET_ENV_NAMES | self.extra_secret_env

    @property
    def github_ready(self) -> bool:
        """GitHub is set up for the bot: a token, or a GitHub App (which wins when both are)."""
        return bool(self.github_token or (self.github_app_id and self.github_app_private_key))

    @property
    def mirrors_dir(self) -> Path:
        return self.data_dir / "mirrors"

    @property
    def workdirs_dir(self) -> Path:
        return self.data_dir / "workdirs"

    @property
    def pool_dir(self) -> Path:
        return self.data_dir / "pool"

    @property
    def caches_dir(self) -> Path:
        """Package caches (pip, npm, …) of the checks' setup, one folder per repository."""
        return self.data_dir / "caches"

    @property
    def retention_seconds(self) -> float:
        return self.retention_days * 86400


def _app_key(value: str | None, path: str | None) -> str | None:
    """The GitHub App's PEM, given inline or as a file (read once, at start-up)."""
    if value and value.strip():
        return value.strip().replace("\\n", "\n") + "\n"  # one-line forms keep "\n"
    if not path:
        return None
    try:
        text = Path(path).expanduser().read_text()
    except OSError as error:
        raise ConfigError(
            f"REPOBOX_GITHUB_APP_PRIVATE_KEY_FILE cannot be read: {error.strerror}"
        ) from None
    return text.strip() + "\n"


def _check_github_app(app_id: str | None, key: str | None) -> None:
    """Both halves of a GitHub App, each in a shape GitHub accepts."""
    if bool(app_id) != bool(key):
        raise ConfigError(
            "A GitHub App needs both REPOBOX_GITHUB_APP_ID and its private key "
            "(REPOBOX_GITHUB_APP_PRIVATE_KEY or REPOBOX_GITHUB_APP_PRIVATE_KEY_FILE)"
        )
    if app_id and not app_id.isdigit():
        raise ConfigError(f"REPOBOX_GITHUB_APP_ID must be the App's number, got {app_id!r}")
    if key and "PRIVATE KEY-----" not in key:
        raise ConfigError(
            "REPOBOX_GITHUB_APP_PRIVATE_KEY must be the App's PEM private key "
            "(-----BEGIN RSA PRIVATE KEY----- …)"
        )

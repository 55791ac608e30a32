"""Settings: defaults, then the instance config file, then ``SURVEYHUB_*`` variables.

Every setting is documented in the README ("Configuration"). The instance
folder holds the SQLite database, the generated secret key and uploads.
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ENV_PREFIX = "SURVEYHUB_"
CONFIG_FILE = "config.toml"
SECRET_FILE = "secret_key"

#: Settings that may come from the environment or the instance config file.
DEFAULTS: dict[str, object] = {
    "DATABASE_URL": None,  # default: sqlite in the instance folder
    "BASE_URL": "http://127.0.0.1:5000",
    "PLUGINS_DIR": None,  # default: plugins/ beside the package when present
    "INSTRUMENTS_DIR": None,  # default: instruments/ beside the package
    "SECRET_KEY": None,
    "RATELIMIT_STORAGE_URI": "",  # empty: counted in the database; redis://... to count in Redis
    "LOGIN_RATE_LIMIT": "10 per minute",
    "LOGIN_ACCOUNT_RATE_LIMIT": "5 per 15 minutes",
    "VERIFY_RATE_LIMIT": "30 per minute",
    "TOKEN_RATE_LIMIT": "30 per minute",
    "API_RATE_LIMIT": "300 per minute; 10000 per hour",  # calls per API token
    "API_AUTH_RATE_LIMIT": "20 per minute",  # tries with a wrong API token, per address
    # A short code has ~37 bits against a token's 192: its misses get a budget of their own, per address and
    # for all addresses together (a botnet's guesses add up there). Only typing a code can be held up by it.
    "SHORT_CODE_RATE_LIMIT": "10 per hour; 30 per day",
    "SHORT_CODE_TOTAL_RATE_LIMIT": "200 per hour; 1000 per day",
    "ANONYMOUS_CODE_RATE_LIMIT": "30 per 10 minutes",
    "MAX_UPLOAD_BYTES": 2 * 1024 * 1024,
    "MIN_PAIRS_MEANS": 5,
    "MIN_PAIRS_TESTS": 10,
    "MIN_CELL": 5,
    "RETENTION_MONTHS": 24,
    "RETENTION_PURGE_DAILY": 1,  # 0: no daily purge thread in ``surveyhub serve`` (run the CLI yourself)
    "PLUGIN_HOOK_TIMEOUT": 2.0,  # seconds a resident's page waits for event hooks (plugins.call_bounded)
    "RENDER_TIMEOUT_SECONDS": 20,  # a web document render is stopped after this (services.document_batches)
    "RENDER_MEMORY_MB": 1024,  # ... or when it needs this much more memory
    "MAX_FORM_PARTS": 1000,  # fields in one submitted form (web.input), more is refused with 413
    "DEFAULT_LANGUAGE": "nl",
    "PROXY_FIX": 0,  # trusted proxies in front of SurveyHub (werkzeug ProxyFix); 0: X-Forwarded-* ignored
    "TIMEZONE": "Europe/Amsterdam",  # times on pages (the audit trail), dated waves, report periods; stored UTC
    "QUEUE_URL": "",  # empty: SqliteHuey in the instance folder; redis://... for RedisHuey (surveyhub.queue)
    "EMBEDDED_WORKER": 1,  # 0: ``surveyhub serve`` starts no job consumer (run ``surveyhub worker`` yourself)
    "JOB_STALE_SECONDS": 120,  # a job without a sign of life this long has its unfinished items enqueued again
    "SMTP_HOST": "",  # empty: no e-mail (invitations stay links to copy and share)
    "SMTP_PORT": 25,
    "SMTP_SECURITY": "none",  # none, starttls or ssl
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "MAIL_FROM": "",  # the From address of invitations and reminders
    "MAIL_RATE_LIMIT": "300 per minute",  # messages sent per minute by all workers together
    "WEBHOOK_RETRY_SCHEDULE": "5 300 1800 7200 18000 36000 36000",  # seconds between a webhook's attempts
    "WEBHOOK_TIMEOUT": 10,  # seconds a webhook receiver has to answer
    # 1: an organisation's admin may allow one endpoint on a private network (the operator's choice:
    # an admin of one organisation must not reach the installation's own network by default)
    "WEBHOOK_ALLOW_PRIVATE": 0,
}

INT_SETTINGS = {"MAX_UPLOAD_BYTES", "MIN_PAIRS_MEANS", "MIN_PAIRS_TESTS", "MIN_CELL", "RETENTION_MONTHS",
                "RETENTION_PURGE_DAILY", "RENDER_TIMEOUT_SECONDS", "RENDER_MEMORY_MB", "MAX_FORM_PARTS", "PROXY_FIX",
                "EMBEDDED_WORKER", "JOB_STALE_SECONDS", "SMTP_PORT", "WEBHOOK_ALLOW_PRIVATE"}


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for the user."""


def project_root() -> Path:
    """The folder that holds ``surveyhub/``, ``instruments/`` and ``plugins/``."""
    return Path(__file__).resolve().parent.parent


def load_settings(instance_path: Path, environ: dict | None = None) -> dict:
    """Defaults, then ``instance/config.toml``, then ``SURVEYHUB_*`` variables."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    config_file = instance_path / CONFIG_FILE
    if config_file.exists():
        try:
            with config_file.open("rb") as fh:
                settings.update({k.upper(): v for k, v in tomllib.load(fh).items()})
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_file}: {exc}") from exc
    for key in DEFAULTS:
        value = environ.get(ENV_PREFIX + key)
        if value not in (None, ""):
            settings[key] = value
    for key in INT_SETTINGS:
        try:
            settings[key] = int(settings[key])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{ENV_PREFIX}{key} must be a whole number, got {settings[key]!r}") from exc
    return settings


def resolve_paths(settings: dict, instance_path: Path) -> dict:
    """Fill the defaults that depend on the instance folder and the checkout."""
    root = project_root()
    if not settings["DATABASE_URL"]:
        settings["DATABASE_URL"] = f"sqlite:///{instance_path / 'surveyhub.sqlite3'}"
    settings["DATABASE_URL"] = check_database_url(str(settings["DATABASE_URL"]))
    if settings["PLUGINS_DIR"] is None and (root / "plugins").is_dir():
        settings["PLUGINS_DIR"] = str(root / "plugins")
    if settings["INSTRUMENTS_DIR"] is None:
        settings["INSTRUMENTS_DIR"] = str(root / "instruments")
    settings["BASE_URL"] = str(settings["BASE_URL"]).rstrip("/")
    settings["TIMEZONE"] = check_timezone(str(settings.get("TIMEZONE") or DEFAULTS["TIMEZONE"]))
    check_mail(settings)
    return settings


def check_mail(settings: dict) -> None:
    """Refuse e-mail settings that cannot work (``services.mail.check_settings``), in one line."""
    from surveyhub.services.mail import check_settings

    try:
        check_settings(settings)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def check_timezone(name: str) -> str:
    """Refuse a time zone name the tz database does not know, such as ``CET+1``."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{ENV_PREFIX}TIMEZONE: unknown time zone {name!r} (use a name such as "
                          f"Europe/Amsterdam)") from exc
    return name


def check_database_url(url: str) -> str:
    """Refuse a malformed or unsupported database URL with one clear line."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        shown = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)  # never echo a password
        raise ConfigError(f"SURVEYHUB_DATABASE_URL is not a database URL: {shown!r}") from exc
    if parsed.drivername in ("postgresql", "postgres"):  # the plain names mean psycopg 3
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"SURVEYHUB_DATABASE_URL: unsupported database {backend!r} (use sqlite or postgresql)")
    try:
        parsed.get_dialect().import_dbapi()
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(f"SURVEYHUB_DATABASE_URL: the database driver {parsed.get_driver_name()!r} is not "
                          f"available (write {backend}://... to use the built-in one)") from exc
    return parsed.render_as_string(hide_password=False)


def ensure_instance(instance_path: Path) -> None:
    """Create the instance folder, or say clearly why it cannot be used."""
    try:
        instance_path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the instance folder {instance_path}: {exc.strerror}") from exc
    if not os.access(instance_path, os.W_OK):
        raise ConfigError(f"the instance folder {instance_path} is not writable")


def secret_key(settings: dict, instance_path: Path) -> str:
    """The configured key, else one generated once into the instance folder."""
    if settings.get("SECRET_KEY"):
        return str(settings["SECRET_KEY"])
    key_file = instance_path / SECRET_FILE
    if not key_file.exists():
        _write_new_key(key_file)
    key = key_file.read_text().strip()
    if not key:
        raise ConfigError(f"the secret key file {key_file} is empty; delete it and a new key is generated")
    return key


def _write_new_key(key_file: Path) -> None:
    """Write a key under a temporary name and link it into place.

    Workers starting together never see a half-written (empty) key file, and
    exactly one key wins: a worker whose link fails uses the one already there.
    """
    tmp = key_file.with_name(f".{key_file.name}.{secrets.token_hex(8)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, key_file)
        except FileExistsError:
            pass  # another worker process won the race
    except OSError as exc:
        raise ConfigError(f"cannot write the secret key to {key_file}: {exc.strerror}") from exc
    finally:
        tmp.unlink(missing_ok=True)

"""The IPAP 2 public information campaign planner."""

from __future__ import annotations

import fcntl
import os
import secrets
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Config, Flask
from flask_wtf.csrf import CSRFProtect

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
# A built wheel carries templates/ and static/ inside the package (setup.py copies them);
# a checkout, or an editable install, has them as top-level folders of the repository.
INSTALLED = (PACKAGE / "templates").is_dir()
ASSETS = PACKAGE if INSTALLED else ROOT

csrf = CSRFProtect()


def create_app(test_config: dict | None = None) -> Flask:
    # Installed from a wheel, the default instance folder is Flask's
    # (<prefix>/var/campaign-instance), never site-packages.
    default_instance = None if INSTALLED else str(ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=os.environ.get("CAMPAIGN_INSTANCE_PATH") or default_instance,
        instance_relative_config=True,
        template_folder=str(ASSETS / "templates"),
        static_folder=str(ASSETS / "static"),
    )
    app.config.from_object("campaign.config")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("CAMPAIGN")
    if test_config:
        app.config.update(test_config)
    _ensure_secret_key(app)
    _check_config(app)
    _apply_proxy_fix(app)

    from . import db, error_pages, history, i18n, logs, security, web
    from .api import views as api
    from .auth import views as auth
    from .calendar import views as calendar
    from .catalog import views as catalog
    from .cli import init_app as init_cli
    from .dashboard import views as dashboard
    from .events import views as events
    from .exports import views as exports
    from .media import views as media
    from .reports import views as reports
    from .series import views as series

    # Before any route is added: every <id:...> in a path is a row id the columns can hold.
    app.url_map.converters["id"] = web.IdConverter
    db.init_app(app)
    csrf.init_app(app)
    security.init_app(app)
    logs.init_app(app)
    error_pages.init_app(app)
    web.init_app(app)
    init_cli(app)
    auth.init_app(app)
    calendar.init_app(app)
    # After web: its date filters are replaced by ones that speak the page's language.
    i18n.init_app(app)
    history.init_app(app)
    app.register_blueprint(events.bp)
    app.register_blueprint(catalog.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(exports.bp)
    media.init_app(app)
    app.register_blueprint(reports.bp)
    api.init_app(app)
    app.register_blueprint(series.bp)
    return app


def _ensure_secret_key(app: Flask) -> None:
    """Outside production and tests, an installation that has not chosen a SECRET_KEY gets
    a random one of its own, written once to instance/config.py and read from there on
    every start: the built-in default is public, and anyone could sign a session with it.
    (Production refuses to start without a key of its own, see _check_config.)"""
    from .config import DEV_SECRET_KEY

    config = app.config
    if config["SECRET_KEY"] != DEV_SECRET_KEY or config["TESTING"] or config["PRODUCTION"]:
        return
    path = Path(app.instance_path) / "config.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    line = f'SECRET_KEY = "{secrets.token_hex(32)}"\n'
    # Create the file whole or not at all: a temporary file linked into place, which fails
    # if another process (a second worker starting) made it first.
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=".config-", suffix=".tmp", delete=False
    ) as tmp:
        tmp.write("# Made by the first start; never commit this file.\n" + line)
    try:
        os.link(tmp.name, path)
    except FileExistsError:
        # A config.py of the installation's own without a usable key: add one, unless a
        # process that held the lock before did.
        with open(path, "r+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            if _configured_secret(path) in (None, DEV_SECRET_KEY):
                text = handle.read()
                handle.write(("" if not text or text.endswith("\n") else "\n") + line)
    finally:
        os.unlink(tmp.name)
    config["SECRET_KEY"] = _configured_secret(path)


def _configured_secret(path: Path) -> str | None:
    loaded = Config(str(path.parent))
    loaded.from_pyfile(str(path))
    return loaded.get("SECRET_KEY")


def _check_config(app: Flask) -> None:
    from .config import DEV_SECRET_KEY

    try:
        app.config["CAMPAIGN_ZONE"] = ZoneInfo(app.config["TIMEZONE"])
    except Exception as exc:
        raise RuntimeError(
            f"CAMPAIGN_TIMEZONE {app.config['TIMEZONE']!r} is not an IANA zone"
        ) from exc
    _check_campaign_period(app.config)
    days = app.config["ACCOUNT_LINK_DAYS"]
    if isinstance(days, bool) or not isinstance(days, int | float) or not 0 < days <= 365:
        raise RuntimeError(
            f"CAMPAIGN_ACCOUNT_LINK_DAYS must be a number of days from 1 to 365, not {days!r}"
        )
    if app.config["PRODUCTION"]:
        if not app.config["SECRET_KEY"] or app.config["SECRET_KEY"] == DEV_SECRET_KEY:
            raise RuntimeError(
                "Refusing to start in production with the default SECRET_KEY: set CAMPAIGN_SECRET_KEY "
                "or SECRET_KEY in instance/config.py to a long random string."
            )
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True


def _check_campaign_period(config) -> None:
    """CAMPAIGN_START and CAMPAIGN_END: dates (YYYY-MM-DD in the environment) or None."""
    from datetime import date, datetime

    for key in ("CAMPAIGN_START", "CAMPAIGN_END"):
        value = config.get(key)
        if isinstance(value, datetime):
            value = value.date()
        elif isinstance(value, str) and value.strip():
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                raise RuntimeError(
                    f"CAMPAIGN_{key} {value!r} is not a date in the form YYYY-MM-DD"
                ) from None
        elif value in ("", None):
            value = None
        elif not isinstance(value, date):
            raise RuntimeError(f"CAMPAIGN_{key} must be a date in the form YYYY-MM-DD")
        config[key] = value
    start, end = config["CAMPAIGN_START"], config["CAMPAIGN_END"]
    if start and end and start > end:
        raise RuntimeError("CAMPAIGN_CAMPAIGN_START is after CAMPAIGN_CAMPAIGN_END")


def _apply_proxy_fix(app: Flask) -> None:
    """Trust ``X-Forwarded-*`` from the given number of proxies (werkzeug's ProxyFix).

    Off by default: without a proxy in front, those headers come from the client and must
    not decide the address that login throttling counts.
    """
    counts = {
        name: app.config[f"PROXY_FIX_X_{name.upper()}"]
        for name in ("for", "proto", "host", "port", "prefix")
    }
    for name, count in counts.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise RuntimeError(
                f"CAMPAIGN_PROXY_FIX_X_{name.upper()} must be a number of proxies (0 or more), "
                f"not {count!r}"
            )
    if any(counts.values()):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, **{f"x_{k}": v for k, v in counts.items()})

"""The IPAP 2 public information campaign planner."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask
from flask_wtf.csrf import CSRFProtect

ROOT = Path(__file__).resolve().parent.parent

csrf = CSRFProtect()


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("CAMPAIGN_INSTANCE_PATH") or str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object("campaign.config")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("CAMPAIGN")
    if test_config:
        app.config.update(test_config)
    _check_config(app)

    from . import db, error_pages, logs, security, web
    from .auth import views as auth
    from .calendar import views as calendar
    from .catalog import views as catalog
    from .cli import init_app as init_cli
    from .dashboard import views as dashboard
    from .events import views as events
    from .exports import views as exports

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
    app.register_blueprint(events.bp)
    app.register_blueprint(catalog.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(exports.bp)
    return app


def _check_config(app: Flask) -> None:
    from .config import DEV_SECRET_KEY

    try:
        app.config["CAMPAIGN_ZONE"] = ZoneInfo(app.config["TIMEZONE"])
    except Exception as exc:
        raise RuntimeError(
            f"CAMPAIGN_TIMEZONE {app.config['TIMEZONE']!r} is not an IANA zone"
        ) from exc
    if app.config["PRODUCTION"]:
        if not app.config["SECRET_KEY"] or app.config["SECRET_KEY"] == DEV_SECRET_KEY:
            raise RuntimeError(
                "Refusing to start in production with the default SECRET_KEY: set CAMPAIGN_SECRET_KEY "
                "or SECRET_KEY in instance/config.py to a long random string."
            )
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True

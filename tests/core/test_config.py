"""Configuration: defaults, instance/config.py, CAMPAIGN_* variables, production guard."""

from __future__ import annotations

import pytest

from campaign import create_app


def test_environment_overrides_instance_config(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text('CAMPAIGN_NAME = "From instance"\nEVENTS_PER_PAGE = 7\n')
    monkeypatch.setenv("CAMPAIGN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CAMPAIGN_EVENTS_PER_PAGE", "11")
    app = create_app()
    assert app.config["CAMPAIGN_NAME"] == "From instance"
    assert app.config["EVENTS_PER_PAGE"] == 11
    assert app.config["DATABASE_URL"] is None
    assert str(tmp_path) in str(app.extensions["campaign.engine"].url)


def test_production_refuses_default_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("CAMPAIGN_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="default SECRET_KEY"):
        create_app({"PRODUCTION": True})
    app = create_app({"PRODUCTION": True, "SECRET_KEY": "a real secret of some length"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_bad_time_zone_setting_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CAMPAIGN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CAMPAIGN_TIMEZONE", "Europe/Nowhere")
    with pytest.raises(RuntimeError, match="not an IANA zone"):
        create_app()


def test_postgres_url_uses_psycopg3(tmp_path, monkeypatch):
    monkeypatch.setenv("CAMPAIGN_INSTANCE_PATH", str(tmp_path))
    app = create_app({"DATABASE_URL": "postgresql://u@127.0.0.1:1/db"})
    assert app.extensions["campaign.engine"].url.drivername == "postgresql+psycopg"

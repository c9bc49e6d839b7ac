"""Entry point for production servers: ``gunicorn 'campaign.wsgi:app'``."""

from . import create_app

app = create_app({"PRODUCTION": True})

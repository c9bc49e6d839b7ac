"""gunicorn configuration for the campaign planner (read from the working directory, or
given with ``gunicorn -c /path/to/gunicorn.conf.py``).

    gunicorn -c gunicorn.conf.py            # serves campaign.wsgi:app on 127.0.0.1:8000

Command-line options override what is set here; ``GUNICORN_BIND``, ``WEB_CONCURRENCY``
and ``GUNICORN_ACCESSLOG`` (a file, ``-`` for stderr, empty for none) are read too.

The access log never shows the private feed's ``token=`` (nor ``password=`` or
``csrf_token=``) query values: every logged field that can carry a URL (request line,
query string, referrer, headers) has them replaced by ``redacted``.
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote_plus

from gunicorn.glogging import Logger

wsgi_app = "campaign.wsgi:app"
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
timeout = 60
graceful_timeout = 20
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
# gunicorn's default (Apache combined) format, plus the duration in milliseconds.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'

# Query parameters whose values never reach a log line (the same as the app's own log).
SECRET_PARAMETERS = frozenset({"token", "password", "csrf_token"})
# An API token's secret, under any parameter name (a client that put it in the address).
API_TOKEN_PREFIX = "cpt_"
_PAIR = re.compile(r"(?P<key>(?:^|(?<=[?&;]))[^=&;?#\s\"]+)=(?P<value>[^&;#\s\"]*)")


def redact(text: str) -> str:
    """``/calendar.ics?token=abc&theme=x`` -> ``/calendar.ics?token=redacted&theme=x``.

    Keys are compared decoded (``tok%65n`` is ``token`` to the app too)."""

    def replace(match: re.Match) -> str:
        if unquote_plus(match["key"]).strip().lower() in SECRET_PARAMETERS or unquote_plus(
            match["value"]
        ).strip().startswith(API_TOKEN_PREFIX):
            return f"{match['key']}=redacted"
        return match[0]

    return _PAIR.sub(replace, text) if "=" in text else text


class RedactingLogger(Logger):
    """gunicorn's logger, with secret query values removed from every access-log field."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            name: redact(value) if isinstance(value, str) else value
            for name, value in atoms.items()
        }


logger_class = RedactingLogger

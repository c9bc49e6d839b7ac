"""Helpers shared by the test suite and the scripts in bench/; not part of the installed app:
a throw-away PostgreSQL server (``pg``) and the production set-up driven over HTTP (``live``)."""

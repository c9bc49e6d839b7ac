"""Error pages: every failure a person can meet answers with a page (or, for feeds and
exports, plain text a calendar client shows), never a stack trace."""

from __future__ import annotations

from flask import Flask, abort, current_app, g, make_response, render_template, request
from flask_babel import gettext
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, NotFound

from .api.problems import problem_response
from .events.filters import FilterError


def _is_api() -> bool:
    """The API answers every error as RFC 9457 problem details, also for addresses that
    match no route (its blueprint's own handlers see only the routes it has)."""
    return request.path.startswith("/api/")


def _database_unavailable(exc: Exception):
    """A lost or refused database connection: 503 and a page, never a stack trace."""
    db_session = g.pop("db_session", None)
    if db_session is not None:
        try:
            db_session.rollback()
        except Exception:  # the connection is gone; pre-ping replaces it on next checkout
            db_session.invalidate()
        db_session.close()
    # Loading the account again would need the database: render the page as anonymous.
    g._login_user = current_app.login_manager.anonymous_user()
    current_app.logger.warning("database unavailable: %s", str(exc).splitlines()[0][:300])
    response = make_response(
        render_template(
            "error.html",
            code=503,
            message=gettext("The database is unavailable; try again in a minute."),
        ),
        503,
    )
    response.headers["Retry-After"] = str(current_app.config["DATABASE_RETRY_AFTER"])
    return response


MACHINE_SUFFIXES = ("ics", "csv", "xlsx", "json", "atom")


def _bad_input(message: str):
    if _is_api():
        return problem_response(400, message)
    # Feeds and exports answer in plain text so a calendar client shows the reason.
    if request.path.rsplit(".", 1)[-1] in MACHINE_SUFFIXES:
        return (message, 400, {"Content-Type": "text/plain; charset=utf-8"})
    return render_template("error.html", code=400, message=message), 400


def _refuse_nul_characters():
    """No text of the campaign can hold U+0000 (PostgreSQL's text type cannot store it):
    a request that carries one anywhere is refused before any query sees it."""
    form = request.form.items(multi=True) if request.method == "POST" else ()
    if "\x00" in request.path or any(
        "\x00" in key or "\x00" in value for key, value in (*request.args.items(multi=True), *form)
    ):
        abort(
            400,
            description=gettext(
                "The request contains the control character NUL (U+0000), which no text here can hold."
            ),
        )


def _address_exists() -> bool:
    """Some rule takes this path with some method (its converters accept the values)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in ("GET", "POST", "PATCH", "DELETE"):
        try:
            adapter.match(method=method)
        except NotFound:
            return False
        except HTTPException:
            continue
        return True
    return False


def init_app(app: Flask) -> None:
    app.before_request(_refuse_nul_characters)

    @app.errorhandler(404)
    def _not_found(_exc):
        if _is_api():
            return problem_response(404, gettext("There is no such page."))
        return render_template(
            "error.html", code=404, message=gettext("There is no such page.")
        ), 404

    @app.errorhandler(FilterError)
    def _bad_filter(exc: FilterError):
        return _bad_input(str(exc))

    @app.errorhandler(400)
    def _bad_request(exc):
        return _bad_input(exc.description)

    @app.errorhandler(403)
    def _forbidden(_exc):
        return render_template(
            "error.html", code=403, message=gettext("You may not see this page.")
        ), 403

    @app.errorhandler(405)
    def _method(exc):
        # RFC 9110 15.5.6: a 405 says which methods the address takes. werkzeug's
        # MethodNotAllowed knows them (valid_methods) and writes the Allow header in its
        # own response; this page keeps that header.
        allow = exc.get_response().headers.get("Allow") if hasattr(exc, "get_response") else None
        message = gettext("This address does not take that method.")
        if allow:
            message = gettext(
                "This address does not take that method; it takes %(allow)s.", allow=allow
            )
        headers = {"Allow": allow} if allow else {}
        if _is_api() and not _address_exists():
            # werkzeug says 405 when another method's rule has the same pattern, even if
            # the address names no row it could take (an id past the column's range).
            return problem_response(404, gettext("There is no such page."))
        if _is_api():
            return problem_response(405, message, headers=headers)
        return render_template("error.html", code=405, message=message), 405, headers

    @app.errorhandler(413)
    def _too_large(_exc):
        limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        if _is_api():
            return problem_response(
                413, gettext("What you sent is too large (at most %(limit)s MB).", limit=limit)
            )
        return render_template(
            "error.html",
            code=413,
            message=gettext("What you sent is too large (at most %(limit)s MB).", limit=limit),
        ), 413

    @app.errorhandler(429)
    def _too_many(exc):
        retry = getattr(exc, "retry_after", None)
        if _is_api():
            return problem_response(
                429,
                gettext("Too many writes with this token. Wait a minute, then try again."),
                parameter="Authorization",
                headers={"Retry-After": str(retry or 60)},
            )
        response = make_response(
            render_template(
                "error.html",
                code=429,
                message=gettext("Too many failed log-in attempts. Wait a minute, then try again."),
            ),
            429,
        )
        response.headers.setdefault("Retry-After", str(retry or 60))
        return response

    app.register_error_handler(OperationalError, _database_unavailable)

    @app.errorhandler(DBAPIError)
    def _dbapi_error(exc: DBAPIError):
        if exc.connection_invalidated or isinstance(exc.orig, _disconnect_errors()):
            return _database_unavailable(exc)
        raise exc


def _disconnect_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = []
    try:
        import psycopg

        errors += [psycopg.OperationalError, psycopg.InterfaceError]
    except ImportError:  # SQLite only
        pass
    return tuple(errors)

"""Logging in and out, the personal account page and (for admins) user management."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as browser_session
from flask_babel import gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..core.errors import NotAllowed, ValidationError
from ..core.models import utcnow
from ..db import get_session
from . import operations as ops
from .access import admin_required, login_manager
from .forms import (
    ApiTokenForm,
    ChoosePasswordForm,
    LoginForm,
    NewUserForm,
    PasswordChangeForm,
    UserForm,
)
from .models import ApiToken, User

bp = Blueprint("auth", __name__)

# Checked against when the e-mail is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("not a real password")


# Counts failed logins. Its storage comes from RATELIMIT_STORAGE_URI: memory:// is per
# process; several workers or hosts must share redis:// or memcached:// storage.
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def init_app(app) -> None:
    login_manager.init_app(app)
    limiter.init_app(app)
    app.register_blueprint(bp)


def _failed_login(response) -> bool:
    return response.status_code == 401


def _login_account() -> str:
    return "account:" + request.form.get("email", "").strip().lower()[:254]


def _login_address() -> str:
    # Behind a reverse proxy, wrap the app in werkzeug's ProxyFix so this is the client.
    return "address:" + (get_remote_address() or "unknown")


# What a browser's URL parser (WHATWG) silently removes before reading an address.
_URL_IGNORED = str.maketrans("", "", "\t\n\r")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site, else the home page.

    The target is judged as the browser will read it: tabs and newlines removed and
    leading and trailing control characters and spaces stripped ("/<tab>/evil.example" is
    "//evil.example" to a browser). Backslashes count as slashes there, so they are
    refused, and so is anything with a scheme or a host once normalised."""
    if target:
        path = target.translate(_URL_IGNORED).strip(_C0_AND_SPACE)
        parts = urlsplit(path)
        if (
            path.startswith("/")
            and not path.startswith("//")
            and "\\" not in path
            and not parts.scheme
            and not parts.netloc
            and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in path)
        ):
            return path
    return url_for("events.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_login_account,
    methods=["POST"],
    deduct_when=_failed_login,
    scope="login-account",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    key_func=_login_address,
    methods=["POST"],
    deduct_when=_failed_login,
    scope="login-address",
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("events.home"))
    form = LoginForm()
    if form.validate_on_submit():
        session = get_session()
        user = session.scalar(select(User).where(User.email == form.email.data.strip().lower()))
        usable = user is not None and ops.has_password(user)
        ok = check_password_hash(user.password_hash if usable else _DUMMY_HASH, form.password.data)
        ok = ok and usable
        if user and ok and user.active:
            # A new CSRF token for the new session: one read while anonymous (or planted
            # by someone else) is worth nothing once logged in.
            _forget_csrf_token()
            login_user(user)
            flash(gettext("Welcome, %(name)s.", name=user.display_name), "success")
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(
            gettext("Wrong e-mail or password, or the account is deactivated.")
        )
    return render_template("auth/login.html", form=form), 401 if request.method == "POST" else 200


@bp.post("/logout")
@login_required
def logout():
    ops.logged_out(get_session(), current_user)
    browser_session.clear()  # the CSRF token and anything else of the logged-in session
    logout_user()
    flash(gettext("You are logged out."), "info")
    return redirect(url_for("events.home"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    if request.method == "POST":
        ops.regenerate_feed_token(get_session(), current_user, current_user)
        flash(
            gettext("A new private feed address was made; the old one no longer works."),
            "success",
        )
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", **_api_token_context(current_user))


def _wrong_current_password(response) -> bool:
    return response.status_code == 400 and g.get("wrong_current_password", False)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(
    # Guessing the current password from a stolen session counts like failed logins.
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=lambda: "account:" + current_user.email,
    methods=["POST"],
    deduct_when=_wrong_current_password,
    scope="login-account",
)
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            ops.change_own_password(
                get_session(),
                user,
                form.current_password.data,
                form.new_password.data,
                form.repeat_password.data,
            )
        except ValidationError as exc:
            g.wrong_current_password = "current_password" in exc.errors
            _attach_errors(form, exc)
        else:
            # Every other session of the account has ended; this one goes on.
            _forget_csrf_token()
            login_user(user)
            flash(
                gettext("Your password is changed; you were logged out everywhere else."), "success"
            )
            return redirect(url_for("auth.account"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users():
    session = get_session()
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            if form.password.data:
                user = ops.create_user(
                    session,
                    current_user,
                    form.email.data,
                    form.password.data,
                    form.role.data,
                    form.name.data or "",
                )
            else:  # the person chooses a password through an invitation link
                issued = ops.invite_user(
                    session, current_user, form.email.data, form.role.data, form.name.data or ""
                )
                user = issued.user
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            flash(gettext("Account %(email)s created.", email=user.email), "success")
            if form.password.data:
                return redirect(url_for("auth.users"))
            return _show_link_once(issued)
    people = session.scalars(select(User).order_by(User.email)).all()
    status = 400 if request.method == "POST" else 200
    return render_template(
        "auth/users.html", form=form, people=people, has_password=ops.has_password
    ), status


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
@admin_required
def edit_user(user_id: int):
    session = get_session()
    user = session.get(User, user_id) or abort(404)
    form = UserForm(obj=user)
    if form.validate_on_submit():
        try:
            ops.update_user(
                session,
                current_user,
                user,
                role=form.role.data,
                active=form.active.data,
                name=form.name.data or "",
                password=form.password.data or None,
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        except NotAllowed as exc:
            flash(str(exc), "error")
        else:
            if user.id == current_user.id:  # a new password ended this session too
                login_user(user)
            flash(gettext("Account %(email)s saved.", email=user.email), "success")
            return redirect(url_for("auth.users"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "auth/user_edit.html",
        form=form,
        user=user,
        has_password=ops.has_password(user),
        issued=_issued_link_for(user),
        **_api_token_context(user),
    ), status


def _forget_csrf_token() -> None:
    """Drop the session's CSRF token, so that the next form gets a new one."""
    name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    browser_session.pop(name, None)
    g.pop(name, None)


def _attach_errors(form, exc: ValidationError) -> None:
    for name, message in exc.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + [message]
        else:
            flash(message, "error")


# -- personal API tokens -----------------------------------------------------------------


def _api_token_context(user: User, form: ApiTokenForm | None = None, secret: str = "") -> dict:
    return {
        "api_tokens": ops.api_tokens_of(get_session(), user),
        "token_form": form or ApiTokenForm(formdata=None),
        "new_token_secret": secret,
        "now": utcnow(),
    }


@bp.post("/account/tokens")
@login_required
def create_api_token():
    """A new token; the page shows its secret this once (and is never cached)."""
    form = ApiTokenForm()
    if form.validate_on_submit():
        try:
            token, secret = ops.create_api_token(
                get_session(), current_user, form.name.data, form.scope.data, form.lifetime()
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            flash(gettext("Token “%(name)s” was made.", name=token.name), "success")
            response = current_app.make_response(
                render_template(
                    "auth/account.html",
                    **_api_token_context(current_user, ApiTokenForm(formdata=None), secret),
                )
            )
            response.headers["Cache-Control"] = "no-store"
            return response
    return render_template("auth/account.html", **_api_token_context(current_user, form)), 400


def _revoke(token_id: int, owner: User | None) -> ApiToken:
    session = get_session()
    token = session.get(ApiToken, token_id)
    if token is None or (owner is not None and token.user_id != owner.id):
        abort(404)
    try:
        ops.revoke_api_token(session, current_user, token)
    except NotAllowed:
        abort(404)
    flash(gettext("Token “%(name)s” is revoked; it no longer works.", name=token.name), "success")
    return token


@bp.post("/account/tokens/<id:token_id>/revoke")
@login_required
def revoke_api_token(token_id: int):
    _revoke(token_id, current_user)
    return redirect(url_for("auth.account"))


@bp.post("/users/<id:user_id>/tokens/<id:token_id>/revoke")
@admin_required
def admin_revoke_api_token(user_id: int, token_id: int):
    user = get_session().get(User, user_id) or abort(404)
    _revoke(token_id, user)
    return redirect(url_for("auth.edit_user", user_id=user_id))


# --- Invitation and password-reset links (issue 16) -------------------------------------

ISSUED_LINK_KEY = "issued_account_link"


def _show_link_once(issued: ops.IssuedLink):
    """After POST, redirect; the account's page shows the link once (it is kept in the
    admin's own session until then, and only its hash in the database)."""
    browser_session[ISSUED_LINK_KEY] = {
        "user_id": issued.user.id,
        "url": ops.link_address(issued),
        "purpose": issued.purpose,
        "expires": issued.expires.isoformat(),
    }
    return redirect(url_for("auth.edit_user", user_id=issued.user.id))


def _issued_link_for(user: User) -> dict | None:
    issued = browser_session.get(ISSUED_LINK_KEY)
    if issued and issued.get("user_id") == user.id:
        browser_session.pop(ISSUED_LINK_KEY)
        return {**issued, "expires": datetime.fromisoformat(issued["expires"])}
    return None


@bp.post("/users/<id:user_id>/link")
@admin_required
def issue_link(user_id: int):
    """A new invitation (no password yet) or password-reset link; older ones stop working."""
    session = get_session()
    user = session.get(User, user_id) or abort(404)
    try:
        issued = ops.issue_link(session, current_user, user)
    except NotAllowed as exc:
        flash(str(exc), "error")
        return redirect(url_for("auth.edit_user", user_id=user.id))
    return _show_link_once(issued)


def _link_refused(response) -> bool:
    return response.status_code in (400, 404, 410)


def _link_token() -> str:
    return request.args.get("token", "")[:200]


@bp.route("/invitation", methods=["GET", "POST"], defaults={"purpose": "invitation"})
@bp.route("/password-reset", methods=["GET", "POST"], defaults={"purpose": "reset"})
@limiter.limit(
    # Unknown, spent and refused tries count, like failed logins (the tokens cannot be
    # guessed; this keeps a script from hammering the page).
    lambda: current_app.config["LINK_LIMIT_PER_ADDRESS"],
    key_func=_login_address,
    deduct_when=_link_refused,
    scope="account-link",
)
def choose_password(purpose: str):
    """The page an invitation or reset link opens: choose a password, then be logged in."""
    session = get_session()
    token = _link_token()
    try:
        link = ops.open_link(session, token)
        if link.purpose != purpose:
            raise ops.LinkUnusable(404, gettext("There is no such page."))
    except ops.LinkUnusable as exc:
        return _link_gone(exc)
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        try:
            user = ops.use_link(session, token, form.new_password.data, form.repeat_password.data)
        except ops.LinkUnusable as exc:
            return _link_gone(exc)
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            if current_user.is_authenticated:
                logout_user()
            browser_session.clear()
            login_user(user)
            flash(
                gettext("Your password is set; welcome, %(name)s.", name=user.display_name),
                "success",
            )
            return redirect(url_for("events.home"))
    status = 400 if request.method == "POST" else 200
    response = make_response(
        render_template("auth/choose_password.html", form=form, link=link, purpose=purpose),
        status,
    )
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address
    return response


def _link_gone(exc: ops.LinkUnusable):
    response = make_response(
        render_template("auth/link_gone.html", code=exc.status, message=exc.message),
        exc.status,
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response

"""Logging in and out, the personal account page and (for admins) user management."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..core.errors import NotAllowed, ValidationError
from ..db import get_session
from . import operations as ops
from .access import admin_required, login_manager
from .forms import LoginForm, NewUserForm, UserForm
from .models import User

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


def _safe_next(target: str | None) -> str:
    # Only local paths: "//evil.example" and "https://..." would send people away.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
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
        ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, form.password.data)
        if user and ok and user.active:
            login_user(user)
            flash(f"Welcome, {user.display_name}.", "success")
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("Wrong e-mail or password, or the account is deactivated.")
    return render_template("auth/login.html", form=form), 401 if request.method == "POST" else 200


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("events.home"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    if request.method == "POST":
        ops.regenerate_feed_token(get_session(), current_user, current_user)
        flash("A new private feed address was made; the old one no longer works.", "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html")


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users():
    session = get_session()
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = ops.create_user(
                session,
                current_user,
                form.email.data,
                form.password.data,
                form.role.data,
                form.name.data or "",
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            flash(f"Account {user.email} created.", "success")
            return redirect(url_for("auth.users"))
    people = session.scalars(select(User).order_by(User.email)).all()
    status = 400 if request.method == "POST" else 200
    return render_template("auth/users.html", form=form, people=people), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
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
            flash(f"Account {user.email} saved.", "success")
            return redirect(url_for("auth.users"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/user_edit.html", form=form, user=user), status


def _attach_errors(form, exc: ValidationError) -> None:
    for name, message in exc.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + [message]
        else:
            flash(message, "error")

"""Who may do and see what: the session's user, admin-only pages, and who sees drafts."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import LoginManager, current_user, login_required

from ..db import get_session
from .models import User

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see this page."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    if not (user_id.isascii() and user_id.isdigit()):
        return None
    return get_session().get(User, int(user_id))


def sees_drafts() -> bool:
    """Drafts are for organizers: every page, list, export and the month view ask here.
    (Feeds cannot log in: there a valid private feed token decides, see calendar.views.)"""
    return current_user.is_authenticated


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped

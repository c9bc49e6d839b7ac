"""Who may do and see what: the session's user, admin-only pages, and who sees drafts."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_babel import gettext
from flask_login import LoginManager, current_user, login_required

from ..db import get_session
from ..i18n import N_
from .models import User

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = N_("Please log in to see this page.")
# Flask-Login flashes the message through this, in the language of the request.
login_manager.localize_callback = gettext
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The account of a login session, as long as that session has not been ended: the
    id is "<user id>:<session version>" (User.get_id) and the version must be current."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isascii() and user_id.isdigit() and len(user_id) <= 18):
        return None
    user = get_session().get(User, int(user_id))
    if user is None or version != str(user.session_version):
        return None
    return user


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

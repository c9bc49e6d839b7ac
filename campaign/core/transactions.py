"""How every area's operations end a transaction: a refusal rolls back before it is
raised, and a row someone else saved meanwhile is a ConflictError, never a half write."""

from __future__ import annotations

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .errors import ConflictError


def refuse(session: Session, exc: Exception):
    """End the transaction (nothing was written) and raise ``exc``."""
    session.rollback()
    raise exc


def check_version(session: Session, row, expected_version: int, message: str) -> None:
    """Refuse with ``message`` when ``row`` is no longer at the version the edit began at."""
    if expected_version != row.version:
        refuse(session, ConflictError(message))


def commit(session: Session, message: str) -> None:
    """Commit; a concurrent save of the same row (the version column) is a ConflictError
    with ``message``, and nothing of this transaction is kept."""
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        raise ConflictError(message) from None

"""What the operations layer raises. Messages say what is wrong with the data, not with a
form or a command line: every interface shows them in its own way."""

from __future__ import annotations


class ValidationError(ValueError):
    """Input that breaks a rule; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class ConflictError(Exception):
    """Someone else saved the record after this edit began; nothing was written."""


class NotAllowed(Exception):
    """The operation is not possible for this record (e.g. deleting a published event)."""


class ClashesFound(Exception):
    """Saving would make the event clash with others (``clashes``, from events.clashes) and
    the caller did not accept that; nothing was written."""

    def __init__(self, clashes: list):
        self.clashes = clashes
        super().__init__(f"{len(clashes)} clash(es)")

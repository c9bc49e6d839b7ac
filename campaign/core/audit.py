"""The operations log: one line per write, naming who made it."""

from __future__ import annotations

import logging

log = logging.getLogger("campaign.operations")


def who(actor) -> str:
    return actor.email if actor else "system"

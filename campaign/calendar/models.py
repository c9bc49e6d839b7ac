"""What the calendar feeds keep in the database."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.models import Base, UTCDateTime, utcnow


class FeedState(Base):
    """One row whose ``generation`` rises with every write to what calendar feeds show
    (events, their themes and partners, themes, partners, venues).

    A feed request reads this one number to know whether its cached answer is still
    current, instead of reading every event's version (see campaign/calendar/feeds.py). It lives
    in the database, not in a worker's memory, so every gunicorn worker sees each change.
    """

    __tablename__ = "feed_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(default=0)
    # When the generation last rose, in whole seconds: the feeds' Last-Modified.
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Random per database: a worker's cached answers for generation N of one database are
    # never taken for generation N of another (a recreated or restored database).
    epoch: Mapped[str] = mapped_column(String(36), default=lambda: str(uuid.uuid4()))

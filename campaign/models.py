"""Every table of the campaign, imported from its area so that ``Base.metadata`` is
complete (Alembic, backups, tests)."""

from .auth.models import AccountLink, ApiToken, ApiTokenScope, LinkPurpose, User, UserRole
from .calendar.models import EventRendering, FeedState, RenderContextRow
from .catalog.models import Partner, PartnerKind, Theme, Venue
from .core.models import Base, UTCDateTime, utcnow
from .core.text import fold
from .events.models import (
    MAX_EVENT_DURATION,
    Event,
    EventChange,
    EventFormat,
    EventPartner,
    EventStatus,
    PartnerRole,
    event_themes,
)
from .media.models import (
    MediaItem,
    MediaItemChange,
    MediaKind,
    MediaStatus,
    MediaTone,
    media_item_events,
    media_item_themes,
)
from .series.models import Series, SeriesKind

__all__ = [
    "AccountLink",
    "ApiToken",
    "ApiTokenScope",
    "LinkPurpose",
    "MAX_EVENT_DURATION",
    "Base",
    "Event",
    "EventChange",
    "EventFormat",
    "EventPartner",
    "EventRendering",
    "EventStatus",
    "FeedState",
    "RenderContextRow",
    "MediaItem",
    "MediaItemChange",
    "MediaKind",
    "MediaStatus",
    "MediaTone",
    "Partner",
    "Series",
    "SeriesKind",
    "PartnerKind",
    "PartnerRole",
    "Theme",
    "UTCDateTime",
    "User",
    "UserRole",
    "Venue",
    "event_themes",
    "media_item_events",
    "media_item_themes",
    "fold",
    "utcnow",
]

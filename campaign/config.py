"""Built-in defaults. Overridden by ``instance/config.py``, then by ``CAMPAIGN_*`` variables."""

DEV_SECRET_KEY = "dev-only-secret-change-me"

SECRET_KEY = DEV_SECRET_KEY
# None means the embedded SQLite database at instance/campaign.sqlite3.
DATABASE_URL = None
# The campaign's own time zone: dates in filters and on pages are read in it.
TIMEZONE = "Europe/Belgrade"
CAMPAIGN_NAME = "IPAP 2 campaign"
# The campaign period (YYYY-MM-DD, inclusive): the dashboard's default range. None: from the
# first to the last event in the data, planned ones included (so every event counts).
CAMPAIGN_START = None
CAMPAIGN_END = None
# Language for visitors who choose none and send no Accept-Language: sr-Cyrl, sr-Latn or en.
DEFAULT_LOCALE = "sr-Cyrl"
# Names and acronyms that stay in Latin letters in the Cyrillic interface.
TRANSLITERATION_KEEP = ["EADRCC", "KFOR", "SPS", "PfP"]
# The ORGANIZER of every event in the feeds (RFC 5545 needs a cal-address: a mailto URI).
ORGANIZER_EMAIL = "campaign@ipap2.example.org"
# Absolute base URL used in feeds and exports when there is no request (CLI).
SITE_URL = "http://127.0.0.1:5000"
EVENTS_PER_PAGE = 25
# HTML event lists count matches up to this many, then say "more than" (a count that
# stops early costs the same at 1,000 events as at 100,000).
EVENTS_COUNT_LIMIT = 1000
# Events read per batch by exports: memory holds one batch; each batch is 3 SQL statements.
EXPORT_CHUNK_SIZE = 500
# Bytes a worker's feed caches (rendered VEVENTs, blocks, whole bodies) may hold; a feed
# larger than a fifth of it is streamed from the stored renderings instead of cached.
FEED_CACHE_BYTES = 128 * 1024 * 1024
# Milliseconds SQLite waits for a lock before giving up.
SQLITE_BUSY_TIMEOUT = 15000
PRODUCTION = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
MAX_CONTENT_LENGTH = 4 * 1024 * 1024
WTF_CSRF_TIME_LIMIT = None
# werkzeug method for new password hashes; scrypt is memory-hard.
PASSWORD_HASH_METHOD = "scrypt"
# Login throttling (Flask-Limiter). memory:// counts per worker process; with several
# gunicorn workers or hosts use shared storage, e.g. redis://localhost:6379 or
# memcached://localhost:11211 (see docs/reliability.md).
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_ENABLED = True
# Failed logins allowed per account (e-mail) and per client address.
LOGIN_LIMIT_PER_ACCOUNT = "5 per minute"
LOGIN_LIMIT_PER_ADDRESS = "20 per minute"
# Writes through the API, counted per token (same storage as the login limits).
API_WRITE_LIMIT = "60 per minute"


# Days an invitation or password-reset link works (single use; issue 16).
ACCOUNT_LINK_DAYS = 7
# Refused tries (unknown, used or expired link; a rejected password) per client address.
LINK_LIMIT_PER_ADDRESS = "20 per hour"
# Behind reverse proxies: how many of them set X-Forwarded-For, -Proto, -Host, -Port and
# -Prefix (werkzeug's ProxyFix). 0 ignores the header, as without a proxy clients could forge it.
PROXY_FIX_X_FOR = 0
PROXY_FIX_X_PROTO = 0
PROXY_FIX_X_HOST = 0
PROXY_FIX_X_PORT = 0
PROXY_FIX_X_PREFIX = 0
# Seconds a client is told to wait (Retry-After) when the database is unreachable.
DATABASE_RETRY_AFTER = 30
# Level of the campaign.* loggers (one line per request and per write) on stderr.
LOG_LEVEL = "INFO"

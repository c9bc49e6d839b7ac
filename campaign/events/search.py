"""The index behind ``q``: events' folded search text, indexed for substring search.

``events.search_text`` (kept by the write path, see ``operations.search_text``) is the text
``q`` matches: NFC, Latin letters, casefolded, without Serbian diacritics, so one folded
word matches Cyrillic and Latin, č and c alike. The filter keeps its plain condition
(``search_text LIKE '%word%'``), which is the meaning of ``q``; the index only finds the
candidate rows fast, on each database in its own way:

- **SQLite**: an FTS5 table with the ``trigram`` tokenizer over that column
  (``events_search``, external content: it stores only the index, the text stays in
  ``events``). Triggers on ``events`` keep it in the writing transaction, so an event
  saved, a venue, theme or partner renamed (which rewrites the events' search text) or an
  event deleted is found (or not) by the very next query. A word of three letters or more
  is an FTS5 phrase (its trigrams, in a row: a substring, as LIKE means);
  shorter words are matched by LIKE alone.
- **PostgreSQL**: a GIN index with ``pg_trgm``'s ``gin_trgm_ops`` on ``search_text``,
  which the planner uses for the ``LIKE`` condition itself.

Neither index is part of the SQLAlchemy models (an FTS5 table and an operator-class index
are not things the models can describe on both databases): migration 0012 makes them and
:func:`include_name` leaves them out of the autogenerate comparison.

A migration that rebuilds ``events`` on SQLite (Alembic's batch mode copying the table)
drops the triggers with the old table: call :func:`create_sqlite_index` after it
(``tests/core/test_schema.py`` checks that the triggers exist and that the index agrees
with the table).
"""

from __future__ import annotations

from sqlalchemy import column, table

from ..core.text import fold

FTS_TABLE = "events_search"
PG_INDEX = "ix_events_search_text_trgm"
# FTS5 trigram queries need at least this many characters; shorter words use LIKE only.
MIN_INDEXED_LENGTH = 3

# The FTS5 table as a query sees it (not in the metadata: no model, no autogenerate).
events_search = table(FTS_TABLE, column("rowid"), column(FTS_TABLE))

SQLITE_DDL = [
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
    "search_text, content='events', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON events BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
    f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON events BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF search_text ON events BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
    # Index what is there already (a no-op on an empty table).
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
]
SQLITE_TRIGGERS = (f"{FTS_TABLE}_insert", f"{FTS_TABLE}_delete", f"{FTS_TABLE}_update")

POSTGRES_DDL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX {PG_INDEX} ON events USING gin (search_text gin_trgm_ops)",
]


def create_sqlite_index(execute) -> None:
    """Make (or make again) the FTS5 table and its triggers; ``execute`` runs one SQL
    string (``op.execute`` in a migration)."""
    for name in SQLITE_TRIGGERS:
        execute(f"DROP TRIGGER IF EXISTS {name}")
    execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    for statement in SQLITE_DDL:
        execute(statement)


def match_expression(words) -> str | None:
    """The FTS5 query for ``q``'s words (each folded, as the search text is): every word
    long enough for the trigram index as a quoted phrase, all of them required; None when
    no word is long enough (LIKE alone then)."""
    phrases = []
    for word in words:
        folded = fold(word)
        if len(folded) >= MIN_INDEXED_LENGTH:
            phrases.append('"' + folded.replace('"', '""') + '"')
    return " AND ".join(phrases) or None


def include_name(name, type_, parent_names) -> bool:
    """Alembic's autogenerate hook: the search index is the migration's, not the models'."""
    if type_ == "table" and name and name.startswith(FTS_TABLE):
        return False
    return not (type_ == "index" and name == PG_INDEX)

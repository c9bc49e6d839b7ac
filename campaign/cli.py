"""Command-line tools: ``flask --app campaign init-db | create-user | invite | reset-link |
seed-demo | export | backup | restore``."""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select, text

from .auth import operations as user_ops
from .auth.models import User, UserRole
from .catalog.models import Theme
from .core import validation as rules
from .core.errors import NotAllowed, ValidationError
from .db import get_engine, get_session, read_only, writing
from .events.filters import EventFilter, FilterError
from .events.models import Event
from .migrate import upgrade


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(create_user)
    app.cli.add_command(seed_demo)
    app.cli.add_command(export)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
    app.cli.add_command(import_media)
    app.cli.add_command(invite)
    app.cli.add_command(reset_link)


@click.command("init-db")
@with_appcontext
@click.option(
    "--admin-email",
    metavar="EMAIL",
    help="If the database has no accounts yet, create this admin with a generated password "
    "and print it once.",
)
def init_db(admin_email: str | None) -> None:
    """Create or migrate the database to the latest schema; seed the IPAP 2 themes once."""
    upgrade(get_engine())
    session = get_session()
    session.execute(text("ANALYZE"))  # planner statistics, see operations.import_events
    session.commit()
    themes = session.scalar(select(func.count()).select_from(Theme))
    click.echo(f"Database is at the latest schema ({themes} themes).")
    if admin_email and not session.scalar(select(func.count()).select_from(User)):
        password = secrets.token_urlsafe(12)
        try:
            user = user_ops.create_user(
                session, None, admin_email, password, UserRole.admin.value, "Administrator"
            )
        except ValidationError as exc:
            raise click.BadParameter(str(exc), param_hint="--admin-email") from None
        click.echo("")
        login_url = current_app.config["SITE_URL"].rstrip("/") + "/login"
        click.echo(f"  An admin account was created. Log in at {login_url} with")
        click.echo(f"    e-mail:   {user.email}")
        click.echo(f"    password: {password}")
        click.echo("  This password is shown only once; change it at /account/password.")
        click.echo("")


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in UserRole]), required=True)
@click.option("--name", default="", help="The person's name.")
@click.option(
    "--password",
    help="The password (at least 10 characters, hard to guess); prompted for when omitted.",
)
def create_user(email: str, role: str, name: str, password: str | None) -> None:
    """Add an account."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = user_ops.create_user(writing(get_session()), None, email, password, role, name)
    except ValidationError as exc:
        for field, message in exc.errors.items():
            hint = "EMAIL" if field == "email" else f"--{field}"
            click.echo(f"Error: {hint}: {message}", err=True)
        raise SystemExit(2) from None
    click.echo(f"Created {user.role} {user.email}.")


def _print_link(issued) -> None:
    what = "Invitation" if issued.purpose == "invitation" else "Password reset"
    click.echo(
        f"{what} link for {issued.user.email} (works once, until {issued.expires:%Y-%m-%d %H:%M} UTC):"
    )
    click.echo(f"  {user_ops.link_address(issued)}")
    click.echo("Pass it on to the person; it is not stored and will not be shown again.")


def _account_by_email(email: str) -> User | None:
    """The account of an address typed on the command line; an address with a control
    character (NUL, which PostgreSQL cannot even compare) is a usage error before the look-up."""
    problem = rules.text(email)
    if problem is not None:
        click.echo(f"Error: EMAIL: {problem}", err=True)
        raise SystemExit(2)
    return get_session().scalar(select(User).where(User.email == email.strip().lower()))


@click.command("invite")
@with_appcontext
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([r.value for r in UserRole]),
    default=UserRole.organizer.value,
    show_default=True,
)
@click.option("--name", default="", help="The person's name.")
def invite(email: str, role: str, name: str) -> None:
    """Add an account without a password and print its invitation link (or a new link for
    an account that has not chosen its password yet)."""
    session = writing(get_session())
    user = _account_by_email(email)
    try:
        if user is None:
            issued = user_ops.invite_user(session, None, email, role, name)
        elif user_ops.has_password(user):
            click.echo(f"Error: {user.email} already has a password; use reset-link.", err=True)
            raise SystemExit(2)
        else:
            issued = user_ops.issue_link(session, None, user)
    except ValidationError as exc:
        for field, message in exc.errors.items():
            hint = "EMAIL" if field == "email" else f"--{field}"
            click.echo(f"Error: {hint}: {message}", err=True)
        raise SystemExit(2) from None
    except NotAllowed as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(2) from None
    _print_link(issued)


@click.command("reset-link")
@with_appcontext
@click.argument("email")
def reset_link(email: str) -> None:
    """Print a single-use password-reset link for an account; older links stop working."""
    session = writing(get_session())
    user = _account_by_email(email)
    if user is None:
        click.echo(f"Error: EMAIL: there is no account {email.strip()!r}.", err=True)
        raise SystemExit(2)
    try:
        issued = user_ops.issue_link(session, None, user)
    except NotAllowed as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(2) from None
    _print_link(issued)


@click.command("seed-demo")
@with_appcontext
@click.option(
    "--events", "count", type=click.IntRange(0, 2_000_000), default=400, show_default=True
)
@click.option(
    "--seed", type=int, default=2019, show_default=True, help="Random seed; same seed, same data."
)
@click.option(
    "--media",
    type=click.IntRange(0, 2_000_000),
    default=None,
    help="Media items to add (default: half as many as events).",
)
def seed_demo(count: int, seed: int, media: int | None) -> None:
    """Deterministic demo data: partners, venues, COUNT events and media items (only into
    an empty campaign)."""
    from .demo import seed_demo_data

    session = writing(get_session())
    if session.scalar(select(func.count()).select_from(Event)):
        click.echo("The campaign already has events; seed-demo only fills an empty one.")
        return
    with click.progressbar(length=count, label="Creating events", show_pos=True) as bar:
        made = seed_demo_data(session, count, seed, progress=bar.update, media=media)
    click.echo(
        f"Created {made['partners']} partners, {made['venues']} venues, {made['events']} events "
        f"and {made['media']} media items."
    )


# Filter parameter -> the option that carries it (``--format`` is the file format here).
EXPORT_FILTER_OPTIONS = {
    "theme": "--theme",
    "partner": "--partner",
    "format": "--event-format",
    "city": "--city",
    "status": "--status",
    "from": "--from",
    "to": "--to",
    "q": "--q",
}


@click.command("export")
@with_appcontext
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx", "json", "ics"]),
    required=True,
    help="The file format.",
)
@click.option(
    "--theme", multiple=True, metavar="SLUG", help="Theme slug; repeat for any of several."
)
@click.option("--partner", multiple=True, metavar="SLUG", help="Partner slug; repeatable.")
@click.option(
    "--event-format",
    multiple=True,
    metavar="FORMAT",
    help="panel, round_table or seminar; repeatable (the web's 'format' parameter).",
)
@click.option("--city", multiple=True, help="Venue city, case-insensitive; repeatable.")
@click.option("--status", multiple=True, help="draft, confirmed or cancelled; repeatable.")
@click.option(
    "--from", "date_from", metavar="YYYY-MM-DD", help="First day, in the campaign time zone."
)
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Last day, inclusive.")
@click.option("--q", metavar="WORDS", help="Words in title, description, venue or partner names.")
@click.option(
    "--drafts/--public",
    default=True,
    show_default=True,
    help="Include drafts, as an organizer's export does, or only what the public sees.",
)
@click.option(
    "--lang",
    type=click.Choice(["sr-Cyrl", "sr-Latn", "en"]),
    default=None,
    help="The language and script of the XLSX's headings and names and the ICS's texts "
    "(the web's ?lang=); default: the campaign's default language.",
)
@click.option(
    "-o",
    "--output",
    default="-",
    metavar="FILE",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write here instead of standard output; shows progress on standard error.",
)
def export(
    fmt, theme, partner, event_format, city, status, date_from, date_to, q, drafts, lang, output
):
    """Export events as CSV, XLSX, JSON or ICS: the same bytes as /events.csv etc.

    The filter options mean what the web's parameters mean. Staff run this command, so
    drafts are included unless --public is given.
    """
    from .i18n import default_tag, use_language

    with use_language(lang or default_tag()):
        _export(
            fmt, theme, partner, event_format, city, status, date_from, date_to, q, drafts, output
        )


def _export(fmt, theme, partner, event_format, city, status, date_from, date_to, q, drafts, output):
    from .exports import export_for_app

    session = read_only(get_session())
    args = {
        "theme": list(theme),
        "partner": list(partner),
        "format": list(event_format),
        "city": list(city),
        "status": list(status),
        "from": [date_from] if date_from else [],
        "to": [date_to] if date_to else [],
        "q": [q] if q is not None else [],
    }
    try:
        flt = EventFilter.parse(
            args, session, include_drafts=drafts, campaign_zone=current_app.config["CAMPAIGN_ZONE"]
        )
    except FilterError as exc:
        message = str(exc).removeprefix(f"{exc.param}: ")
        raise click.BadParameter(
            message, param_hint=f"'{EXPORT_FILTER_OPTIONS[exc.param]}'"
        ) from None
    to_stdout = output == "-"
    if to_stdout and fmt == "xlsx" and sys.stdout.isatty():
        raise click.UsageError("XLSX is a binary file: give -o FILE or redirect the output.")
    target = Path(output)
    if not to_stdout and not target.parent.is_dir():
        raise click.BadParameter(f"there is no directory {str(target.parent)!r}", param_hint="'-o'")

    # The progress bar is fed as batches are written; it is drawn only when writing a file.
    progress = ProgressFeed()
    chunks = export_for_app(fmt, session, flt, progress=progress.update)
    if to_stdout:
        sys.stdout.flush()
        stdout = sys.stdout.buffer
        for chunk in chunks:
            stdout.write(chunk)
        stdout.flush()
        return
    # A half-written file must never look like a finished export: write beside it, then rename.
    fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            if fmt == "ics":
                out.writelines(chunks)
            else:
                total = flt.count(session)
                with click.progressbar(
                    length=total, label=f"Exporting {total} events", file=sys.stderr, show_pos=True
                ) as bar:
                    progress.bar = bar
                    out.writelines(chunks)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    click.echo(f"Wrote {target}.", err=True)


class ProgressFeed:
    bar = None

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)


def _progress(table: str, rows: int) -> None:
    click.echo(f"  {table}: {rows} rows", err=True)


@click.command("backup")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def backup(file: Path, force: bool) -> None:
    """Write the whole campaign to FILE (JSON Lines; see docs/reliability.md)."""
    from .backup import backup_to_file

    if file.exists() and not force:
        click.echo(f"Error: {file} exists; choose another name or add --force.", err=True)
        raise SystemExit(2)
    if not file.parent.is_dir():
        click.echo(f"Error: the folder {file.parent} does not exist.", err=True)
        raise SystemExit(2)
    click.echo(f"Backing up to {file} ...", err=True)
    counts = backup_to_file(get_engine(), file, _progress)
    click.echo(f"Backed up {sum(counts.values())} rows to {file}.")


@click.command("restore")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def restore(file: Path) -> None:
    """Load a backup FILE into this (new, empty) database; all or nothing."""
    from .backup import BackupError
    from .backup import restore as restore_backup

    if not file.is_file():
        click.echo(f"Error: {file} is not a file.", err=True)
        raise SystemExit(2)
    click.echo(f"Restoring from {file} ...", err=True)
    try:
        with open(file, encoding="utf-8") as source:
            counts = restore_backup(get_engine(), source, _progress)
    except UnicodeDecodeError:
        click.echo(f"Error: {file} is not UTF-8 text; nothing was restored.", err=True)
        raise SystemExit(2) from None
    except BackupError as exc:
        click.echo(f"Error: {exc} Nothing was restored.", err=True)
        raise SystemExit(2) from None
    click.echo(f"Restored {sum(counts.values())} rows from {file}.")


@click.command("import-media")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_media(file: Path) -> None:
    """Import media items from a press-clipping CSV or XLSX file (date, outlet, kind,
    headline, link, reach, themes); reports each row; a malformed file writes nothing."""
    from flask_babel import gettext

    from .media.importer import MalformedFile, import_rows, read_file

    try:
        rows = read_file(file.read_bytes(), file.name)
    except MalformedFile as exc:
        raise click.ClickException(
            gettext("%(file)s: %(problem)s Nothing was imported.", file=file, problem=exc)
        ) from None
    total = len(rows)

    outcomes = {
        "created": gettext("created"),
        "updated": gettext("updated"),
        "unchanged": gettext("unchanged"),
        "refused": gettext("refused"),
    }

    def report(result) -> None:
        report.done += 1
        click.echo(
            gettext(
                "[%(done)s/%(total)s] line %(line)s: %(outcome)s",
                done=report.done,
                total=total,
                line=result.line,
                outcome=outcomes[result.outcome],
            )
            + (f" #{result.item_id}" if result.item_id else "")
            + (f": {result.message}" if result.message else "")
        )

    report.done = 0
    session = writing(get_session())
    results = import_rows(session, None, rows, current_app.config["CAMPAIGN_ZONE"], report)
    counts = {k: sum(1 for r in results if r.outcome == k) for k in
              ("created", "updated", "unchanged", "refused")}  # fmt: skip
    click.echo(
        gettext(
            "%(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
            "%(refused)s refused.",
            **counts,
        )
    )
    if counts["refused"]:
        sys.exit(1)

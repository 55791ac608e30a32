"""``surveyhub plugins`` and ``surveyhub instruments list | show ID | validate FILE... | import-xlsform FILE |
export-xlsform ID``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from surveyhub import plugin_problems
from surveyhub.cli.common import user_errors
from surveyhub.measures import definition, validation
from surveyhub.measures.definition import translate
from surveyhub.plugins import get_host, get_registry


@click.command("plugins")
@click.option("--clear-problems", is_flag=True,
              help="Forget the stored problems (after fixing a plugin), then list what is left.")
@with_appcontext
def plugins_command(clear_problems):
    """Installed plugins, their hooks and their status, with problems any process stored while running."""
    host = get_host()
    host.problems.flush()  # what this process saw is stored before anything is cleared or read
    if clear_problems:
        _clear_problems()
    problems = host.problems.stored(timeout=10)  # None: no table yet
    for status in host.overview(problems or []):
        version = f" {status.version}" if status.version else ""
        click.echo(f"{status.name}{version}  [{status.status}]  {status.source}")
        click.echo(f"    hooks: {', '.join(status.hooks) or '-'}")
        if status.last_error:
            click.echo(f"    last error: {status.last_error}")
    for error in get_registry().errors:
        click.echo(f"instrument error: {error}")
    if problems is None:
        click.echo("problems while running: unknown (the database is not set up; run `surveyhub init`)")
    for problem in problems or []:
        click.echo(f"problem while running: {problem.plugin}, {problem.hook}: {problem.count}x, last "
                   f"{problem.last_seen_at:%Y-%m-%d %H:%M} UTC: {problem.message}")


def _clear_problems() -> None:
    from surveyhub.cli.common import session_scope

    with session_scope() as session:
        cleared = plugin_problems.clear(session)
    click.echo(f"cleared {cleared} stored problem{'s' if cleared != 1 else ''}", err=True)


@click.group("instruments")
def instruments_group():
    """Measurement instruments."""


@instruments_group.command("list")
@with_appcontext
def instruments_list():
    """Every installed instrument and version."""
    for item in get_registry().all():
        scales = ", ".join(s["id"] for s in item.definition["scales"])
        click.echo(f"{item.id}@{item.version}  {translate(item.definition['title'], 'en')}  "
                   f"[{scales}]  ({item.source})")


@instruments_group.command("show")
@click.argument("instrument")
@click.option("--json", "as_json", is_flag=True, help="Print the normalised definition as JSON.")
@with_appcontext
@user_errors
def instruments_show(instrument, as_json):
    """One instrument: scales and items in every language (INSTRUMENT is id or id@version)."""
    from surveyhub.services.instruments import parse_ref

    instrument_id, version = parse_ref(instrument)
    loaded = get_registry().get(instrument_id, version)
    if loaded is None:
        raise click.ClickException(f"no instrument {instrument!r}; see `surveyhub instruments list`")
    if as_json:
        click.echo(json.dumps(loaded.definition, ensure_ascii=False, indent=2))
        return
    definition = loaded.definition
    click.echo(f"{loaded.id} version {loaded.version}  ({loaded.source})")
    for lang, text in definition["title"].items():
        click.echo(f"  title [{lang}]: {text}")
    for scale in definition["scales"]:
        click.echo(f"  scale {scale['id']} (scoring: {scale['scoring']['method']}, "
                   f"higher is better: {scale.get('higher_is_better', True)})")
        for item in scale["items"]:
            _echo_item(item, "    ")
    if definition.get("questions"):
        click.echo("  questions (not scored)")
        for item in definition["questions"]:
            _echo_item(item, "    ")


def _echo_item(item: dict, indent: str) -> None:
    flag = " (reverse)" if item.get("reverse") else ""
    click.echo(f"{indent}{item['id']} [{item['type']}]{flag}")
    for lang, text in item["text"].items():
        click.echo(f"{indent}  {lang}: {text}")


@instruments_group.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@with_appcontext
def instruments_validate(files):
    """Check instrument YAML files; exits non-zero when any is invalid."""
    registry = get_registry()
    failed = False
    for path in files:
        data, errors = None, []
        try:
            data = registry.load_file(path)
        except definition.InstrumentError as exc:
            errors = exc.errors
        if errors:
            failed = True
            for error in errors:
                click.echo(error, err=True)
            continue
        for warning in validation.translation_warnings(data, str(path)):
            click.echo(f"warning: {warning}")
        click.echo(f"{path}: valid")
    if failed:
        raise SystemExit(1)


@instruments_group.command("import-xlsform")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--org", "org_name", default=None, help="Store it as this organisation's own instrument (name or slug).")
@click.option("--check", is_flag=True, help="Only check the workbook; store nothing.")
@with_appcontext
@user_errors
def instruments_import_xlsform(file, org_name, check):
    """Read an XLSForm (Kobo/ODK .xlsx) as an instrument, checked as a YAML upload is; exits 1 with every problem."""
    from surveyhub.services import xlsform

    if not check and not org_name:
        raise click.UsageError("give --org ORG to store the instrument, or --check to only check it")
    try:
        with file.open("rb") as fh:
            content = fh.read(xlsform.MAX_BYTES + 1)
    except OSError as exc:
        raise click.ClickException(f"{file}: cannot read the file ({exc.strerror or exc})") from None
    registry = get_registry()
    try:
        if check:
            data = xlsform.parse_xlsform(content, str(file), **registry.known())
            click.echo(f"{file}: valid ({data['id']} version {data['version']})")
            return
        stored = _store_xlsform(content, str(file), org_name)
    except definition.InstrumentError as exc:
        for error in exc.errors:
            click.echo(error, err=True)
        raise SystemExit(1) from None
    click.echo(f"stored {stored[0]} version {stored[1]} for {org_name}")


def _store_xlsform(content: bytes, source: str, org_name: str) -> tuple[str, int]:
    from surveyhub.cli.common import session_scope
    from surveyhub.services import access, accounts, xlsform

    with session_scope() as session:
        org = accounts.find_organisation(session, org_name)
        stored = xlsform.upload(session, get_registry(), access.cli_actor(session, org_id=org.id), content, source)
        return stored.instrument_id, stored.version


@instruments_group.command("export-xlsform")
@click.argument("instrument")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The .xlsx file to write.")
@click.option("--org", "org_name", default=None, help="Also look in this organisation's own instruments.")
@with_appcontext
@user_errors
def instruments_export_xlsform(instrument, output, org_name):
    """Write INSTRUMENT (id or id@version) as an XLSForm for Kobo/ODK, checked with pyxform."""
    from surveyhub.services import xlsform_export
    from surveyhub.services.instruments import parse_ref

    instrument_id, version = parse_ref(instrument)
    found = _definition(instrument_id, version, org_name)
    if found is None:
        raise click.ClickException(f"no instrument {instrument!r}; see `surveyhub instruments list`")
    try:
        content = xlsform_export.export(found)
    except definition.InstrumentError as exc:
        raise click.ClickException(str(exc)) from None
    output.write_bytes(content)
    click.echo(f"wrote {found['id']} version {found['version']} to {output}")


def _definition(instrument_id: str, version: int | None, org_name: str | None) -> dict | None:
    if org_name:
        from surveyhub.cli.common import session_scope
        from surveyhub.services import accounts, instruments

        with session_scope(commit=False) as session:
            org = accounts.find_organisation(session, org_name)
            available = [a for a in instruments.available(session, get_registry(), org.id) if a.id == instrument_id
                         and (version is None or a.version == version)]
            if available:
                newest = max(available, key=lambda a: a.version)
                pair = instruments.definition_for(session, get_registry(), org.id, newest.id, newest.version)
                return pair[0] if pair else None
    loaded = get_registry().get(instrument_id, version)
    return loaded.definition if loaded else None


COMMANDS = [plugins_command, instruments_group]

"""``surveyhub badges``: a project's Open Badges 3.0 credentials.

``surveyhub badges PROJECT -o DIR`` issues what the project's rule gives (idempotent: a badge
issued before is kept, never issued twice) and writes every current badge as
``<code>-<skill>.jwt``; ``surveyhub badges PROJECT --list`` lists them;
``surveyhub badges revoke ID --reason TEXT`` revokes one (its status bit is set);
``surveyhub badges rule PROJECT off|improvement|level|either [--level KEY]`` sets the project's rule;
``surveyhub badges rotate-key --org ORG`` retires the organisation's signing key for a new one.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from surveyhub.cli.common import command_context, session_scope, user_errors
from surveyhub.services import badge_image, badges as badge_service
from surveyhub.services.errors import NotFound, UserError


class _ProjectFirst(click.Group):
    """``badges PROJECT ...`` reads as ``badges issue PROJECT ...``; ``badges revoke ID`` stays a command."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["issue", *args]
        return super().parse_args(ctx, args)


@click.group("badges", cls=_ProjectFirst)
def badges():
    """Open Badges 3.0: PROJECT -o DIR (issue and write), PROJECT --list, revoke ID --reason TEXT, rule."""


@badges.command("issue")
@click.argument("project")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the .jwt files (created when missing).")
@click.option("--list", "list_only", is_flag=True, help="Only list the project's badges; issue and write nothing.")
@click.option("--all", "with_revoked", is_flag=True, help="With --list: revoked badges too.")
@click.option("--svg", "with_svg", is_flag=True,
              help="Also write each badge as an image with the credential baked in (<code>-<skill>.svg).")
@with_appcontext
@user_errors
def issue(project: str, out_dir: Path | None, list_only: bool, with_revoked: bool, with_svg: bool):
    """Issue PROJECT's badges and write each as <code>-<skill>.jwt in DIR (or list them with --list)."""
    if list_only:
        with command_context(project_slug=project, commit=False) as ctx:
            found = badge_service.list_for_project(ctx, project, revoked=with_revoked)
        for info in found:
            state = f"revoked {info.revoked_at:%Y-%m-%d}: {info.revoked_reason}" if info.revoked_at else "valid"
            click.echo(f"{info.public_id}\t{info.participant_code}\t{info.skill}\t{info.kind}"
                       f"{'/' + info.level if info.level else ''}\t{info.issued_at:%Y-%m-%d}\t{state}")
        return
    if out_dir is None:
        raise click.UsageError("give -o DIR to write the badges, or --list to list them")
    with command_context(project_slug=project) as ctx:
        from surveyhub.models import Organisation

        row = ctx.project(project, "project.rows")
        org = ctx.session.get_one(Organisation, row.organisation_id)
        rule, org_name, colour = row.badge_rule, org.name, org.brand_colour
        before = {info.public_id for info in badge_service.list_for_project(ctx, project, revoked=True)}
        current = badge_service.issue_for_project(ctx, project)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        taken: set[str] = set()
        for info in current:
            name = _own_name(info, taken)
            _write(out_dir / name, info.jwt)
            if with_svg:
                _write(out_dir / name.replace(".jwt", ".svg"),
                       badge_image.svg(info.jwt, info.skill_in("nl"), info.level_in("nl") or "Gegroeid", org_name,
                                       colour))
    except OSError as exc:
        raise UserError(f"cannot write to {out_dir}: {exc.strerror}") from exc
    new = sum(1 for info in current if info.public_id not in before)
    if rule == "off":
        click.echo(f"{project}: the project's badge rule is off; no new badges issued", err=True)
    click.echo(f"{project}: {len(current)} badges in {out_dir} ({new} new)")


def _own_name(info: badge_service.BadgeInfo, taken: set[str]) -> str:
    """``<code>-<skill>.jwt``, or with the badge's id added when another badge has that name already: codes from
    an import may differ only in what a file name cannot hold ('K.001', 'K/001') or in case ('k-001')."""
    name = info.file_name
    if name.casefold() in taken:
        name = name.removesuffix(".jwt") + f"-{info.public_id[:8]}.jwt"
    taken.add(name.casefold())
    return name


def _write(target: Path, text: str) -> None:
    partial = target.with_suffix(".part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)


@badges.command("rule")
@click.argument("project")
@click.argument("rule", type=click.Choice(["off", "improvement", "level", "either"]))
@click.option("--level", default=None, help="For level badges: the lowest level key that earns one "
                                            "(default: each scale's highest level).")
@with_appcontext
@user_errors
def rule(project: str, rule: str, level: str | None):
    """Set what PROJECT issues badges for: off, improvement (reliable growth), level, or either."""
    with command_context(project_slug=project) as ctx:
        badge_service.set_rule(ctx, project, rule, level)
        choices = [key for key, _label in badge_service.level_choices(ctx, project)]
    click.echo(f"{project}: badges for {rule}" + (f" from level {level}" if level else ""))
    if rule in ("level", "either") and choices:
        click.echo(f"levels: {', '.join(choices)}", err=True)


@badges.command("revoke")
@click.argument("public_id")
@click.option("--reason", required=True, help="Why (kept with the badge; a verifier sees it).")
@with_appcontext
@user_errors
def revoke(public_id: str, reason: str):
    """Revoke badge PUBLIC_ID (its id as --list shows it); every verifier sees it revoked from then on."""
    from sqlalchemy import select

    from surveyhub.models import BadgeCredential

    with session_scope(commit=False) as session:
        org_id = session.scalar(select(BadgeCredential.organisation_id)
                                .where(BadgeCredential.public_id == public_id.strip()))
    if org_id is None:
        raise NotFound(f"no badge {public_id!r}")
    with command_context(org_id=org_id) as ctx:
        info = badge_service.revoke(ctx, public_id, reason)
    click.echo(f"badge {info.public_id} ({info.participant_code}, {info.skill}) revoked")


@badges.command("rotate-key")
@click.option("--org", required=True, help="The organisation (name or slug).")
@with_appcontext
@user_errors
def rotate_key(org: str):
    """Give ORG a new key for signing badges; badges signed with the old one stay valid."""
    from surveyhub.services import accounts

    with session_scope(commit=False) as session:
        org_id = accounts.find_organisation(session, org).id
    with command_context(org_id=org_id) as ctx:
        kid = badge_service.rotate_key(ctx)
    click.echo(f"new badge signing key {kid}; the old one stays published")


# --- surveyhub verify FILE.jwt ---------------------------------------------------------------------

#: ``surveyhub verify`` on a badge: only a valid one exits 0 (the codes a PDF's check uses where they match).
VERIFY_EXIT_CODES = {"valid": 0, "bad_signature": 3, "revoked": 4, "unknown_issuer": 5, "malformed": 5,
                     "expired": 6, "not_yet_valid": 6}
_VERDICTS = {"valid": "valid", "bad_signature": "altered: the signature does not match the content",
             "revoked": "revoked", "unknown_issuer": "unknown: no organisation of this installation issued it",
             "malformed": "unknown: this is not an Open Badge SurveyHub can read",
             "expired": "expired", "not_yet_valid": "not yet valid"}


def looks_like_badge(data: bytes) -> bool:
    """A compact JWS (three base64url parts) as ``surveyhub badges`` writes it, or an SVG with one baked in;
    a PDF is neither."""
    return (data.lstrip()[:3] == b"eyJ" and data.count(b".") == 2) or badge_image.baked_jwt(data) is not None


def verify_badge(data: bytes) -> int:
    """Print what checking the badge found (``badge_credentials.verify``) and return the exit code."""
    from surveyhub.cli.common import base_url
    from surveyhub.services import badge_credentials

    text = badge_image.baked_jwt(data) or data.decode("ascii", "replace")
    with session_scope(commit=False) as session:
        check = badge_credentials.verify(session, text, base_url())
    line = _VERDICTS[check.status]
    if check.achievement:
        line += f": {check.achievement}"
    if check.issuer_name and check.status != "unknown_issuer":
        line += f" (issued by {check.issuer_name}"
        line += f" from {check.valid_from:%Y-%m-%d})" if check.valid_from else ")"
    if check.status == "revoked" and check.revoked_at:
        line += f"; revoked {check.revoked_at:%Y-%m-%d}: {check.revoked_reason or ''}".rstrip(": ")
    click.echo(line)
    if check.narrative and check.status == "valid":
        click.echo(check.narrative)
    return VERIFY_EXIT_CODES[check.status]


COMMANDS: list = [badges]

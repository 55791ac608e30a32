"""A neighbourhood network's report: the member organisations side by side and combined, for a period.

Built on the engine under the organisation report (``across.summarise``) over the projects the
members opted in, with stricter rules than an organisation's own report, because every member
(and the municipality) reads the other members' figures:

* no project rows, no forest of projects, no quotes, no outputs' descriptions, no resident codes
  or names: only figures per organisation and combined;
* a project counts in change figures only with at least ``min_pairs`` pairs on a scale
  (the strictest "tests" threshold of the installation and every member), and a mean is shown only
  over at least that many pairs: an organisation's column with fewer shows "too few";
* every count of residents, pairs, activities, hours and outputs is rounded to a multiple of
  ``ROUNDING``, and a count below the floor is shown as ``"<5"``; so a project with 4 residents,
  opted in between two reports, cannot be read off their difference (the change figures do
  not move at all: it is too small to count in them).

Residents reached are counted once across organisations where they used the same self-made code
(``across.person_key``), in steps of ``ROUNDING`` (:func:`in_several`), so that no organisation can test
whether someone with a code it guessed took part elsewhere. ``docs/networks.md`` documents the JSON.
"""

from __future__ import annotations

from datetime import date, timezone
from typing import Any

from sqlalchemy import select

from surveyhub.models import NetworkMember, Organisation, Project
from surveyhub.models._types import utcnow
from surveyhub.services import access, across, across_period, networks
from surveyhub.services.context import ServiceContext
from surveyhub.services.errors import N_, Invalid

#: Raised when a key changes meaning; added keys do not raise it.
REPORT_VERSION = 1
#: Counts are rounded to a multiple of this.
ROUNDING = 5
#: Keys of the engine's pooled scale entry that the network report passes on (no forest, no projects).
SCALE_KEYS = ("instrument", "instrument_version", "scale", "title", "instrument_title", "higher_is_better", "range",
              "n_pairs", "pre", "post", "change", "effect_size", "test", "rci", "suppressed", "projects",
              "projects_too_small")
#: Counts in the totals that are rounded (projects and organisations are not about residents).
ROUNDED = ("residents", "pairs", "activities", "activity_hours", "resident_hours", "outputs")

METHOD = {
    "projects": "Each member organisation's admin chooses which of its projects count in the network. Only those "
                "projects count, with the data of the period.",
    "residents": "Residents reached are counted once: residents who made their own code are one person wherever "
                 "the same code appears, in any project of any member organisation. How many took part in several "
                 "organisations is rounded down to a multiple of 5 (0 below 5) before it is taken off the total, so "
                 "that no organisation can test whether one person took part elsewhere.",
    "change": "Per scale, the pairs of the projects that used the same instrument and version are pooled, per "
              "organisation and for the network. A project counts only with at least min_pairs pairs on the "
              "scale, and a mean is shown only over at least min_pairs pairs; otherwise the column says 'too few'. "
              "Change, intervals, effect sizes and tests are computed as in a project's own report. A project's "
              "pairs count in blocks of the installation's min_tests pairs (in the order their post questionnaires "
              "came in; a block counts when its last one was completed in the period), so two periods differ by "
              "whole blocks, never by one resident.",
    "rounding": "Counts are rounded to a multiple of 5 and counts below 5 are shown as '<5', so that no small "
                "project can be worked out by comparing two reports.",
    "privacy": "The report holds no project rows, no quotes and nothing about one resident. No organisation sees "
               "another organisation's residents.",
}


def report(ctx: ServiceContext, slug: str, *, start: date, end: date) -> dict[str, Any]:
    """The network ``slug``'s report for ``start`` … ``end`` (both inclusive), the same for every reader.

    :raises NotFound: for a network the actor's organisation is not in (or a funder not let in).
    :raises Invalid: when ``start`` is after ``end``.
    """
    network = access.network(ctx.session, ctx.actor, slug, "network.outcomes")
    if start > end:
        raise Invalid(N_("the period starts (%(start)s) after it ends (%(end)s)"),
                      start=start.isoformat(), end=end.isoformat())
    members = ctx.session.execute(
        select(Organisation).join(NetworkMember, NetworkMember.organisation_id == Organisation.id)
        .where(NetworkMember.network_id == network.id).order_by(Organisation.name)).scalars().all()
    thresholds = strictest(ctx, members)
    engine = {"min_means": thresholds["min_means"], "min_tests": thresholds["min_tests"],
              "min_cell": thresholds["min_cell"],
              "sources": {"min_means": "default", "min_tests": "default", "min_cell": "default"}}
    # Blocks of change are cut by the installation's threshold, not the members' (which a member may raise).
    block = across_period.block_size(ctx.thresholds)
    opted = networks.opted_in_projects(ctx, network)
    rows = {project.id: project for project in ctx.session.scalars(
        select(Project).where(Project.id.in_([pid for ids in opted.values() for pid in ids])))}

    def summary(project_ids: list[int]):
        return across.summarise(ctx.session, ctx.registry, [rows[pid] for pid in project_ids], start=start, end=end,
                                thresholds=engine, block=block, zone=ctx.timezone)  # type: ignore[arg-type]

    combined = summary([pid for ids in opted.values() for pid in ids])
    names = {rows[pid].slug: org.name for org in members for pid in opted.get(org.id, [])}
    organisations = []
    in_organisations = 0
    for org in members:
        own = summary(opted.get(org.id, []))
        in_organisations += own["totals"]["residents"]
        organisations.append({"name": org.name, "projects_opted_in": len(opted.get(org.id, [])),
                              **_totals(own["totals"], thresholds["min_cell"]),
                              "scales": [_side(entry, thresholds["min_pairs"]) for entry in own["scales"]]})
    shared = in_several(in_organisations - combined["totals"]["residents"], thresholds["min_cell"])
    reached = {**combined["totals"], "residents": in_organisations - shared}
    return {
        "report_version": REPORT_VERSION,
        "kind": "network",
        "generated_at": utcnow().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "network": {"slug": network.slug, "name": network.name, "area": network.area,
                    "description": network.description},
        "period": combined["period"],
        "thresholds": thresholds,
        "totals": {"organisations": len(members), **_totals(reached, thresholds["min_cell"])},
        "scales": [_pooled(entry, thresholds["min_pairs"]) for entry in combined["scales"]],
        "reliable_change": combined["reliable_change"],
        "organisations": organisations,
        "version_notes": _versions(combined["version_notes"], names),
        "limitations": _limitations(combined, shared),
        "method": METHOD,
    }


def strictest(ctx: ServiceContext, members) -> dict[str, int]:
    """The network's thresholds: the strictest of the installation's and every member's own.

    ``min_pairs`` is the tests threshold (never below the means threshold): a project counts in
    change figures, and a mean is shown, only from that many pairs on.
    """
    floors = ctx.thresholds
    min_pairs = max([floors.min_means, floors.min_tests]
                    + [value for org in members for value in (org.min_pairs_means, org.min_pairs_tests)
                       if value is not None])
    min_cell = max([floors.min_cell, ROUNDING] + [org.min_cell for org in members if org.min_cell is not None])
    min_pairs = max(min_pairs, 1)
    return {"min_pairs": min_pairs, "min_means": min_pairs, "min_tests": min_pairs, "min_cell": min_cell,
            "rounding": ROUNDING}


def rounded(value: float, floor: int) -> int | str:
    """0 stays 0; below ``floor`` is ``"<floor"``; anything else the nearest multiple of ``ROUNDING`` (half up)."""
    if not value:
        return 0
    if value < floor:
        return f"<{floor}"
    return int(value / ROUNDING + 0.5) * ROUNDING


def _totals(totals, floor: int) -> dict[str, Any]:
    return {"projects": totals["projects"], **{name: rounded(totals[name], floor) for name in ROUNDED}}


def _pooled(entry, min_pairs: int) -> dict[str, Any]:
    kept = {key: entry[key] for key in SCALE_KEYS if key in entry}
    kept["too_few"] = entry["n_pairs"] < min_pairs
    return kept


def _side(entry, min_pairs: int) -> dict[str, Any]:
    """An organisation's column for one scale: the change and its interval, or "too few"."""
    too_few = entry["n_pairs"] < min_pairs
    return {"instrument": entry["instrument"], "instrument_version": entry["instrument_version"],
            "scale": entry["scale"], "projects": entry["projects"], "too_few": too_few,
            "n_pairs": None if too_few else entry["n_pairs"],
            "change": {"mean": None if too_few else entry["change"]["mean"],
                       "ci95": None if too_few else entry["change"]["ci95"]},
            "effect_size": {"d_z": None if too_few else entry["effect_size"]["d_z"],
                            "g_av": None if too_few else entry["effect_size"]["g_av"]}}


def _versions(notes, names: dict[str, str]) -> list[dict[str, Any]]:
    """Where versions differ: per version the organisations that used it and how many projects, never which."""
    return [{"instrument": note["instrument"], "title": note["title"],
             "versions": [{"version": use["version"], "projects": len(use["projects"]),
                           "organisations": sorted({names[slug] for slug in use["projects"] if slug in names})}
                          for use in note["versions"]]} for note in notes]


def in_several(overlap: int, floor: int) -> int:
    """How many residents the network counts once although they took part in several organisations.

    The exact number of people with the same self-made code in two organisations is an oracle: an
    organisation that adds one participant with a guessed code (a neighbour's initials and birthday)
    would see the total or the limitation move when that person took part elsewhere, and so learn that
    they did. So it is rounded down to a multiple of ``ROUNDING``, and none below ``floor``: one code,
    or a handful, never moves the report (up to a few residents in several organisations are counted
    in each of them; the limitation says so from ``floor`` on).
    """
    if overlap < max(floor, ROUNDING):
        return 0
    return overlap - overlap % ROUNDING


def _limitations(combined, shared: int) -> list[str]:
    found = ["no_control_group", "self_report", "not_a_ranking", "counts_rounded"]
    if combined["version_notes"]:
        found.append("versions_differ")
    if any(entry["projects_too_small"] for entry in combined["scales"]):
        found.append("projects_too_small")
    if shared:
        found.append("same_residents_in_several_organisations")
    if not combined["totals"]["pairs"]:
        found.append("no_pairs")
    if any(entry["blocks_differ"] for entry in combined["scales"]):
        found.append("change_in_blocks")
    return found

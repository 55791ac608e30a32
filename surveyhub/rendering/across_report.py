"""The organisation's year report and the network report, from their JSON to PDF.

One template for both (``across_report.html``): a cover with the headline figures
(residents reached, projects, activities, hours), what was done per project, per skill
the pooled change in words and numbers with a forest plot of the projects, the note where
projects used different versions of a questionnaire, reliable change overall, what
residents said, what the figures cannot tell and the method. A network report
(``network`` and ``organisations`` in the JSON) has no projects, forest or quotes (only
suppressed totals leave an organisation) and shows the organisations side by side.

Every number comes from the report JSON (``services.org_report`` / the network report),
formatted by ``surveyhub.locale``; the sentences per skill are the project report's own
(``report_words``), so a skill reads the same in both reports. Nothing is recomputed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from surveyhub.locale import iso_utc, join_words, translate
from surveyhub.rendering import charts, report_words, svg, texts
from surveyhub.rendering.across_texts import ACROSS
from surveyhub.rendering.formatting import numbers
from surveyhub.rendering.render import Images, get_renderer

TEMPLATE = "across_report.html"
#: Outputs listed per project; the rest is counted ("And 4 more.").
MAX_OUTPUTS = 6
MAX_QUOTES = 8
MAX_QUOTE_CHARS = 400
#: Rows in one forest plot (projects); more are left out of the drawing, never out of the pooled row.
MAX_FOREST_ROWS = 24


def plural(t: dict, key: str, count: int) -> str:
    """``key`` or, for exactly one, ``key_one`` (the catalog's texts have no plural forms)."""
    return t[f"{key}_one"] if count == 1 else t[key]


def words(lang: str) -> dict:
    """The project report's texts (its sentences per skill) with this report's own on top."""
    return {**texts.REPORT[lang], **ACROSS[lang]}


def _day(value: str | None, lang: str) -> str:
    return numbers(lang).date(date.fromisoformat(value)) if value else ""


def period_text(period: dict, lang: str) -> str:
    """"1 januari 2026 tot 31 december 2026"."""
    return ACROSS[lang]["period_both"].format(start=_day(period["start"], lang), end=_day(period["end"], lang))


def short_period(period: dict, lang: str) -> str:
    """"2026" for a whole calendar year, else the two dates: the register's and the file's name for the period."""
    start, end = date.fromisoformat(period["start"]), date.fromisoformat(period["end"])
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return str(start.year)
    return period_text(period, lang)


def hours(value, lang: str) -> str:
    """Hours as a whole number when whole, else one decimal ("12,5")."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        return numbers(lang).count(int(value))
    return numbers(lang).number(value, 1) if isinstance(value, (int, float)) else numbers(lang).count(value)


# --- the cover ---------------------------------------------------------------------------------------------

def headline(report: dict, lang: str, t: dict) -> list[dict]:
    n = numbers(lang)
    totals = report["totals"]
    figures = [{"value": n.count(totals["residents"]), "label": t["fig_residents"],
                "note": t["fig_residents_note"] if totals["projects"] > 1 else ""}]
    if report.get("network"):
        figures.append({"value": n.count(totals["organisations"]), "label": t["fig_organisations"], "note": ""})
    figures.append({"value": n.count(totals["projects"]), "label": t["fig_projects"], "note": ""})
    figures.append({"value": n.count(totals["activities"]), "label": t["fig_activities"], "note": ""})
    figures.append({"value": hours(totals["resident_hours"], lang), "label": t["fig_hours"], "note": ""})
    return figures


# --- what was done -----------------------------------------------------------------------------------------

def projects(report: dict, lang: str, t: dict) -> list[dict]:
    n = numbers(lang)
    shown = []
    for row in report.get("projects") or []:
        outputs = [{"date": _day(o["date"], lang), "description": o["description"]}
                   for o in row["outputs"][:MAX_OUTPUTS]]
        more = len(row["outputs"]) - len(outputs)
        shown.append({"name": row["name"],
                      "line": t["project_line"].format(residents=n.count(row["residents"]),
                                                       activities=n.count(row["activities"]),
                                                       hours=hours(row["resident_hours"], lang)),
                      "pairs": t["project_pairs"].format(pairs=n.count(row["pairs"])) if row["pairs"] else "",
                      "outputs": outputs, "more": t["more_outputs"].format(n=n.count(more)) if more > 0 else ""})
    return shown


# --- per skill ---------------------------------------------------------------------------------------------

def forest_rows(entry: dict, lang: str, t: dict) -> list[dict]:
    """The forest plot's rows from the JSON's ``forest``: projects (hidden ones in words), the pooled row last."""
    n = numbers(lang)
    rows = []
    for row in entry.get("forest") or []:
        pooled = row["kind"] == "pooled"
        label = t["forest_pooled"] if pooled else (row["name"] or "")
        rows.append({"label": label, "sub": t["forest_pairs"].format(n=n.count(row["n_pairs"])),
                     "change": row["mean"], "ci": row["ci95"], "pooled": pooled,
                     "note": t["forest_hidden"]})
    projects_only = [row for row in rows if not row["pooled"]][:MAX_FOREST_ROWS]
    return projects_only + [row for row in rows if row["pooled"]]


def _not_drawn(entry: dict) -> int:
    """Projects beyond ``MAX_FOREST_ROWS``, left out of the drawing (never out of the pooled row)."""
    return max(0, sum(row["kind"] != "pooled" for row in entry.get("forest") or []) - MAX_FOREST_ROWS)


def reference_line(entry: dict, report: dict, lang: str, t: dict) -> str:
    """"Compared with similar projects" (``services.reference``), when the JSON has a shown value for this scale."""
    key = f"{entry['instrument']}@{entry['instrument_version']}/{entry['scale']}"
    ref = (report.get("reference") or {}).get(key)
    if not isinstance(ref, dict) or ref.get("mean_change") is None or ref.get("projects") is None:
        return ""
    n = numbers(lang)
    values = {"projects": n.count(ref["projects"]), "organisations": n.count(ref.get("organisations")),
              "change": n.signed(ref["mean_change"], 1)}
    if ref.get("improved_share") is not None:
        return t["reference_line"].format(**values, share=n.percent(ref["improved_share"]))
    return t["reference_short"].format(**values)


def skills(report: dict, draw: Callable[[str], dict], lang: str, t: dict) -> list[dict]:
    """Per pooled scale: its title, what is pooled, the sentences, the reference, and its forest plot as ``draw``
    makes it (an embedded image in the PDF, inline SVG on the page), with the forest's rows for a table."""
    n = numbers(lang)
    limits = report["thresholds"]
    found = []
    for entry in report["scales"]:
        title = translate(entry["title"], lang)
        rows = forest_rows(entry, lang, t)
        chart = None
        if sum(not row["pooled"] for row in rows) > 1:  # one project beside its own total says nothing new
            drawn = charts.forest_plot(rows, title=t["forest_title"].format(skill=title), axis=t["forest_axis"],
                                       lang=lang)
            chart = draw(drawn)
        left_out = entry.get("projects_too_small") or 0
        found.append({
            "title": title, "version": _version_mark(entry, title, lang, t),
            "pooled": plural(t, "pooled_from", entry.get("projects", 0)).format(
                projects=n.count(entry.get("projects", 0)), pairs=n.count(entry["n_pairs"])),
            "words": " ".join(report_words.skill_details(entry, lang, t, limits)),
            "left_out": plural(t, "left_out", left_out).format(n=n.count(left_out), min=n.count(limits["min_means"]))
            if left_out else "",
            "reference": reference_line(entry, report, lang, t),
            "forest": chart, "rows": [_table_row(row, n, t) for row in rows] if chart else [],
            "forest_more": plural(t, "forest_more", _not_drawn(entry)).format(n=n.count(_not_drawn(entry)))
            if chart and _not_drawn(entry) else "",
        })
    return found


def _table_row(row: dict, n, t: dict) -> dict:
    """A forest row as a table row: the same numbers as the drawing, for a screen reader and a quick read."""
    shown = row["change"] is not None
    return {"label": row["label"], "pairs": row["sub"], "pooled": row["pooled"],
            "change": n.signed(row["change"]) if shown else row["note"],
            "ci": n.interval(row["ci"]) if shown and row["ci"] else ""}


def _version_mark(entry: dict, title: str, lang: str, t: dict) -> str:
    """"version 2", after the questionnaire's name where it differs from the skill's."""
    version = t["version_mark"].format(version=entry["instrument_version"])
    instrument = translate(entry["instrument_title"], lang)
    return version if instrument == title else f"{instrument}, {version}"


def report_words_alt(drawn: str) -> str:
    """A chart's alternative text: the words of its ``<desc>``, as the project report does."""
    from surveyhub.rendering.report import _alt

    return _alt(drawn, "")


def version_notes(report: dict, lang: str, t: dict) -> list[str]:
    lines = []
    for note in report.get("version_notes") or []:
        uses = [t["version_use"].format(version=use["version"], projects=join_words(list(use["projects"]), lang))
                if isinstance(use["projects"], list) else  # a network names organisations, never projects
                t["version_use_count"].format(version=use["version"], projects=numbers(lang).count(use["projects"]),
                                              organisations=join_words(list(use.get("organisations") or []), lang))
                for use in note["versions"]]
        lines.append(t["version_line"].format(instrument=translate(note["title"], lang), uses="; ".join(uses)))
    return lines


def reliable_change(report: dict, lang: str, t: dict) -> list[str]:
    n = numbers(lang)
    rc = report["reliable_change"]
    counts = (rc["improved"], rc["unchanged"], rc["deteriorated"])
    lines = []
    if rc["scales"] and all(count is not None for count in counts):
        improved, unchanged, deteriorated = (report_words.count_words(c, n, t) for c in counts)
        lines.append(t["rc_overall"].format(scales=n.count(rc["scales"]), n=n.count(rc["n"]), improved=improved,
                                            unchanged=unchanged, deteriorated=deteriorated))
    else:
        lines.append(t["rc_none"])
    if rc.get("scales_left_out"):
        lines.append(plural(t, "rc_left_out", rc["scales_left_out"]).format(n=n.count(rc["scales_left_out"])))
    return lines


# --- the network: organisations side by side ---------------------------------------------------------------

def organisations(report: dict, lang: str, t: dict) -> dict | None:
    """The member organisations' totals side by side, and their change per skill (``None``: not a network)."""
    members = report.get("organisations")
    if not members:
        return None
    n = numbers(lang)
    rows = [[m["name"], n.count(m.get("projects")), n.count(m.get("residents")), n.count(m.get("activities")),
             hours(m.get("resident_hours", m.get("hours")), lang)] for m in members]
    totals = report["totals"]
    rows.append([t["together"], n.count(totals["projects"]), n.count(totals["residents"]),
                 n.count(totals["activities"]), hours(totals["resident_hours"], lang)])
    change = []
    for entry in report["scales"]:
        key = (entry["instrument"], entry["instrument_version"], entry["scale"])
        cells = []
        for member in members:
            found = next((s for s in member.get("scales") or []
                          if (s["instrument"], s.get("instrument_version", key[1]), s["scale"]) == key), None)
            cells.append(_change_cell(found, n, t))
        cells.append(_change_cell(entry, n, t))
        change.append({"skill": translate(entry["title"], lang), "cells": cells})
    return {"head": [t["col_organisation"], t["col_projects"], t["col_residents"], t["col_activities"],
                     t["col_hours"]],
            "rows": rows, "names": [m["name"] for m in members] + [t["together"]], "change": change}


def _change_cell(entry: dict | None, n, t: dict) -> str:
    if entry is None or entry["change"]["mean"] is None:
        return t["too_few"]
    ci = entry["change"].get("ci95")
    return n.signed(entry["change"]["mean"]) + (f" ({n.interval(ci)})" if ci else "")


# --- the rest ----------------------------------------------------------------------------------------------

LIMITATIONS = {"no_control_group": "lim_comparison", "self_report": "lim_self_report", "versions_differ":
               "lim_versions", "projects_too_small": "lim_too_small", "same_residents_in_several_projects":
               "lim_same_residents", "no_pairs": "lim_no_pairs", "not_a_ranking": "lim_not_a_ranking",
               "counts_rounded": "lim_counts_rounded",
               "same_residents_in_several_organisations": "lim_same_residents_orgs", "change_in_blocks": "lim_blocks"}


def limitations(report: dict, lang: str, t: dict) -> list[str]:
    lines = []
    for key in report.get("limitations") or []:
        if key == "match_rate":
            lines.append(t["lim_match_rate"].format(rate=numbers(lang).percent(report.get("match_rate"))))
        elif key in LIMITATIONS:
            lines.append(t[LIMITATIONS[key]])
    return lines


def quotes(report: dict, t: dict) -> list[dict]:
    shown, seen = [], set()
    for quote in report.get("quotes") or []:
        text = " ".join(quote["text"].split())
        if text and text not in seen:
            seen.add(text)
            shown.append({"text": text if len(text) <= MAX_QUOTE_CHARS else text[: MAX_QUOTE_CHARS - 1] + "…",
                          "source": t["quote_from"].format(project=quote["project"]) if quote.get("project") else ""})
    return shown[:MAX_QUOTES]


def method(report: dict, data: dict, lang: str, t: dict) -> dict:
    limits = report["thresholds"]
    n = numbers(lang)
    lines = [t["m_period"], t["m_blocks"], t["m_residents"], t["m_pooling"]]
    if report.get("network"):
        lines.append(t["m_network"])
    else:
        lines.append(t["m_forest"])
    lines += [t["m_change"], t["m_reliable_change"]]
    used: dict[tuple[str, int], str] = {}
    for row in report.get("projects") or []:
        for instrument in row["instruments"]:
            used[(instrument["id"], instrument["version"])] = translate(instrument["title"], lang)
    for entry in report["scales"]:
        used.setdefault((entry["instrument"], entry["instrument_version"]), translate(entry["instrument_title"], lang))
    return {"lines": lines,
            "thresholds": t["m_thresholds"].format(min_means=n.count(limits["min_means"]),
                                                   min_tests=n.count(limits["min_tests"]),
                                                   min_cell=n.count(limits["min_cell"])),
            "instruments": [f"{title} ({key[0]}, {key[1]})" for key, title in sorted(used.items())]}


def context(data: dict, *, code: str, issued_at: datetime, verify_url: str) -> tuple[dict, Images]:
    """The template context and images of one report. ``data``: see ``services.across_documents``."""
    lang = texts.language(data["lang"])
    t = words(lang)
    images = Images()
    report = data["report"]
    network = report.get("network")
    org = data["organisation"]
    name = network["name"] if network else org["name"]
    kicker = t["kicker_network"] if network else t["kicker_org"]
    member_names = [m["name"] for m in report.get("organisations") or []]
    return {
        "lang": lang, "t": t, "brand": svg.safe_colour(None if network else org.get("brand_colour")),
        "created": iso_utc(issued_at), "doc_title": f"{kicker} — {name}",
        "organisation": {"name": org["name"], "logo": None if network else images.logo(org.get("logo"),
                                                                                        org.get("logo_type"))},
        "name": name, "kicker": kicker, "network": network,
        "members": t["members"].format(organisations=join_words(member_names, lang)) if member_names else "",
        "period": period_text(report["period"], lang), "figures": headline(report, lang, t),
        "issued_on": numbers(lang).date(issued_at), "code": code, "verify_url": verify_url,
        "qr": images.qr(verify_url),
        "projects": projects(report, lang, t), "is_network": bool(network),
        "skills": skills(report, lambda drawn: {"src": images.svg(drawn), "alt": report_words_alt(drawn)}, lang, t),
        "skills_lead": report_words.common_lead(report["scales"], lang, t) if report["scales"] else [],
        "score_explained": _score_explained(report, lang, t),
        "versions": version_notes(report, lang, t), "reliable_change": reliable_change(report, lang, t),
        "organisations": organisations(report, lang, t),
        "quotes": quotes(report, t), "limitations": limitations(report, lang, t),
        "method": method(report, data, lang, t),
    }, images


def _score_explained(report: dict, lang: str, t: dict) -> str:
    from surveyhub.rendering.report import score_explained

    return score_explained({"scales": report["scales"], "retrospective": []}, lang, t)  # type: ignore[typeddict-item]


def render(data: dict, *, code: str, issued_at: datetime, verify_url: str) -> bytes:
    from surveyhub.rendering.verify import identifier

    ctx, images = context(data, code=code, issued_at=issued_at, verify_url=verify_url)
    return get_renderer().pdf(TEMPLATE, ctx, images=images, identifier=identifier(code))

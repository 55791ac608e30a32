"""The funder's impact report, from the demo project's real report JSON (``services.outcomes``).

Every figure in the PDF must be the report JSON's figure, formatted the Dutch
way; small groups get words, never numbers.
"""

from __future__ import annotations

from surveyhub.rendering import formatting as fmt
from surveyhub.plugins import get_registry
from surveyhub.services import documents as docs
from surveyhub.services import outcomes
from tests.fixtures.documents import (BASE_URL, alt_texts, consent, demo,  # noqa: F401 (fixture)
                                      pdf_reader, pdf_text)
from tests.fixtures.outcomes import answer, at_levels


def _report(app, session, d, **kwargs):
    report = outcomes.project_report(session, get_registry(app), d.actor, d.slug)
    issued = docs.issue_report(session, get_registry(app), d.actor, d.slug, base_url=BASE_URL, report=report, **kwargs)
    session.commit()
    return report, issued


def _mean_sd(part):
    return f"{fmt.number(part['mean'], 2)} ({fmt.number(part['sd'], 2)})"


def test_every_figure_is_the_report_jsons(app, session, demo):
    report, issued = _report(app, session, demo)
    text = pdf_text(issued.pdf)

    part = report["participation"]
    assert f"Uitgenodigd {part['invited']}" in text
    assert f"Start en eind gekoppeld {part['paired']}" in text
    assert f"Koppelpercentage {fmt.percent(part['match_rate'])}" in text
    for entry in report["scales"]:
        # Means and tests shown (only counts and the wave's SD for reliable change hidden, neither printed here).
        # ("sensitivity": the demo's one fuzzy code pair is too few to show the change without it.)
        assert set(entry["suppressed"]) <= {"counts", "wave_sd", "sensitivity"}, entry["suppressed"]
        for expected in (_mean_sd(entry["pre"]), _mean_sd(entry["post"]), _mean_sd(entry["change"]),
                         fmt.interval(entry["change"]["ci95"]), fmt.number(entry["effect_size"]["d_z"], 2),
                         fmt.number(entry["effect_size"]["g_av"], 2),
                         f"t({entry['test']['df']}) = {fmt.number(entry['test']['t'], 2)}",
                         fmt.p_value(entry["test"]["wilcoxon_p"])):
            assert expected in text, expected
    # Reliable-change cells below 5 are printed as "<5", exactly as the JSON holds them.
    cells = [entry["rci"][c] for entry in report["scales"] for c in ("improved", "unchanged", "deteriorated")]
    assert "<5" in cells and "<5" in text
    assert all(str(cell) in text for cell in cells)


def test_what_is_common_is_said_once_then_each_skill_in_numbers(app, session, demo):
    report, issued = _report(app, session, demo)
    first = report["scales"][0]
    per_skill = pdf_text(issued.pdf).split("Per vaardigheid", 1)[1].replace("%- ", "%-")  # a break after "95%-"
    # Words first: what all skills have in common, once (every demo skill's interval lies above zero).
    assert all(entry["change"]["ci95"][0] > 0 for entry in report["scales"])
    lead = "Bewoners zijn gemiddeld gegroeid op alle 5 vaardigheden."
    assert per_skill.count(lead) == 1 and per_skill.index(lead) < per_skill.index("Plannen en organiseren")
    # Then what differs per skill: its averages, how sure, the effect size in words.
    sentence = (f"Plannen en organiseren Van gemiddeld {fmt.number(first['pre']['mean'], 2)} "
                f"naar {fmt.number(first['post']['mean'], 2)} op 5.")
    assert per_skill.index(sentence) < per_skill.index("Wie ging duidelijk vooruit")
    lo, hi = first["change"]["ci95"]
    assert (f"Met 95% zekerheid ligt de gemiddelde verandering tussen {fmt.number(lo, 2)} en {fmt.number(hi, 2)}."
            in per_skill)
    # The effect size in words, labelled as rough conventions once for all skills.
    assert "Ruwe vuistregels, geen oordeel: 0,2 klein, 0,5 middelgroot, 0,8 groot." in per_skill
    d_lo, d_hi = first["effect_size"]["d_z_ci95"]
    size = abs(first["effect_size"]["d_z"])
    word = "groot" if size >= 0.8 else "middelgroot" if size >= 0.5 else "klein"
    assert (f"Effectgrootte: {word} (d_z {fmt.number(first['effect_size']['d_z'], 2)}, 95%-interval "
            f"{fmt.number(d_lo, 2)} tot {fmt.number(d_hi, 2)})") in per_skill
    assert per_skill.count("vuistregels") == 1
    assert per_skill.count("Bewoners zijn gegroeid in") == 0  # no five near-identical lead sentences
    # Who clearly improved: the count, and beside a plain count its share with Wilson's interval.
    for entry in report["scales"]:
        rci = entry["rci"]
        if rci["improved_share"] is not None:
            lo, hi = rci["improved_ci95"]
            assert (f"{rci['improved']} duidelijk vooruit ({fmt.percent(rci['improved_share'])}, 95%-interval "
                    f"{fmt.percent(lo)} tot {fmt.percent(hi)})") in per_skill
        else:
            assert isinstance(rci["improved"], str) and f"{rci['improved'][1:]} of meer duidelijk vooruit" in per_skill


def test_bookmarks_page_numbers_and_metadata(app, session, demo, caplog):
    _, issued = _report(app, session, demo)
    assert not [r for r in caplog.records if r.name.startswith("weasyprint") and r.levelno >= 30]
    reader = pdf_reader(issued.pdf)
    pages = [" ".join((p.extract_text() or "").split()) for p in reader.pages]
    # Every chapter is a bookmark that opens the page the chapter starts on.
    marks: dict[str, int] = {}

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                marks[item.title] = reader.get_destination_page_number(item)
    walk(reader.outline)
    for title in ("Wat het project deed", "Per vaardigheid", "Wat deze cijfers niet zeggen", "Hoe we hebben gemeten"):
        assert title in pages[marks[title]], title
    assert marks["Wat het project deed"] == 1  # page 2: what the project did
    assert f"pagina 2 / {len(pages)}" in pages[1]
    assert reader.metadata.title == "Impactrapportage — Speeltuin De Vlinder"
    assert reader.trailer["/Root"]["/Lang"] == "nl"
    assert f"Code: {issued.code}" in pages[0]


def test_self_perceived_change_and_the_method_appendix(app, session, demo):
    report, issued = _report(app, session, demo)
    text = pdf_text(issued.pdf)
    assert report["retrospective"]
    assert "Zelf ervaren verandering (terugblik)" in text
    then = report["retrospective"][0]
    # The look-back in its own words, never the words of measured change.
    line = text.split("Plannen en organiseren: terugblik", 1)[1].split(" bewoners.", 1)[0]
    assert "Zelf ervaren verandering" in line and "vooruit" not in line and "gegroeid" not in line
    assert _mean_sd(then["pre"]) in text  # the "then" average (looking back)
    assert "Plannen en organiseren (organising, versie 2)" in text
    assert "Ik kan een buurtactiviteit van begin tot eind plannen." in text
    alpha = report["scales"][0]["reliability"]["pre"]["alpha"]
    lo, hi = report["scales"][0]["reliability"]["pre"]["ci95"]
    assert (f"Betrouwbaarheid (Cronbachs alfa): start {fmt.number(alpha, 2)} (95%-interval {fmt.number(lo, 2)} tot "
            f"{fmt.number(hi, 2)})") in text.replace("%- ", "%-")
    assert "Gemiddelden tonen we vanaf 5 bewoners" in text and "Lakens (2013)" in text


def test_english_report_says_self_perceived_change(app, session, demo):
    _, issued = _report(app, session, demo, lang="en")
    text = pdf_text(issued.pdf)
    assert "Impact report" in text and "Self-perceived change" in text and "How we measured" in text
    assert pdf_reader(issued.pdf).trailer["/Root"]["/Lang"] == "en"


def test_quotes_only_from_residents_who_agreed(app, session, demo, make_participant):
    from surveyhub.models import Organisation

    org = session.get(Organisation, demo.org_id)
    for name, agreed, quote in (("Ja", True, "Ik durf nu de wethouder te bellen."),
                                ("Nee", False, "Dit mag niemand lezen.")):
        resident = make_participant(org, demo.slug, name)
        consent(session, resident.code, demo.slug, agreed)
        answer(app, session, demo.slug, "post", resident.code, at_levels(session, demo.slug, {"organising": 4}, text=quote))
    # The worker may have chosen quotes for the report (the demo has): then only chosen ones are shown.
    from surveyhub.services import project_story

    offered = {choice["text"]: choice for choice in project_story.quote_choices(session, demo.actor, demo.slug)}
    assert "Dit mag niemand lezen." not in offered
    project_story.choose_quote(session, demo.actor, demo.slug, offered["Ik durf nu de wethouder te bellen."]["answer_id"])
    session.commit()

    text = pdf_text(_report(app, session, demo)[1].pdf)

    assert "Ik durf nu de wethouder te bellen." in text
    assert "Dit mag niemand lezen." not in text


def four_pairs(app, session, org_id: int) -> str:
    """A project on the demo's "organising" scale where four residents answered at the start and the end.

    Scale means 2.0, 2.5, 3.0, 3.5 at the start and 2.5, 3.5, 3.0, 4.0 at the end; a half point is
    six answers split between two levels (the seventh left open: five answers are enough).
    """
    from surveyhub.models import Organisation
    from tests.fixtures.outcomes import new_project

    slug = new_project(app, session, session.get(Organisation, org_id), ["organising"], name="Klein buurtproject")
    items = [f"org_{i}" for i in range(1, 8)]

    def values(mean: float) -> dict:
        levels = [int(mean)] * 7 if mean.is_integer() else [int(mean), int(mean) + 1] * 3
        # org_5 is reverse coded: answered so that it scores the level wanted.
        return {("organising", item): float(6 - level if item == "org_5" else level)
                for item, level in zip(items, levels)}

    for code, before, after in (("K1", 2.0, 2.5), ("K2", 2.5, 3.5), ("K3", 3.0, 3.0), ("K4", 3.5, 4.0)):
        answer(app, session, slug, "pre", code, values(before))
        answer(app, session, slug, "post", code, values(after))
    return slug


def test_small_groups_get_words_never_numbers(app, session, demo):
    slug = four_pairs(app, session, demo.org_id)
    small = outcomes.project_report(session, get_registry(app), demo.actor, slug)
    issued = docs.issue_report(session, get_registry(app), demo.actor, slug, base_url=BASE_URL, report=small)
    text = pdf_text(issued.pdf)
    shown = outcomes.project_report(session, get_registry(app), demo.actor, slug, min_means=1)["scales"][0]
    assert (shown["n_pairs"], shown["pre"]["mean"], shown["post"]["mean"]) == (4, 2.75, 3.25)  # what must not show
    assert small["scales"][0]["pre"]["mean"] is None  # the JSON itself holds no number
    assert "niet getoond: minder dan 5 bewoners" in text
    assert "te weinig bewoners beide metingen mee om cijfers te tonen" in text
    # No counts of who clearly improved either; the limitations name the skill.
    assert "Bij plannen en organiseren deden te weinig bewoners mee om cijfers te tonen." in text
    for hidden in ("2,75", "3,25", "2,50"):  # the means of the four residents' answers
        assert hidden not in text
    # The production charts drew the scale, and say in words why it has no points.
    alts = alt_texts(issued.pdf)
    assert any("Plannen en organiseren: te weinig paren" in alt for alt in alts), alts
    assert not [alt for alt in alts for hidden in ("2,8", "3,3", "2,75", "3,25") if hidden in alt]


def test_the_report_is_issued_once_until_the_data_changes(app, session, demo):
    first = docs.issue_report(session, get_registry(app), demo.actor, demo.slug, base_url=BASE_URL)
    session.commit()
    again = docs.issue_report(session, get_registry(app), demo.actor, demo.slug, base_url=BASE_URL)
    assert again.reused and again.code == first.code and again.pdf == first.pdf
    stricter = docs.issue_report(session, get_registry(app), demo.actor, demo.slug, base_url=BASE_URL, min_means=40)
    assert not stricter.reused and stricter.code != first.code
    assert "niet getoond: minder dan 40 bewoners" in pdf_text(stricter.pdf)

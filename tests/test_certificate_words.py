"""What a certificate says a resident can do, from plain values (no database, no PDF).

The rules of ``rendering.certificate``: items where the answer now says
"agree" are named, grown items first ("kan nu"); at most three sentences and
two per skill; a scale's own wording only where its items have none; a low
answer, a decline or a level word never appears.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from surveyhub.rendering import certificate, texts

NL = texts.CERTIFICATE["nl"]


def item(phrase: str, start: float | None, now: float | None) -> dict:
    return {"can_do": phrase, "start": start, "now": now}


def scale(title: str, items: list[dict], *, grew: bool = False, can_do: str | None = None, start: float = 3.0,
          now: float = 3.0) -> dict:
    return {"title": title, "items": items, "grew": grew, "can_do": can_do, "start": start, "now": now,
            "low": 1.0, "high": 5.0, "higher_is_better": True}


def test_grown_items_come_first_then_items_answered_well_at_most_three():
    scales = [scale("Plannen", [item("taken verdelen", 0.5, 1.0), item("een ruimte regelen", 0.75, 1.0),
                                item("een plan maken", 0.25, 0.75)], grew=True),
              scale("Praten", [item("rustig blijven", 1.0, 1.0), item("om uitleg vragen", 0.5, 0.5)])]

    sentences = certificate.can_do(scales, "Fatima", NL)

    assert sentences == ["Fatima kan nu taken verdelen.", "Ook kan Fatima nu een plan maken.",
                         "Daarnaast kan Fatima rustig blijven."]  # two per skill, so "Praten" gets its turn


def test_a_low_answer_or_a_fall_is_never_named():
    scales = [scale("Samenwerken", [item("afspraken nakomen", 1.0, 0.5), item("samenwerken", 0.75, 0.25),
                                    item("een oplossing zoeken", None, None)])]
    assert certificate.can_do(scales, "Wim", NL) == []


def test_the_scale_wording_stands_in_only_where_no_item_has_any():
    bare = scale("Tuinieren", [], can_do="een moestuin bijhouden", start=2.0, now=4.5, grew=True)
    low = scale("Koken", [], can_do="samen koken", start=1.0, now=2.0, grew=True)  # grew, but not to "agree"
    worded = scale("Plannen", [item("taken verdelen", 0.25, 0.5)], can_do="plannen en organiseren", now=5.0)
    assert certificate.can_do([bare, low, worded], "Kees", NL) == ["Kees kan nu een moestuin bijhouden."]


def test_a_resident_with_nothing_to_name_gets_a_certificate_of_participation_without_levels():
    data = {"kind": "certificate", "lang": "nl", "participant": {"display_name": "Ans", "role": None},
            "outputs": [], "scales": [scale("Plannen", [item("taken verdelen", 0.0, 0.0)], start=1.0, now=1.0)]}
    data["scales"][0].update(level_start="Op weg", level_now="Op weg")

    words = certificate._words(data, "Ans", NL, "nl")

    assert words["title"] == "Certificaat van deelname" and words["can_do"] == []
    assert words["answered"] == ["Ans vulde de vragenlijst in bij de start en aan het eind. Zo laat het project "
                                 "zien wat het doet."]
    assert words["personal_line"] == "Fijn dat je meedeed. De buurt heeft veel aan jou."
    assert "Op weg" not in str(words)


def test_the_first_name_speaks_in_sentences_unless_it_is_an_initial_or_a_title():
    assert certificate.short_name("Fatima el Amrani") == "Fatima"
    assert certificate.short_name("Jan-Willem de Boer") == "Jan-Willem"
    assert certificate.short_name("Ömer") == "Ömer"
    for whole in ("J. de Vries", "Mw. Jansen", "R-4K7P2", "de Vries"):
        assert certificate.short_name(whole) == whole


# --- whatever the answers: only what the resident agrees with now, "nu" only after growth -------------

SHARES = st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])  # the five answers of a 1–5 item, after reverse coding
ITEMS = st.lists(st.tuples(st.one_of(st.none(), SHARES), st.one_of(st.none(), SHARES)), min_size=0, max_size=6)


@given(st.lists(ITEMS, min_size=1, max_size=4))
def test_every_sentence_names_an_item_agreed_with_now_and_says_nu_only_after_growth(answers):
    scales, truth = [], {}
    for s, items in enumerate(answers):
        rows = []
        for i, (start, now) in enumerate(items):
            phrase = f"ding{s}x{i}"
            truth[phrase] = (start, now)
            rows.append(item(phrase, start, now))
        scales.append(scale(f"Vaardigheid {s}", rows))

    sentences = certificate.can_do(scales, "Sam", NL)

    assert len(sentences) <= 3
    named = [next(p for p in truth if f" {p}." in s) for s in sentences]
    assert len(set(named)) == len(named)
    for sentence, phrase in zip(sentences, named):
        start, now = truth[phrase]
        assert now is not None and now >= 0.75
        assert (" nu " in sentence) == (start is not None and now - start >= 0.25)
    for s in range(len(answers)):  # at most two per skill
        assert sum(p.startswith(f"ding{s}x") for p in named) <= 2
    agreed = [sum(1 for p, (_, now) in truth.items() if p.startswith(f"ding{s}x") and now is not None and now >= 0.75)
              for s in range(len(answers))]
    assert len(sentences) == min(3, sum(min(2, n) for n in agreed))  # nothing agreed with is left out for no reason

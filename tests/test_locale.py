"""``surveyhub.locale``: one language rule and one way to write numbers, for pages, PDFs, charts and exports."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from surveyhub.locale import Numbers, join_words, language, translate


@pytest.mark.parametrize("value, expected", [
    ("en", "en"), ("en-GB", "en"), ("en_US", "en"), ("EN", "en"), ("nl", "nl"), ("nl-BE", "nl"),
    (None, "nl"), ("", "nl"), ("de", "nl"), ("english", "nl"),
])
def test_language_is_english_when_asked_for_and_dutch_otherwise(value, expected):
    assert language(value) == expected


def test_language_accepts_a_babel_locale():
    from babel import Locale

    assert language(Locale.parse("en_GB")) == "en" and language(Locale.parse("nl")) == "nl"


def test_numbers_in_dutch_and_english():
    nl, en = Numbers("nl"), Numbers("en-GB")
    assert (nl.number(3.6), en.number(3.6)) == ("3,60", "3.60")
    assert nl.number(-0.0001) == "0,00"  # never "-0,00"
    assert (nl.number(2.25, 1), nl.number(None), Numbers("nl", missing="").number(None)) == ("2,2", "–", "")
    assert nl.number(float("nan")) == "–" and nl.number(True) == "–"
    assert (nl.signed(0.43), nl.signed(-0.27), nl.signed(0.0)) == ("+0,43", "-0,27", "0,00")
    assert (nl.count(1200), en.count(1200), nl.count("<5"), nl.count(None)) == ("1.200", "1,200", "<5", "–")
    assert (nl.p(0.0004), en.p(0.0123)) == ("< 0,001", "0.012")
    assert (nl.interval([0.52, 1.48]), en.interval((0.52, 1.48)), nl.interval(None)) == (
        "0,52 tot 1,48", "0.52 to 1.48", "–")
    assert (nl.percent(0.867), en.percent(None)) == ("87%", "–")


def test_dates_are_the_day_in_the_netherlands():
    late = datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc)  # already the 25th in Amsterdam
    assert Numbers("nl").date(late) == "25 november 2026"
    assert Numbers("en").date(date(2026, 3, 1)) == "1 March 2026"


def test_lists_and_translation_objects():
    assert join_words(["a", "b", "c"], "nl") == "a, b en c"
    assert Numbers("en").words(["a", "b"]) == "a and b" and join_words(["a"], "en") == "a"
    assert translate({"nl": "Plannen", "en": "Planning"}, "en-GB") == "Planning"
    assert translate({"nl": "Plannen"}, "en") == "Plannen" and translate({"de": "Planen"}, "en") == "Planen"
    assert translate("as is", "en") == "as is" and translate(None, "nl") == ""


def test_document_texts_come_from_the_catalog_with_their_document_as_context():
    from surveyhub.rendering import texts
    from surveyhub.locale import catalog

    assert catalog("nl").pgettext("report", "Impact report") == "Impactrapportage" == texts.REPORT["nl"]["title"]
    assert texts.REPORT["en"]["title"] == "Impact report" and texts.REPORT["en-GB"] is texts.REPORT["en"]
    # The same English word may read differently on a document than on a page.
    assert catalog("nl").pgettext("report", "Who took part") == "Wie deden mee"
    assert texts.TITLES.get("de", texts.TITLES["nl"])["certificate"] == "Certificaat"
    assert texts.PAPER["nl"]["waves"]["pre"] == "nulmeting (start)"


def test_today_is_the_installations_day_not_the_servers():
    """UTC+14 and UTC-11 are 25 hours apart: always a different day, whatever the server's clock says."""
    from datetime import timedelta

    from surveyhub.locale import local_today

    assert local_today("Pacific/Kiritimati") - local_today("Pacific/Pago_Pago") in (timedelta(days=1),
                                                                                      timedelta(days=2))

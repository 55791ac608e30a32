"""What a resident agrees to: one wording for the start page and the paper questionnaire.

A resident who answers on paper must be told exactly what a resident on a
phone is told: who sees the answers, how long they are kept, that taking part
is a choice, and what the two boxes mean. Both read these texts (the same
catalog entries, so the same Dutch): the start page through Flask-Babel
(``web/templates/questionnaire/start.html``, ``ConsentForm``), the paper
questionnaire through the document's catalog (``consent_text``). Change the
wording here and raise ``WORDING_VERSION``: a consent records the version of
the words the resident read (``wording_version``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from surveyhub.services.errors import N_

WHO_SEES = N_("Only the community workers of %(org)s see your answers. Reports never show your name.")
KEPT_UNTIL = N_("We keep your answers until the end of %(month)s (%(n)s months after the last measurement).")
KEPT_FOR = N_("We keep your answers until %(n)s months after the last measurement.")
THEN_DELETED = N_("Then we delete everything about you. Only numbers about the whole group are kept.")
YOUR_CHOICE = N_("Taking part is your choice. You can skip questions.")
FUNDER_TOTALS = N_("The funder of the project sees only totals for the whole group, never your answers.")
CERTIFICATE = N_("At the end we may make a certificate with your name, for you.")
#: The version of these words. 1: who sees, kept until, your choice. 2: adds the funder's totals and the
#: certificate with the resident's name.
WORDING_VERSION = "2"
#: The two boxes: taking part (required), and quoting written answers (optional).
AGREE = N_("Yes, I want to take part and I agree that my answers are stored.")
SHARE_QUOTES = N_("My written answers may be quoted in the report, without my name.")


def wording_version(project_version: str | None) -> str:
    """The version a new consent records: the project's own (``Project.consent_version``) or these words',
    whichever is later, so a project whose wording was raised by hand never goes back."""
    try:
        return str(max(int(project_version or "1"), int(WORDING_VERSION)))
    except ValueError:  # a project's own non-numeric version: its own wording, kept as it is
        return str(project_version)


@dataclass(frozen=True)
class ConsentText:
    """The consent in one language: the facts (one sentence or two each) and the labels of the two boxes."""

    facts: tuple[str, ...]
    agree: str
    share_quotes: str


def consent_text(gettext: Callable[[str], str], *, organisation: str, months: int,
                 until: datetime | None, month_name: Callable[[datetime], str]) -> ConsentText:
    """The consent as ``gettext`` translates it.

    ``months``/``until``: the retention promise (``services.retention.promise``);
    ``month_name`` writes ``until`` as month and year in the reader's language ("november 2027").
    """
    if until is not None:
        kept = gettext(KEPT_UNTIL) % {"month": month_name(until), "n": months}
    else:
        kept = gettext(KEPT_FOR) % {"n": months}
    return ConsentText(
        facts=(gettext(WHO_SEES) % {"org": organisation}, gettext(FUNDER_TOTALS), gettext(CERTIFICATE),
               f"{kept} {gettext(THEN_DELETED)}", gettext(YOUR_CHOICE)),
        agree=gettext(AGREE), share_quotes=gettext(SHARE_QUOTES))

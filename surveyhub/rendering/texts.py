"""The words on every document, in plain Dutch (B1) and English: English in the code, Dutch in the catalog.

Documents are printed for one reader in one language, whatever the worker's
screen language. Their texts are gettext messages like every other text
(``surveyhub/translations/nl/LC_MESSAGES/messages.po``), each with its
document as context (``msgctxt "report"``), so the same English word may read
differently on a document than on a page. ``TEXTS[lang]`` gives one
document's words in one language as a plain dict (``t["title"]``, or
``t.title`` in a template). Keep the words of WRITING.md's table:
vaardigheid, nulmeting, eindmeting, terugblik, bewoner, certificaat,
impactrapportage.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache

# The document language and list joining are the one rule in ``surveyhub.locale``.
from surveyhub.locale import catalog, join_words, language  # noqa: F401 (re-exported)


class Message:
    """One document text: its catalog context and its English wording (the msgid)."""

    __slots__ = ("context", "msgid")

    def __init__(self, context: str, msgid: str):
        self.context, self.msgid = context, msgid


def pgettext(context: str, message: str) -> Message:
    """Mark a document text for the catalog.

    Named after gettext's ``pgettext`` so that ``pybabel extract`` (and
    ``tests/test_translations.py``) find it with its context under babel's
    default keywords; the text is looked up when a language asks for it.
    """
    return Message(context, message)


class DocumentTexts(Mapping[str, dict]):
    """One document's texts per language: ``REPORT["nl"]`` is a dict of Dutch texts, computed once."""

    def __init__(self, messages: dict):
        self._messages = messages

    def __getitem__(self, lang: str) -> dict:
        return _resolved(self, language(lang))

    def __iter__(self) -> Iterator[str]:
        return iter(("nl", "en"))

    def __len__(self) -> int:
        return 2

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return other is self

    def resolve(self, lang: str) -> dict:
        translations = catalog(lang)

        def text(value):
            if isinstance(value, Message):
                return translations.pgettext(value.context, value.msgid)
            return {key: text(item) for key, item in value.items()}

        return {key: text(value) for key, value in self._messages.items()}


@lru_cache(maxsize=None)
def _resolved(texts: DocumentTexts, lang: str) -> dict:
    return texts.resolve(lang)



#: A resident's certificate (and proof of participation).
CERTIFICATE = DocumentTexts({
    "certificate": pgettext("certificate", "Certificate"),
    "participation": pgettext("certificate", "Certificate of participation"),
    "for": pgettext("certificate", "for"),
    "intro": pgettext("certificate", "You took part in {project} by {organisation}. You can be proud of that!"),
    "grown_heading": pgettext("certificate", "This is where you grew"),
    "col_start": pgettext("certificate", "At the start"),
    "col_now": pgettext("certificate", "Now"),
    "grown": pgettext("certificate", "grown"),
    "strong_heading": pgettext("certificate", "Where you keep going strong"),
    "strong_line": pgettext("certificate", "You keep going strong in {skills}."),
    "top_growth": pgettext("certificate", "You grew most in {skill}."),
    "no_growth": pgettext("certificate", "Thank you for taking part. Your effort makes the neighbourhood stronger."),
    "from_to": pgettext("certificate", "from {start} to {now}"),
    "grew_within": pgettext("certificate", "still {now}, but you grew"),
    "chart_alt": pgettext("certificate", "Chart: where you stood at the start and where you stand now, for {skills}."),
    "participation_intro": pgettext("certificate", "You filled in the questionnaire at the start of {project} by "
                                                   "{organisation}. Well done!"),
    "participation_skills": pgettext("certificate", "In this project you work on:"),
    "participation_next": pgettext("certificate", "After the final questionnaire you can get a certificate that "
                                                  "shows how you grew."),
    "issued_on": pgettext("certificate", "Issued on {date}"),
    "signature": pgettext("certificate", "Signature of the community worker"),
    "verify": pgettext("certificate", "Is this document genuine? Check it at {url}"),
    "code": pgettext("certificate", "Code: {code}"),
    "qr_alt": pgettext("certificate", "QR code to the check page of this document"),
    "logo_alt": pgettext("certificate", "Logo of {organisation}"),
    "and": pgettext("certificate", "and"),
})


#: The funder's impact report.
REPORT = DocumentTexts({
    "title": pgettext("report", "Impact report"),
    "subtitle": pgettext("report", "What {project} brought residents"),
    "made_on": pgettext("report", "Made on {date}"),
    "contents": pgettext("report", "Contents"),
    "page": pgettext("report", "page"),
    "page_of": pgettext("report", "Page {page} of {pages}"),
    "summary": pgettext("report", "Summary"),
    "participation": pgettext("report", "Who took part"),
    "change": pgettext("report", "Change per skill"),
    "reliable_change": pgettext("report", "Who clearly improved?"),
    "retrospective": pgettext("report", "Self-perceived change"),
    "quotes": pgettext("report", "What residents say"),
    "extra": pgettext("report", "Additions"),
    "method": pgettext("report", "How we measured"),
    "paired_line": pgettext("report", "{paired} residents filled in the questionnaire at the start and at the end."),
    "grew": pgettext("report", "Residents grew in {skill}: from an average of {pre} to {post}{scale_max}."),
    "declined": pgettext("report", "In {skill}, residents went down on average: from {pre} to {post}{scale_max}."),
    "unclear": pgettext("report", "In {skill} we see no clear change: from an average of {pre} to {post}{scale_max}."),
    "unsure": pgettext("report", "In {skill} the average went from {pre} to {post}{scale_max}. Too few residents "
                                 "took part to say how sure that is."),
    "too_few": pgettext("report", "In {skill}, too few residents did both questionnaires to show figures."),
    "on_max": pgettext("report", " out of {max}"),
    "certainty": pgettext("report", "With a certainty of 95%, the average change lies between {lo} and {hi}."),
    "rci_up": pgettext("report", "{improved} of the {n} residents clearly improved."),
    "rci_down": pgettext("report", "{deteriorated} clearly went down."),
    "rci_none_down": pgettext("report", "Nobody clearly went down."),
    "less_than": pgettext("report", "fewer than {n}"),
    "at_least": pgettext("report", "{n} or more"),
    "retro_line": pgettext("report", "Self-perceived change (looking back): {sentence}"),
    "invited": pgettext("report", "Invited"),
    "pre_done": pgettext("report", "Start questionnaire done"),
    "post_done": pgettext("report", "Final questionnaire done"),
    "paired": pgettext("report", "Start and end paired"),
    "match_rate": pgettext("report", "Match rate"),
    "match_rate_note": pgettext("report", "The match rate is the share of final questionnaires we could pair with a "
                                          "start questionnaire of the same resident."),
    "n_pairs": pgettext("report", "Residents with start and end"),
    "pre_mean": pgettext("report", "Average at the start (SD)"),
    "post_mean": pgettext("report", "Average at the end (SD)"),
    "then_mean": pgettext("report", "Average looking back (SD)"),
    "change_mean": pgettext("report", "Change (SD)"),
    "ci": pgettext("report", "Confidence interval (95%) of the change"),
    "d_z": pgettext("report", "Effect size d_z"),
    "d_av": pgettext("report", "Effect size d_av"),
    "g_av": pgettext("report", "Effect size g_av (Hedges)"),
    "t_test": pgettext("report", "Paired t-test"),
    "p": pgettext("report", "p-value"),
    "wilcoxon": pgettext("report", "Wilcoxon test, p-value"),
    "hidden_means": pgettext("report", "not shown: fewer than {n} residents"),
    "hidden_tests": pgettext("report", "not shown: fewer than {n} residents"),
    "not_computable": pgettext("report", "cannot be computed"),
    "chart_alt": pgettext("report", "Chart: average at the start and at the end per skill, with the 95% interval of "
                                    "the change."),
    "rci_chart_alt": pgettext("report", "Chart: per skill how many residents clearly improved, stayed about the same "
                                        "or went down."),
    "retro_chart_alt": pgettext("report", "Chart: start, looking back and end per skill."),
    "radar_alt": pgettext("report", "Chart: all skills at the start and at the end."),
    "funnel_chart": pgettext("report", "Chart: how many residents took part at each step."),
    "improved": pgettext("report", "Clearly improved"),
    "unchanged": pgettext("report", "About the same"),
    "deteriorated": pgettext("report", "Clearly went down"),
    "rci_intro": pgettext("report", "For each resident we check whether the change is larger than chance could "
                                    "explain (reliable change, Jacobson and Truax). Counts below {min_cell} show as "
                                    "\"<{min_cell}\"."),
    "rci_hidden": pgettext("report", "Too few residents to show counts."),
    "rci_unknown": pgettext("report", "Cannot be computed: the reliability of this skill is not known."),
    "retro_intro": pgettext("report", "In the final questionnaire residents looked back: how was it before the "
                                      "project? This is self-perceived change: residents compare then and now "
                                      "themselves."),
    "retro_label": pgettext("report", "self-perceived change"),
    "quotes_intro": pgettext("report", "These residents agreed to share their words without their name."),
    "no_quotes": pgettext("report", "No residents agreed to share their words."),
    "design": pgettext("report", "Design"),
    "design_text": pgettext("report", "Residents filled in the same questionnaire at the start (pre) and at the end "
                                      "(post). For each resident we compare the start with the end."),
    "design_retro": pgettext("report", "In the final questionnaire residents also looked back (retrospective block): "
                                       "how was it before the project? Those results are called self-perceived "
                                       "change."),
    "instruments": pgettext("report", "Instruments"),
    "version": pgettext("report", "version {version}"),
    "reverse": pgettext("report", "(reverse scored)"),
    "alpha": pgettext("report", "Reliability (Cronbach's alpha): start {pre}, end {post}"),
    "alpha_unknown": pgettext("report", "unknown"),
    "norms": pgettext("report", "Norms for reliable change: SD {sd}, reliability {r}"),
    "thresholds": pgettext("report", "Small numbers"),
    "thresholds_text": pgettext("report", "We show averages from {min_means} residents with a start and an end. "
                                          "Tests and effect sizes from {min_tests}. Counts below {min_cell} show as "
                                          "\"<{min_cell}\". That way nobody can be recognised."),
    "pairing": pgettext("report", "Pairing"),
    "pairing_text": pgettext("report", "Start and end belong together through the personal link or the resident's "
                                       "own code."),
    "pairing_fuzzy": pgettext("report", "{n} pairs through an own code with one small difference; only where just "
                                        "one pair was possible."),
    "withdrawn": pgettext("report", "Withdrawn"),
    "withdrawn_text": pgettext("report", "{n} participants withdrew; their data has been deleted."),
    "withdrawn_one": pgettext("report", "1 participant withdrew; their data has been deleted."),
    "statistics": pgettext("report", "Calculations"),
    "statistics_text": pgettext("report", "Change is end minus start. The 95% interval comes from the t "
                                          "distribution. Tests: paired t-test, and the Wilcoxon signed-rank test as "
                                          "a check for answers on a scale. Effect sizes after Lakens (2013): d_z = "
                                          "mean change / SD of the change; d_av = mean change / mean of the SDs at "
                                          "start and end."),
    "rci_text": pgettext("report", "Reliable change (Jacobson and Truax, 1991): S_diff = SD_start × √2 × √(1 − r). A "
                                   "change larger than 1.96 × S_diff counts as clear."),
    "sections_by": pgettext("report", "Provided by {plugin}"),
    "code": pgettext("report", "Code: {code}"),
    "verify": pgettext("report", "Check that this report is genuine at {url}"),
    "qr_alt": pgettext("report", "QR code to the check page of this report"),
    "logo_alt": pgettext("report", "Logo of {organisation}"),
})


#: The paper questionnaire.
PAPER = DocumentTexts({
    "title": pgettext("paper", "Questionnaire"),
    "waves": {
        "pre": pgettext("paper", "start questionnaire"),
        "post": pgettext("paper", "final questionnaire"),
        "followup": pgettext("paper", "follow-up questionnaire"),
    },
    "code_label": pgettext("paper", "Your code"),
    "date_label": pgettext("paper", "Date"),
    "intro": pgettext("paper", "Tick one box for each question. There are no right or wrong answers. Not sure? Then "
                               "skip the question."),
    "consent_heading": pgettext("paper", "Consent"),
    "consent_yes": pgettext("paper", "I take part. My answers are used without my name."),
    "consent_quotes": pgettext("paper", "My written answers may appear in a report without my name."),
    "looking_back": pgettext("paper", "looking back"),
    "write_here": pgettext("paper", "Write your answer here:"),
    "number_between": pgettext("paper", "Write a number from {lo} to {hi}:"),
    "yes": pgettext("paper", "Yes"),
    "no": pgettext("paper", "No"),
    "thanks": pgettext("paper", "Thank you! Please give the questionnaire back to your community worker."),
    "page_of": pgettext("paper", "Page {page} of {pages}"),
    "code": pgettext("paper", "Code: {code}"),
})


#: The sheet of personal links.
SHEET = DocumentTexts({
    "title": pgettext("sheet", "Personal links"),
    "intro": pgettext("sheet", "Cut out the cards and give each resident their own card. With the QR code or the "
                               "link the resident opens the questionnaire. Never share a link with anyone else."),
    "resident": pgettext("sheet", "Resident"),
    "scan": pgettext("sheet", "Scan the QR code or type the link:"),
    "scan_or_type": pgettext("sheet", "Scan the QR code, or type this address:"),
    "long_link": pgettext("sheet", "Or the full link:"),
    "what": pgettext("sheet", "Your own link to the questionnaire of {project}. Keep it to yourself."),
    "ask_worker_contact": pgettext("sheet", "Questions? Ask {worker} of {organisation}: {contact}"),
    "ask_worker": pgettext("sheet", "Questions? Ask {worker} of {organisation}."),
    "ask_contact": pgettext("sheet", "Questions? Ask {organisation}: {contact}"),
    "ask": pgettext("sheet", "Questions? Ask {organisation}."),
    "qr_alt": pgettext("sheet", "QR code of the personal link of {name}"),
    "page_of": pgettext("sheet", "Page {page} of {pages}"),
    "code": pgettext("sheet", "Code: {code}"),
    "none": pgettext("sheet", "There are no residents with a personal link."),
})


#: Each document's title, as its PDF metadata and the register name it.
TITLES = DocumentTexts({
    "certificate": pgettext("document title", "Certificate"),
    "participation": pgettext("document title", "Certificate of participation"),
    "report": pgettext("document title", "Impact report"),
    "questionnaire": pgettext("document title", "Questionnaire"),
    "sheet": pgettext("document title", "Personal links"),
})


#: File names stay the same in every catalog: they are not read, only saved.
FILE_NAMES = {
    "nl": {"certificate": "certificaat", "participation": "deelname", "report": "impactrapportage",
           "questionnaire": "vragenlijst", "sheet": "persoonlijke-links"},
    "en": {"certificate": "certificate", "participation": "participation", "report": "impact-report",
           "questionnaire": "questionnaire", "sheet": "personal-links"},
}

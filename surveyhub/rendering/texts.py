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
from surveyhub.locale import (  # noqa: F401 (re-exported)
    LANGUAGES, RESIDENT_LANGUAGES, catalog, join_words, language, resident_language,
)


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
    """One document's texts per language: ``REPORT["nl"]`` is a dict of Dutch texts, computed once.

    ``languages``: the languages the document is written in (a language outside them gets Dutch);
    certificates are also made in the residents' languages.
    """

    def __init__(self, messages: dict, languages: tuple[str, ...] = LANGUAGES):
        self._messages = messages
        self._languages = languages

    def __getitem__(self, lang: str) -> dict:
        return _resolved(self, language(lang, self._languages))

    def __iter__(self) -> Iterator[str]:
        return iter(self._languages)

    def __len__(self) -> int:
        return len(self._languages)

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



#: A resident's certificate (and certificate of participation). The body speaks about the resident by name
#: ("Fatima kan nu ..."); the personal line speaks to them ("je"). ``{skill}`` in the can-do sentences is an
#: item's ``can_do`` phrase from the instrument. No level word, no "still", never a decline.
CERTIFICATE = DocumentTexts({
    "certificate": pgettext("certificate", "Certificate"),
    "participation": pgettext("certificate", "Certificate of participation"),
    "for": pgettext("certificate", "for"),
    "took_part": pgettext("certificate", "took part in {project} by {organisation}"),
    "period": pgettext("certificate", "{start} to {end}"),
    "can_heading": pgettext("certificate", "What {name} can do now"),
    "can_first_grew": pgettext("certificate", "{name} can now {skill}."),
    "can_first": pgettext("certificate", "{name} can {skill}."),
    "can_second_grew": pgettext("certificate", "{name} can now also {skill}."),
    "can_second": pgettext("certificate", "{name} can also {skill}."),
    "can_third_grew": pgettext("certificate", "And {name} can now {skill}."),
    "can_third": pgettext("certificate", "And {name} can {skill}."),
    "grew_in": pgettext("certificate", "Grew in: {skills}"),
    "grew_sentence": pgettext("certificate", "{name} grew in {skills}."),
    "did_heading": pgettext("certificate", "What {name} did"),
    "together_heading": pgettext("certificate", "Achieved together"),
    # What the resident did, from confirmed activities (services.participation); {hours} is " (24 hours)" or "".
    "did_one": pgettext("certificate", "{name} took part in one activity{hours}."),
    "did_many": pgettext("certificate", "{name} took part in {count} activities{hours}."),
    "organised_the_one": pgettext("certificate", "{name} organised one activity{hours}."),
    "did_many_organised": pgettext("certificate", "{name} took part in {count} activities{hours} and organised "
                                                  "{organised} of them."),
    "chaired_one": pgettext("certificate", "{name} chaired a meeting or spoke for the group once."),
    "chaired_many": pgettext("certificate", "{name} chaired a meeting or spoke for the group {chaired} times."),
    "hour": pgettext("certificate", "{hours} hour"),
    "hours": pgettext("certificate", "{hours} hours"),
    "answered_both": pgettext("certificate", "{name} filled in the questionnaire at the start and at the end. That "
                                             "helps the project show what it does."),
    "answered_start": pgettext("certificate", "{name} filled in the questionnaire at the start of the project."),
    "works_on": pgettext("certificate", "In this project {name} works on {skills}."),
    "participation_next": pgettext("certificate", "After the final questionnaire there is a certificate with what "
                                                  "{name} can do."),
    "top_growth": pgettext("certificate", "You grew most in {skill}."),
    "thanks": pgettext("certificate", "Thank you for taking part. The neighbourhood is better off with you."),
    "issued_on": pgettext("certificate", "Issued on {date}"),
    "signature": pgettext("certificate", "Signature of the community worker"),
    "worker": pgettext("certificate", "Community worker"),
    "contact": pgettext("certificate", "Contact: {contact}"),
    "verify_question": pgettext("certificate", "Is this document genuine? Check it at:"),
    "code": pgettext("certificate", "Code: {code}"),
    "qr_alt": pgettext("certificate", "QR code to the check page of this document"),
    "logo_alt": pgettext("certificate", "Logo of {organisation}"),
    "and": pgettext("certificate", "and"),
    "book_title": pgettext("certificate", "Certificates"),
}, languages=RESIDENT_LANGUAGES)


#: The funder's impact report.
REPORT = DocumentTexts({
    "title": pgettext("report", "Impact report"),
    "page": pgettext("report", "page"),
    # cover
    "period_both": pgettext("report", "{start} to {end}"),
    "period_from": pgettext("report", "from {start}"),
    "period_until": pgettext("report", "until {end}"),
    "funder": pgettext("report", "Funder: {funder}"),
    "by": pgettext("report", "By {organisation}"),
    "fig_invited": pgettext("report", "residents invited"),
    "fig_pre": pgettext("report", "took part at the start"),
    "fig_post": pgettext("report", "took part at the end"),
    "fig_followup": pgettext("report", "took part in the follow-up"),
    "fig_improved": pgettext("report", "clearly improved in {skill}"),
    "fig_improved_note": pgettext("report", "95% interval {lo} to {hi}, of {n} residents"),
    "photo_alt": pgettext("report", "Photo: {description}"),
    "made_on": pgettext("report", "Made on {date}"),
    "code": pgettext("report", "Code: {code}"),
    "verify": pgettext("report", "Check that this report is genuine at {url}"),
    "qr_alt": pgettext("report", "QR code to the check page of this report"),
    "logo_alt": pgettext("report", "Logo of {organisation}"),
    # page 2: what the project did
    "story": pgettext("report", "What the project did"),
    "outputs": pgettext("report", "Outputs and milestones"),
    "no_outputs": pgettext("report", "No outputs or milestones were recorded for this project."),
    "meetings": pgettext("report", "{n} meetings with residents"),
    "volunteer_hours": pgettext("report", "{n} hours of volunteer work by residents"),
    "brief": pgettext("report", "Results in brief"),
    "brief_pairs": pgettext("report", "{paired} residents filled in the questionnaire at the start and at the end."),
    "brief_retro_only": pgettext("report", "{post} residents filled in the final questionnaire and looked back on "
                                           "the start."),
    "brief_up": pgettext("report", "on average higher"),
    "brief_down": pgettext("report", "on average lower"),
    "brief_flat": pgettext("report", "no clear change in the average"),
    "brief_open": pgettext("report", "too few residents for a conclusion"),
    "brief_same": pgettext("report", "every resident changed by the same amount"),
    "brief_hidden": pgettext("report", "too few residents to show figures"),
    "brief_line": pgettext("report", "{skill}: {trend} ({pre} → {post})"),
    "brief_rci": pgettext("report", "{improved} of {n} clearly improved"),
    # skills at a glance
    "glance": pgettext("report", "All skills at a glance"),
    "score_explained": pgettext("report", "Each skill is a score from {lo} to {hi}: the average of a resident's "
                                          "answers to several statements about what they can do. A higher score "
                                          "is better."),
    "score_explained_mixed": pgettext("report", "Each skill is a score: the average of a resident's answers to "
                                                "several statements about what they can do. Each line runs from "
                                                "the lowest to the highest possible score."),
    "glance_note": pgettext("report", "Open circle: average at the start. Filled circle: average at the end. "
                                      "Whiskers: the 95% interval of the end average."),
    "chart_alt": pgettext("report", "Chart: average at the start and at the end per skill, with the 95% interval of "
                                    "the change."),
    "reliable_change": pgettext("report", "Who clearly improved?"),
    "rci_intro_plain": pgettext("report", "For each resident we check whether their change is larger than the "
                                          "measurement error of the questionnaire (reliable change, Jacobson and "
                                          "Truax). A hatched bar means a small group: fewer than {min_cell} "
                                          "residents, or a number not shown so that the small group cannot be "
                                          "worked out."),
    "rci_chart_alt": pgettext("report", "Chart: per skill how many residents clearly improved, stayed about the same "
                                        "or clearly declined."),
    "rci_none": pgettext("report", "Per resident we cannot judge the change: the reliability of the skills is not "
                                   "known, so we do not know how large the measurement error is."),
    # per skill
    "per_skill": pgettext("report", "Per skill"),
    "per_skill_intro": pgettext("report", "For every skill we compare each resident's score at the end with their own "
                                          "score at the start. The interval shows how sure we are: the average "
                                          "change lies in it with a certainty of 95%."),
    "effect_intro": pgettext("report", "The effect size d_z says how large the change is compared with how much "
                                       "residents differ in their change. Rough conventions, not a verdict: 0.2 "
                                       "small, 0.5 medium, 0.8 large."),
    "grew": pgettext("report", "Residents grew in {skill}: from an average of {pre} to {post}{scale_max}."),
    "declined": pgettext("report", "In {skill}, residents went down on average: from {pre} to {post}{scale_max}."),
    "unclear": pgettext("report", "In {skill} we see no clear change: from an average of {pre} to {post}{scale_max}."),
    "unsure": pgettext("report", "In {skill} the average went from {pre} to {post}{scale_max}."),
    "too_few": pgettext("report", "In {skill}, too few residents did both questionnaires to show figures."),
    "on_max": pgettext("report", " out of {max}"),
    "certainty": pgettext("report", "With a certainty of 95%, the average change lies between {lo} and {hi}."),
    "same_change": pgettext("report", "Every resident changed by the same amount, so there is no interval."),
    "tests_need": pgettext("report", "Effect sizes and tests need at least {n} residents, so we draw no "
                                     "conclusion."),
    "effect": pgettext("report", "Effect size d_z {d} (95% interval {lo} to {hi}): {size} by rough conventions."),
    "effect_no_ci": pgettext("report", "Effect size d_z {d}: {size} by rough conventions."),
    "effect_short": pgettext("report", "Effect size: {size} (d_z {d}, 95% interval {lo} to {hi})."),
    "effect_short_no_ci": pgettext("report", "Effect size: {size} (d_z {d})."),
    "from_to": pgettext("report", "From an average of {pre} to {post}{scale_max}."),
    "details_hidden": pgettext("report", "Too few residents did both questionnaires to show figures."),
    "grew_all": pgettext("report", "Residents grew on average in {skills}."),
    "grew_every": pgettext("report", "Residents grew on average in all {k} skills."),
    "unclear_every": pgettext("report", "In none of the {k} skills do we see a clear change in the average."),
    "unclear_all": pgettext("report", "In {skills} we see no clear change in the average."),
    "declined_all": pgettext("report", "In {skills} residents went down on average."),
    "open_all": pgettext("report", "For {skills} we draw no conclusion yet; below you read why."),
    "hidden_all": pgettext("report", "For {skills} too few residents did both questionnaires to show figures."),
    "size_tiny": pgettext("report", "smaller than small"),
    "size_small": pgettext("report", "small"),
    "size_medium": pgettext("report", "medium"),
    "size_large": pgettext("report", "large"),
    "rci_line": pgettext("report", "Per resident: {improved} clearly improved, {unchanged} about the same, "
                                   "{deteriorated} clearly declined."),
    "rci_line_share": pgettext("report", "Per resident: {improved} clearly improved ({share}, 95% interval {lo} to "
                                         "{hi}), {unchanged} about the same, {deteriorated} clearly declined."),
    "rci_unknown_line": pgettext("report", "Per resident we cannot judge the change: the reliability of this "
                                           "skill is not known."),
    "less_than": pgettext("report", "fewer than {n}"),
    "at_least": pgettext("report", "{n} or more"),
    "improved": pgettext("report", "Clearly improved"),
    "unchanged": pgettext("report", "About the same"),
    "deteriorated": pgettext("report", "Clearly declined"),
    # look-back
    "retrospective": pgettext("report", "Self-perceived change (looking back)"),
    "retro_intro_plain": pgettext("report", "In the final questionnaire residents also looked back: how was it "
                                            "before the project? They compare then and now themselves. This is "
                                            "self-perceived change. It is not counted as measured change: people "
                                            "may remember the start differently."),
    "retro_line_plain": pgettext("report", "{skill}: looking back {then}, now {post}{scale_max}. Self-perceived "
                                           "change {change} (95% interval {lo} to {hi}), {n} residents."),
    "retro_line_short": pgettext("report", "{skill}: looking back {then}, now {post}{scale_max}, {n} residents."),
    "retro_label": pgettext("report", "self-perceived change"),
    "retro_chart_alt": pgettext("report", "Chart: start, looking back and end per skill."),
    # follow-up
    "followup": pgettext("report", "Did the change last?"),
    "followup_intro": pgettext("report", "Some time after the end residents filled in the questionnaire once more "
                                         "(follow-up)."),
    "from_start_intro": pgettext("report", "Here we compare the start with the follow-up, for the same residents."),
    "lasted_up": pgettext("report", "After the end, {skill} went up further on average."),
    "lasted_down": pgettext("report", "After the end, {skill} went down again on average."),
    "lasted_same": pgettext("report", "After the end, {skill} stayed at about the same level on average."),
    "followup_line": pgettext("report", "{skill}: start {pre}, follow-up {post}{scale_max}. Change {change} "
                                        "(95% interval {lo} to {hi}), {n} residents."),
    "followup_line_short": pgettext("report", "{skill}: start {pre}, follow-up {post}{scale_max}, {n} residents."),
    # quotes, limitations, recommendations, additions
    "quotes": pgettext("report", "What residents say"),
    "quotes_intro": pgettext("report", "These residents agreed to share their words without their name."),
    "no_quotes": pgettext("report", "No residents agreed to share their words."),
    "limitations": pgettext("report", "What these figures cannot tell"),
    "lim_comparison": pgettext("report", "There was no comparison group of residents who did not take part. So we "
                                         "cannot say how much of the change comes from the project. Other things "
                                         "in residents' lives change too."),
    "lim_self_report": pgettext("report", "All figures come from what residents say about themselves. At the end "
                                          "some people answer a bit more positively, for example to please the "
                                          "worker."),
    "lim_dropout": pgettext("report", "{dropped} of the {started} residents who started did not fill in the final "
                                      "questionnaire. Their change is not in these figures."),
    "lim_recall": pgettext("report", "Looking back is hard. Residents may remember the start as better or worse "
                                     "than it was. That is why self-perceived change is kept apart."),
    "lim_small": pgettext("report", "The groups are small ({n} residents with a start and an end). The intervals "
                                    "are wide: the real change can be quite a bit smaller or larger."),
    "lim_hidden": pgettext("report", "For {skills} too few residents took part to show figures."),
    "lim_alpha": pgettext("report", "For {skills} the statements hang together less well (Cronbach's alpha below "
                                    "0.6). Read those results with extra care."),
    "recommendations": pgettext("report", "Recommendations"),
    "recommendations_by": pgettext("report", "Written by the community worker of the project."),
    "extra": pgettext("report", "Additions"),
    # the method appendix
    "method": pgettext("report", "How we measured"),
    "design": pgettext("report", "Design"),
    "design_text": pgettext("report", "Residents filled in the same questionnaire at the start (pre) and at the end "
                                      "(post). For each resident we compare the start with the end."),
    "design_retro": pgettext("report", "In the final questionnaire residents also looked back (retrospective block): "
                                       "how was it before the project? Those results are called self-perceived "
                                       "change."),
    "design_retro_only": pgettext("report", "There was no start questionnaire. Residents filled in the final "
                                            "questionnaire and looked back on how it was before the project "
                                            "(retrospective block). All change in this report is self-perceived."),
    "design_followup": pgettext("report", "Some time after the end residents filled in the questionnaire again "
                                          "(follow-up)."),
    "participation": pgettext("report", "Who took part"),
    "invited": pgettext("report", "Invited"),
    "pre_done": pgettext("report", "Start questionnaire done"),
    "post_done": pgettext("report", "Final questionnaire done"),
    "followup_done": pgettext("report", "Follow-up questionnaire done"),
    "paired": pgettext("report", "Start and end paired"),
    "match_rate": pgettext("report", "Match rate"),
    "match_rate_note": pgettext("report", "The match rate is the share of final questionnaires we could pair with a "
                                          "start questionnaire of the same resident."),
    "funnel_chart": pgettext("report", "Chart: how many residents took part at each step."),
    "instruments": pgettext("report", "Instruments"),
    "version": pgettext("report", "version {version}"),
    "reverse": pgettext("report", "(reverse scored)"),
    "alpha": pgettext("report", "Reliability (Cronbach's alpha): start {pre}, end {post}"),
    "alpha_unknown": pgettext("report", "unknown"),
    "alpha_ci": pgettext("report", "{alpha} (95% interval {lo} to {hi})"),
    "norms": pgettext("report", "Norms for reliable change: SD {sd}, reliability {r}"),
    "thresholds": pgettext("report", "Small numbers"),
    "thresholds_plain": pgettext("report", "We show averages from {min_means} residents with a start and an end. "
                                           "Tests and effect sizes from {min_tests}. Counts below {min_cell} show "
                                           "as \"<{min_cell}\". That makes it harder to point at one person."),
    "sources": pgettext("report", "Where these limits come from: {sources}."),
    "source_call": pgettext("report", "set for this report"),
    "source_organisation": pgettext("report", "the organisation's setting"),
    "source_default": pgettext("report", "SurveyHub's default"),
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
    "wilcoxon_text": pgettext("report", "Wilcoxon signed-rank test as SciPy computes it by default "
                                        "(scipy.stats.wilcoxon): differences of zero are dropped; the p-value is "
                                        "exact up to 50 pairs without ties or zeros, an exact permutation test up "
                                        "to 13 pairs with ties or zeros, and otherwise from the normal "
                                        "approximation without continuity correction. Before ranking, differences "
                                        "are rounded to 12 significant digits, so that equal answers give exactly "
                                        "zero. In R: wilcox.test(post, pre, paired = TRUE, exact = TRUE), or with "
                                        "exact = FALSE, correct = FALSE for the normal approximation; R's defaults "
                                        "can give other p-values."),
    "multiple_text": pgettext("report", "This report tests {k} skills. Each p-value is for one skill on its own, "
                                        "not adjusted for testing several skills: with many skills one of them "
                                        "can look clear by chance."),
    "rci_text": pgettext("report", "Reliable change (Jacobson and Truax, 1991): S_diff = SD_start × √2 × √(1 − r). A "
                                   "change larger than 1.96 × S_diff counts as clear."),
    "rounding_text": pgettext("report", "Figures are rounded to two decimals for print; the report JSON holds them "
                                        "unrounded."),
    "tables": pgettext("report", "The figures per skill"),
    "tables_retro": pgettext("report", "The figures of self-perceived change per skill"),
    "tables_followup": pgettext("report", "The figures from start to follow-up per skill"),
    "row_n": pgettext("report", "Residents with start and end"),
    "row_n_words": pgettext("report", "pairs the figures rest on"),
    "row_pre": pgettext("report", "Average at the start (SD)"),
    "row_then": pgettext("report", "Average looking back (SD)"),
    "row_post": pgettext("report", "Average at the end (SD)"),
    "row_followup": pgettext("report", "Average at follow-up (SD)"),
    "row_mean_words": pgettext("report", "SD: how far residents lie apart"),
    "row_change": pgettext("report", "Change (SD)"),
    "row_change_words": pgettext("report", "end minus start, averaged over residents"),
    "row_ci": pgettext("report", "95% interval of the change"),
    "row_ci_words": pgettext("report", "the average change lies here with a certainty of 95%"),
    "row_dz": pgettext("report", "Effect size d_z"),
    "row_dz_words": pgettext("report", "change / SD of the change"),
    "row_dav": pgettext("report", "Effect size d_av"),
    "row_dav_words": pgettext("report", "change / average SD of start and end"),
    "row_gav": pgettext("report", "Effect size g_av (Hedges)"),
    "row_gav_words": pgettext("report", "d_av corrected for small groups"),
    "row_t": pgettext("report", "Paired t-test"),
    "row_t_words": pgettext("report", "t with its degrees of freedom"),
    "row_p": pgettext("report", "p-value"),
    "row_p_words": pgettext("report", "chance of a change at least this large if nothing changed on "
                                         "average"),
    "row_wilcoxon": pgettext("report", "Wilcoxon test, p-value"),
    "row_wilcoxon_words": pgettext("report", "the same check on ranks"),
    "hidden_means": pgettext("report", "not shown: fewer than {n} residents"),
    "hidden_tests": pgettext("report", "not shown: fewer than {n} residents"),
    "hidden_short": pgettext("report", "not shown"),
    "not_computable": pgettext("report", "cannot be computed"),
    "sections_by": pgettext("report", "Provided by {plugin}"),
    # follow-up, persistence, multiple testing, ceiling, drop-outs, sensitivity
    "from_start": pgettext("report", "From the start to the follow-up"),
    "since_end": pgettext("report", "From the end to the follow-up"),
    "persistence_intro": pgettext("report", "Here we compare the end with the follow-up, for the same residents. A "
                                            "change near zero means residents stayed where they were at the end."),
    "persistence_line": pgettext("report", "{skill}: end {pre}, follow-up {post}{scale_max}. Change since the end "
                                           "{change} (95% interval {lo} to {hi}), {n} residents."),
    "persistence_line_short": pgettext("report", "{skill}: end {pre}, follow-up {post}{scale_max}, {n} residents."),
    "primary_mark": pgettext("report", "main skill of the project"),
    "lim_ceiling": pgettext("report", "At the start {count} of the {n} residents already had the highest score on "
                                      "{skill}. They could not go up."),
    "lim_dropout_same": pgettext("report", "At the start they scored about the same as the residents who finished."),
    "lim_dropout_lower": pgettext("report", "At the start they scored lower on {skills} than the residents who "
                                            "finished."),
    "lim_dropout_higher": pgettext("report", "At the start they scored higher on {skills} than the residents who "
                                             "finished."),
    "lim_dropout_few": pgettext("report", "They were too few to compare with the residents who finished."),
    "lim_dropout_untested": pgettext("report", "They were too few to test whether they started differently; the "
                                               "appendix shows their averages at the start."),
    "multiple_holm": pgettext("report", "This report tests {k} skills. With several tests one skill can look clear "
                                        "by chance, so the tables also give the p-value adjusted with Holm's method "
                                        "across the skills."),
    "multiple_primary": pgettext("report", "The project named {skill} as its main skill: that skill keeps its own "
                                           "p-value, the other skills are adjusted among themselves."),
    "row_holm": pgettext("report", "p-value (Holm)"),
    "row_holm_words": pgettext("report", "adjusted for testing several skills"),
    "sensitivity_line": pgettext("report", "{skill} without the pairs matched through a code with one small "
                                           "difference: {n} pairs, change {change}, d_z {d}, p-value {p}."),
    "tables_persistence": pgettext("report", "The figures from end to follow-up per skill"),
    "dropout_table": pgettext("report", "Residents who stopped compared with those who finished, at the start"),
    "skill_col": pgettext("report", "Skill"),
    "completers_col": pgettext("report", "Finished: n, average (SD)"),
    "dropouts_col": pgettext("report", "Stopped: n, average (SD)"),
    "difference_col": pgettext("report", "Difference"),
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
    "consent_tick": pgettext("paper", "Tick the first box if you want to take part, and sign."),
    "signature": pgettext("paper", "Signature"),
    "statement": pgettext("paper", "Statement"),
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
}, languages=RESIDENT_LANGUAGES)  # certificates are also made in the residents' languages


#: File names stay the same in every catalog: they are not read, only saved.
FILE_NAMES = {
    "nl": {"certificate": "certificaat", "participation": "deelname", "report": "impactrapportage",
           "questionnaire": "vragenlijst", "sheet": "persoonlijke-links"},
    "en": {"certificate": "certificate", "participation": "participation", "report": "impact-report",
           "questionnaire": "questionnaire", "sheet": "personal-links"},
    "tr": {"certificate": "sertifika", "participation": "katilim", "report": "etki-raporu",
           "questionnaire": "anket", "sheet": "kisisel-baglantilar"},
    "pl": {"certificate": "certyfikat", "participation": "udzial", "report": "raport",
           "questionnaire": "ankieta", "sheet": "linki-osobiste"},
}
FILE_NAMES["ar"] = FILE_NAMES["en"]  # a file name stays in plain letters every computer can save

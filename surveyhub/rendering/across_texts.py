"""The words of the organisation's and the network's report (``rendering.across_report``), Dutch in the catalog.

Like ``texts.REPORT`` (whose sentences per skill these reports share), each text is a
gettext message with its document as context (``msgctxt "org report"``). A funder reads
these reports in a hurry: plain words first, then the number and how many people it
rests on; never a cause claimed, never a small group shown as a figure.
"""

from __future__ import annotations

from surveyhub.rendering.texts import DocumentTexts, pgettext

ACROSS = DocumentTexts({
    "kicker_org": pgettext("org report", "Impact report of the organisation"),
    "kicker_network": pgettext("org report", "Impact report of the neighbourhood network"),
    "file_org": pgettext("org report", "impact-report-organisation"),
    "file_network": pgettext("org report", "impact-report-network"),
    "period_both": pgettext("org report", "{start} to {end}"),
    "page_code": pgettext("org report", "Code {code} · page"),
    "verify_line": pgettext("org report", "Check that this report is genuine:"),
    "members": pgettext("org report", "With {organisations}"),
    # cover figures
    "fig_residents": pgettext("org report", "residents took part"),
    "fig_residents_note": pgettext("org report", "each counted once, also when they took part in several projects"),
    "fig_projects": pgettext("org report", "projects"),
    "fig_organisations": pgettext("org report", "organisations"),
    "fig_activities": pgettext("org report", "activities"),
    "fig_hours": pgettext("org report", "hours residents put in"),
    # what was done
    "done": pgettext("org report", "What was done"),
    "done_intro_one": pgettext("org report", "In this period 1 project was active: how many residents took part, "
                                             "and what was made or reached."),
    "done_intro": pgettext("org report", "In this period {projects} projects were active. Per project: how many "
                                         "residents took part, and what was made or reached."),
    "project_line": pgettext("org report", "{residents} residents · {activities} activities · {hours} hours"),
    "project_pairs": pgettext("org report", "{pairs} residents filled in the questionnaire at the start and at the "
                                            "end."),
    "no_outputs": pgettext("org report", "No outputs or milestones recorded in this period."),
    "more_outputs": pgettext("org report", "And {n} more."),
    "no_projects": pgettext("org report", "No project was active in this period: no questionnaires, activities or "
                                          "outputs were recorded in it."),
    # what it brought residents
    "skills": pgettext("org report", "What it brought residents"),
    "skills_intro": pgettext("org report", "Per skill we put together the residents of all projects that used the "
                                           "same version of a questionnaire."),
    "pooled_from_one": pgettext("org report", "1 project: {pairs} residents with a start and an end."),
    "pooled_from": pgettext("org report", "{projects} projects together: {pairs} residents with a start and an "
                                          "end."),
    "left_out_one": pgettext("org report", "1 project had fewer than {min} residents with a start and an end on "
                                           "this skill. It is not counted in the total, so that no small group can be "
                                           "worked out."),
    "left_out": pgettext("org report", "{n} projects had fewer than {min} residents with a start and an end on this "
                                       "skill. They are not counted in the total, so that no small group can be "
                                       "worked out."),
    "no_skills": pgettext("org report", "In this period too few residents filled in a questionnaire at the start "
                                        "and at the end to say anything about change."),
    "forest_title": pgettext("org report", "{skill}: change per project"),
    "forest_axis": pgettext("org report", "change in the average score (end minus start)"),
    "forest_pooled": pgettext("org report", "All projects together"),
    "forest_pairs": pgettext("org report", "{n} pairs"),
    "forest_hidden": pgettext("org report", "too few pairs"),
    "forest_more_one": pgettext("org report", "1 more project is not in the chart."),
    "forest_more": pgettext("org report", "{n} more projects are not in the chart."),
    "forest_note": pgettext("org report", "Square: the average change in one project. Line: its 95% interval. "
                                          "Diamond: all projects together. Dashed line: no change."),
    "reference": pgettext("org report", "Compared with similar projects"),
    "reference_line": pgettext("org report", "In {projects} similar projects of {organisations} organisations, "
                                             "residents changed by {change} on average, and {share} of them clearly "
                                             "improved."),
    "reference_short": pgettext("org report", "In {projects} similar projects of {organisations} organisations, "
                                              "residents changed by {change} on average."),
    "versions": pgettext("org report", "Different versions of a questionnaire"),
    "version_line": pgettext("org report", "{instrument}: {uses}. Each version is counted on its own; the results "
                                           "of different versions are not added up."),
    "version_use": pgettext("org report", "version {version} in {projects}"),
    "version_use_count": pgettext("org report", "version {version}: {projects} projects of {organisations}"),
    # reliable change overall
    "rc_overall": pgettext("org report", "Over {scales} skills we looked at {n} results of residents (a resident "
                                         "counts once per skill): {improved} clearly improved, {unchanged} stayed "
                                         "about the same and {deteriorated} clearly declined."),
    "rc_none": pgettext("org report", "We cannot say this per resident: too few residents, or the reliability of "
                                      "the skills is not known."),
    "rc_left_out_one": pgettext("org report", "1 skill is not counted here, because one of its numbers is hidden "
                                              "to protect a small group."),
    "version_mark": pgettext("org report", "version {version}"),
    "rc_left_out": pgettext("org report", "{n} skills are not counted here, because one of their numbers is hidden "
                                          "to protect a small group."),
    "quote_from": pgettext("org report", "From {project}"),
    # limitations
    "lim_match_rate": pgettext("org report", "Only {rate} of the final questionnaires could be linked to the same "
                                             "resident's start. The residents who could not be linked may differ."),
    "lim_versions": pgettext("org report", "Some projects used another version of a questionnaire. Those versions "
                                           "are shown apart, not added up."),
    "lim_too_small": pgettext("org report", "Some projects had too few residents with a start and an end. They are "
                                            "not counted in the totals per skill."),
    "lim_same_residents": pgettext("org report", "Some residents took part in more than one project. In the number "
                                                 "of residents who took part they count once."),
    "lim_not_a_ranking": pgettext("org report", "The organisations work with different residents in different "
                                                "projects. Their figures side by side are not a ranking."),
    "lim_counts_rounded": pgettext("org report", "Numbers of residents, activities and hours are rounded to 5. Below 5 "
                                                 "they are shown as \"<5\"."),
    "lim_same_residents_orgs": pgettext("org report", "Some residents took part with more than one organisation. In "
                                                      "the network's total they count once."),
    "lim_blocks": pgettext("org report", "Not every start and end of this period is in the figures on change yet, "
                                         "or some from before it are. Change counts residents in blocks, in the "
                                         "order they filled in the final questionnaire."),
    "lim_no_pairs": pgettext("org report", "In this period no resident filled in the questionnaire both at the start "
                                           "and at the end, so there are no figures on change yet."),
    # method
    "m_period": pgettext("org report", "Both days of the period count. A resident's start and end count in the "
                                       "period when the final questionnaire was filled in during it."),
    "m_blocks": pgettext("org report", "Growth is counted per project in blocks of residents, in the order they "
                                       "filled in the final questionnaire. A block is as large as the threshold "
                                       "for tests. It counts in the period in which its last resident filled it in. "
                                       "So two reports never differ by just one resident."),
    "m_residents": pgettext("org report", "A resident took part when they filled in a questionnaire or joined an "
                                          "activity in the period. Residents who made their own code count once, "
                                          "in whichever projects or organisations the same code appears."),
    "m_pooling": pgettext("org report", "A skill is added up over the projects that used the same questionnaire in "
                                        "the same version. A project with fewer pairs than the threshold for "
                                        "averages is left out of the total, so its figures cannot be worked out."),
    "m_forest": pgettext("org report", "Per project the average change with its 95% interval, under the same rules "
                                       "for small numbers as the project's own report."),
    "m_reliable_change": pgettext("org report", "Reliable change as in the project report (Jacobson and Truax). The "
                                                "total adds up the skills whose three numbers are all shown."),
    "m_change": pgettext("org report", "Change is the score at the end minus the score at the start, per resident. "
                                       "The 95% interval comes from the t distribution; the effect size d_z is the "
                                       "average change divided by the spread of the changes."),
    "m_thresholds": pgettext("org report", "No averages below {min_means} pairs, no tests or effect sizes below "
                                           "{min_tests} pairs, and numbers below {min_cell} shown as \"<{min_cell}\"."),
    "m_network": pgettext("org report", "Only projects that an organisation chose to share count. The network sees "
                                        "totals only: no project, no resident and no quote. A project with fewer "
                                        "pairs than the threshold for tests does not count in the figures on "
                                        "change."),
    "m_instruments": pgettext("org report", "Questionnaires used"),
    # the network: organisations side by side
    "orgs": pgettext("org report", "The organisations side by side"),
    "orgs_intro": pgettext("org report", "Totals per organisation only. No organisation sees the residents of "
                                         "another."),
    "col_organisation": pgettext("org report", "Organisation"),
    "col_projects": pgettext("org report", "Projects"),
    "col_residents": pgettext("org report", "Residents"),
    "col_activities": pgettext("org report", "Activities"),
    "col_hours": pgettext("org report", "Hours"),
    "together": pgettext("org report", "Together"),
    "too_few": pgettext("org report", "too few"),
    "orgs_change": pgettext("org report", "Change per skill, per organisation"),
})

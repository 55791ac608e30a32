"""The plugin contract: every hook SurveyHub calls, documented once.

The docstring of each specification is the plugin author's documentation;
``docs/plugins.md`` walks through them with a worked example. Import the marker
with ``from surveyhub import hookimpl``.

SurveyHub calls every implementation on its own, through pluggy without the
other plugins (``PluginHost.call_isolated``), so one plugin that raises never
stops another; for the same reason hook wrappers are refused. What a
``surveyhub_register_*`` hook hands over (scoring methods, question types,
export formats) is wrapped once in a guard (``surveyhub.plugin_guards``), so a
failure of one of those objects later is reported the same way. Returning ``None`` means "nothing to add". A plugin
that raises (even ``SystemExit``) is reported on the admin plugins page and
by ``surveyhub plugins``; problems seen while the app runs are stored in the
database, so every worker process shows them.
"""

import pluggy

hookspec = pluggy.HookspecMarker("surveyhub")
#: The marker for plugin implementations; plugins import it as ``from surveyhub import hookimpl``.
hookimpl = pluggy.HookimplMarker("surveyhub")


# --- registration: called once, when the app starts (export formats: at the first export) ---

@hookspec
def surveyhub_register_instruments():
    """Register instrument definitions.

    Called once when the app starts. Built-in: the YAML files in the
    ``instruments/`` folder (registered ``trylast``).

    :returns: a list of instrument definitions, each a dict in the YAML form of
        DESIGN.md or a path (``str`` or ``pathlib.Path``) to a YAML file. Each is
        validated against the instrument schema; an invalid one is reported and
        left out. When two sources register the same ``id`` and ``version``,
        the first registered counts (the built-in YAML files come first) and
        the second is reported, naming both, and left out; the app starts.
    """


@hookspec
def surveyhub_register_scoring_methods():
    """Register scoring methods that a scale names in ``scoring.method``.

    Built-in: ``mean`` and ``sum`` (registered ``trylast``, so a plugin may
    override them).

    :returns: a dict of method name to a callable ``(values, scale) -> float | None``.
        ``values`` maps item id to the numeric value after reverse coding
        (``None`` = unanswered); ``scale`` is the scale's definition dict, so a
        method may read its own keys from ``scale["scoring"]``. Return ``None``
        when there are not enough answers to score. While a resident's page is
        saved, a plugin's method gets the same time budget as event hooks
        (``SURVEYHUB_PLUGIN_HOOK_TIMEOUT``): one that has not returned by then
        is reported and that score is stored as ``None``.
    """


@hookspec
def surveyhub_register_question_types():
    """Register item types beyond the built-in ``choice``, ``number``, ``text`` and ``yes_no``.

    :returns: a dict of type name to a :class:`surveyhub.measures.questions.QuestionType`
        (or any object with the same attributes): ``make_field(item, context)``
        returns an unbound WTForms field for one item, ``code(item, raw, context)``
        turns the submitted form data into the stored value (a number or text,
        or ``None`` for unanswered) and raises ``ValueError`` with a message for
        the resident when the data is not acceptable, ``value_range(item, context)``
        returns ``(lo, hi)`` for scored types or ``None``, and ``scored`` says
        whether the type yields a number a scale can score. ``context`` is a
        dict with ``answer_sets`` (the instrument's answer sets) and ``lang``.
        When ``code`` raises anything but ``ValueError`` (a bug), or has not
        returned within ``SURVEYHUB_PLUGIN_HOOK_TIMEOUT`` seconds, the answer
        is not dropped: it is stored as the text the resident sent (scored as
        unanswered) and the failure is reported to admins.
        A type registered under a built-in name replaces the built-in. Labels
        may carry markup as ``markupsafe.Markup`` (escape the text parts);
        ``questions.radio_choices`` builds the choices.
    """


@hookspec
def surveyhub_register_export_formats():
    """Register response export formats beyond ``csv``, ``xlsx`` and ``sav``.

    :returns: a dict of format name to an exporter object with ``extension``
        (``str``, no dot), ``mimetype`` (``str``) and
        ``write(table, stream)``, where ``table`` is an
        :class:`surveyhub.services.exports.ExportTable` (``columns``,
        ``labels``, ``value_labels`` and an iterator ``rows()`` of plain values)
        and ``stream`` a binary file object.
    """


# --- content: called each time a document is made ---------------------------------------

@hookspec
def surveyhub_certificate_sections(context):
    """Add sections to a resident's certificate.

    :param context: the certificate's template context, plain values only:
        ``lang``, ``participant`` (``display_name``, ``code``), ``project``
        (``name``, ``slug``), ``organisation`` (``name``), ``scales`` (a list
        of dicts with ``title``, ``level_start``, ``level_now``, ``grew``;
        ``level_start`` is None where the resident did not grow, because a
        certificate never shows a decline; ``level_now`` is None where the
        resident is in the scale's lowest level, because a certificate never
        gives a resident at the bottom a level word).
    :returns: a list of sections, each a dict ``{"title": str, "body": str}``
        or ``None``. Both strings are shown as plain text (escaped). A plugin
        that raises is left out and logged; the certificate is still produced.
        So is anything that is not such a dict. At most five sections are
        shown; a body is cut at 2,000 characters.
    """


@hookspec
def surveyhub_report_sections(context):
    """Add sections to the funder's impact report.

    :param context: the report's template context, plain values only: ``lang``,
        ``project``, ``organisation`` and ``report`` (the report JSON dict).
    :returns: a list of sections, each a dict ``{"title": str, "body": str}``
        (plain text, escaped) or ``None``. A plugin that raises is left out and
        logged; the report is still produced.
    """


# --- events: called after something happened; return values are ignored -------------------

@hookspec
def surveyhub_response_completed(response):
    """Event: a resident (or a worker entering paper answers) completed a wave.

    Called after the answers and scale scores are committed, so a plugin can
    never cost a resident an answer; a plugin that raises is logged and
    reported on the admin plugins page. Each plugin runs in a thread of its
    own and the resident's page waits at most ``SURVEYHUB_PLUGIN_HOOK_TIMEOUT``
    seconds (default 2) for all of them: a plugin still running then is
    reported and finishes on its own, unwaited for. Slow work (a webhook, an
    e-mail) should therefore be quick to hand off, and must not rely on a
    request or database session of SurveyHub's.

    :param response: a plain dict: ``project`` (slug), ``wave`` (``pre``,
        ``post`` or ``followup``), ``participant`` (pseudonymous code),
        ``answers`` (``{"<instrument>.<item>": value}``), ``scores``
        (``{"<instrument>.<scale>": float | None}``) and ``entered_by``
        (a worker's e-mail for paper entry, else ``None``).
    :returns: nothing; return values are ignored.
    """

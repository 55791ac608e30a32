"""Rendering: certificates, impact reports, paper questionnaires and link sheets as PDF.

Engine layer (no Flask, no database), plain values in, PDF bytes out:
``certificate``, ``report`` and ``paper`` build each document's template
context; ``render`` turns a template and its context into PDF with WeasyPrint
(fetching nothing from outside); ``texts`` holds the wording and
``formatting`` writes numbers and dates through ``surveyhub.locale``;
``charts`` draws every outcome chart (the dashboard draws the same ones);
``verify`` makes and finds verification codes; ``signing`` adds an
organisation's PAdES signature; ``svg`` keeps the checked brand colour. The
services in ``surveyhub.services.documents`` gather the data and register what
was issued.
"""

"""Documents: certificates, impact reports, paper questionnaires and link sheets as PDF.

Engine layer (no Flask, no database): ``render`` turns a template and a
context of plain values into PDF bytes with WeasyPrint, ``texts`` and
``formatting`` hold the wording and the Dutch number and date formats,
``verify`` makes and finds verification codes, ``signing`` adds an
organisation's PAdES signature, ``svg`` draws the small charts. The services
in ``surveyhub.services.documents`` build the contexts and register what was
issued.
"""

"""Documents: certificates, impact reports, paper questionnaires and link sheets as PDF.

Engine layer (no Flask, no database), plain values in, PDF bytes out:
``certificate``, ``report`` and ``paper`` build each document's template
context; ``render`` turns a template and its context into PDF with WeasyPrint
(fetching nothing from outside); ``texts`` and ``formatting`` hold the wording
and the Dutch number and date formats; ``verify`` makes and finds
verification codes; ``signing`` adds an organisation's PAdES signature;
``svg`` draws the certificate's chart (and the report's charts should the
shared ``charts`` module fail). The services in ``surveyhub.services.documents``
gather the data and register what was issued.
"""

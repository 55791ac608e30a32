"""Documents made in the background: certificate batches, the certificate book, reports, link sheets.

(Filled in by the documents work.)
"""

from __future__ import annotations

from surveyhub.services.job_kinds import Kind

KINDS: list[Kind] = []

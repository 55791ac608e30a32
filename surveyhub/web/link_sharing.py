"""Sharing a resident's personal link: the invitation text and the WhatsApp and SMS share links.

WhatsApp is the main channel in Dutch community work. Sharing goes through
plain share URLs (``https://wa.me/?text=…``, ``sms:?&body=…``): no script from
another site, and the phone opens its own app with the text filled in. Every
part of the text is percent-encoded, so a project name with ``&`` or ``#``
cannot cut the message short or add parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from flask_babel import ngettext

from surveyhub.services import short_codes

WHATSAPP = "https://wa.me/?text="
#: ``sms:?&body=`` is the form both Android and iOS read (iOS ignores ``?body=`` after an empty number).
SMS = "sms:?&body="


def invitation_text(project_name: str, minutes: int, link: str) -> str:
    """The message a worker sends: the project, the time it takes (from the questions asked) and the link."""
    return ngettext("Hello! Would you fill in the questionnaire about %(project)s? It takes about %(num)s minute. "
                    "Your link: %(link)s",
                    "Hello! Would you fill in the questionnaire about %(project)s? It takes about %(num)s minutes. "
                    "Your link: %(link)s", minutes, project=project_name, link=link)


def whatsapp_href(message: str) -> str:
    return WHATSAPP + quote(message, safe="")


def sms_href(message: str) -> str:
    return SMS + quote(message, safe="")


@dataclass(frozen=True)
class Share:
    """One resident's link, ready to copy or send."""

    link: str
    #: The address to type from paper (``…/k/K7P2-9XMC``) and its code as printed (``K7P2-9XMC``).
    short_link: str | None
    short_code: str | None
    message: str

    @property
    def whatsapp(self) -> str:
        return whatsapp_href(self.message)

    @property
    def sms(self) -> str:
        return sms_href(self.message)


def share(base_url: str, token: str, short_code: str | None, project_name: str, minutes: int) -> Share:
    link = f"{base_url}/q/{token}"
    return Share(link, short_codes.link(base_url, short_code) if short_code else None,
                 short_codes.display(short_code) if short_code else None, invitation_text(project_name, minutes, link))

"""The words and the wire form of an e-mail to a resident: composed when queued, turned into MIME when sent.

The texts are gettext messages with context ``mail`` in the app's catalog
(``surveyhub.rendering.texts``), read for one resident in one language. A
resident's language without mail texts in its catalog (Turkish, Arabic and
Polish drafts) gets the Dutch mail: never an English one by accident.

Every name in a header (the organisation's, the resident's) passes through
``email.headerregistry.Address``: accents are encoded (RFC 2047) and quotes
or angle brackets are quoted, and control characters are replaced by a space
first, so "Eve\\r\\nBcc: x" stays one display name and never becomes a header.
The HTML part is built from escaped values only.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from collections.abc import Mapping

from surveyhub.locale import RTL_LANGUAGES, resident_language
from surveyhub.rendering.texts import DocumentTexts, pgettext
from surveyhub.services.errors import N_

FAILED_OPTED_OUT = N_("The resident asked for no more reminders.")
FAILED_NOT_SET_UP = N_("E-mail is not set up on this installation.")


def configured(settings: Mapping) -> bool:
    """Can this installation send e-mail? (SMTP_HOST and MAIL_FROM set.)"""
    return bool(str(settings.get("SMTP_HOST") or "").strip()) and bool(str(settings.get("MAIL_FROM") or "").strip())


def opt_out_link(base_url: str, token: str) -> str:
    """The page where a resident stops reminders (the route is ``web.mail.opt_out``)."""
    return f"{base_url.rstrip('/')}/q/{token}/geen-herinneringen"

#: The mail's words; ``{name}`` placeholders are filled with ``str.format``.
MAIL = DocumentTexts({
    "subject_invitation": pgettext("mail", "{project}: will you fill in the questionnaire?"),
    "subject_reminder": pgettext("mail", "Reminder: {project}, your questionnaire is waiting"),
    "hello_name": pgettext("mail", "Hello {name},"),
    "hello": pgettext("mail", "Hello,"),
    "invite": pgettext("mail", "{organisation} asks you to fill in a questionnaire for {project}."),
    "remind": pgettext("mail", "{organisation} asked you to fill in a questionnaire for {project}. "
                               "You have not finished it yet."),
    "saved": pgettext("mail", "Did you start already? Your answers are saved. You go on where you stopped."),
    "wave_pre": pgettext("mail", "This is the questionnaire at the start of the project."),
    "wave_post": pgettext("mail", "This is the questionnaire at the end of the project."),
    "wave_followup": pgettext("mail", "This is the questionnaire some time after the project."),
    "minutes": pgettext("mail", "It takes about {minutes} minutes."),
    "open_link": pgettext("mail", "Open your personal link:"),
    "button": pgettext("mail", "Fill in the questionnaire"),
    "short_code": pgettext("mail", "Or go to {address} and type your code: {code}"),
    "only_you": pgettext("mail", "This link is only for you. Please do not pass it on."),
    "no_email_needed": pgettext("mail", "You do not need e-mail to take part. You can also get the link on paper."),
    "contact_worker": pgettext("mail", "Questions? Ask {worker} of {organisation}."),
    "contact_line": pgettext("mail", "Contact: {contact}"),
    "thanks": pgettext("mail", "Thank you!"),
    "why": pgettext("mail", "You get this e-mail because {organisation} has your e-mail address for this "
                            "project."),
    "opt_out": pgettext("mail", "No more reminders? Use this link:"),
    "opt_out_button": pgettext("mail", "Send me no more reminders"),
    "from_name": pgettext("mail", "{organisation} via SurveyHub"),
}, languages=("nl", "en", "tr", "ar", "pl"))

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def mail_language(lang: str) -> str:
    """The language the mail is written in: the resident's, or Dutch when its catalog has no mail texts yet."""
    lang = resident_language(lang)
    if lang in ("nl", "en") or MAIL[lang]["invite"] != MAIL["en"]["invite"]:
        return lang
    return "nl"


def texts(lang: str) -> dict:
    """The mail's words in ``lang`` (see :func:`mail_language`)."""
    return MAIL[mail_language(lang)]


def one_line(text: str | None) -> str:
    """A name or subject for a header: control characters (CR, LF, NUL ...) become one space."""
    return _CONTROL.sub(" ", text or "").strip()


@dataclass(frozen=True)
class Facts:
    """What one message says: plain values, about one resident only."""

    kind: str  # invitation or reminder
    wave_kind: str
    lang: str
    organisation: str
    project: str
    minutes: int
    link: str
    short_link: str | None
    short_code: str | None
    resident_name: str | None
    worker_name: str | None
    contact: str | None
    opt_out_url: str | None = None


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str


def compose(facts: Facts) -> Composed:
    """Subject, plain text and HTML of one invitation or reminder."""
    t = texts(facts.lang)
    org, project = one_line(facts.organisation), one_line(facts.project)
    name = one_line(facts.resident_name)
    reminder = facts.kind == "reminder"
    subject = one_line(t["subject_reminder" if reminder else "subject_invitation"].format(project=project))
    opening = [t["hello_name"].format(name=name) if name else t["hello"]]
    intro = [t["remind" if reminder else "invite"].format(organisation=org, project=project)]
    if reminder:
        intro.append(t["saved"])
    else:
        intro.append(t.get(f"wave_{facts.wave_kind}", ""))
    intro.append(t["minutes"].format(minutes=facts.minutes))
    # The page where a code is typed (``/k``), for a resident whose mail program breaks the link.
    code_line = (t["short_code"].format(address=facts.short_link.rsplit("/", 1)[0],
                                        code=facts.short_link.rsplit("/", 1)[1])
                 if facts.short_link else None)
    after = [t["only_you"], t["no_email_needed"]]
    contact = []
    if facts.worker_name:
        contact.append(t["contact_worker"].format(worker=one_line(facts.worker_name), organisation=org))
    if facts.contact:
        contact.append(t["contact_line"].format(contact=facts.contact))
    closing = [t["thanks"], org]
    why = t["why"].format(organisation=org)

    lines = opening + [""] + [" ".join(part for part in intro if part), "", t["open_link"], facts.link]
    if code_line:
        lines.append(code_line)
    lines += [""] + after + [""] + contact + ([""] if contact else []) + closing + ["", "--", why]
    if reminder and facts.opt_out_url:
        lines += [t["opt_out"], facts.opt_out_url]
    text = "\n".join(lines) + "\n"
    return Composed(subject, text, _html(facts, t, opening, intro, code_line, after, contact, closing, why))


def _html(facts: Facts, t: dict, opening, intro, code_line, after, contact, closing, why) -> str:
    e = html.escape
    direction = "rtl" if facts.lang in RTL_LANGUAGES else "ltr"
    button = ('<p><a href="{0}" style="display:inline-block;padding:12px 20px;background:#1f5f8b;color:#ffffff;'
              'text-decoration:none;border-radius:4px">{1}</a></p>').format(e(facts.link), e(t["button"]))
    parts = [f'<p>{e(opening[0])}</p>', "<p>" + e(" ".join(p for p in intro if p)) + "</p>", button,
             f'<p>{e(t["open_link"])}<br><a href="{e(facts.link)}">{e(facts.link)}</a></p>']
    if code_line:
        parts.append(f"<p>{e(code_line)}</p>")
    parts.append("<p>" + "<br>".join(e(line) for line in after) + "</p>")
    if contact:
        parts.append("<p>" + "<br>".join(e(line) for line in contact) + "</p>")
    parts.append("<p>" + "<br>".join(e(line) for line in closing) + "</p>")
    footer = e(why)
    if facts.kind == "reminder" and facts.opt_out_url:
        footer += f'<br>{e(t["opt_out"])} <a href="{e(facts.opt_out_url)}">{e(t["opt_out_button"])}</a>'
    parts.append(f'<p style="color:#555555;font-size:13px">{footer}</p>')
    return (f'<!DOCTYPE html><html lang="{e(facts.lang)}" dir="{direction}"><head><meta charset="utf-8">'
            f"<title>{e(t['button'])}</title></head>"
            f'<body style="font-family:sans-serif;font-size:16px;line-height:1.5">{"".join(parts)}</body></html>')


# --- the wire form ---------------------------------------------------------------------------------

def plain_address(value: str | None) -> str | None:
    """The bare address of ``MAIL_FROM`` or a contact line (``Name <a@b.nl>`` → ``a@b.nl``); None if none."""
    _name, addr = parseaddr(one_line(value))
    if not addr or "@" not in addr or " " in addr:
        return None
    local, _, domain = addr.rpartition("@")
    if not local or "." not in domain:
        return None
    return addr


_IN_LINE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def contact_address(contact: str | None) -> str | None:
    """The e-mail address in the organisation's contact line ("… · 030 123 · info@x.nl"), for Reply-To."""
    found = _IN_LINE.search(one_line(contact))
    return plain_address(found.group(0).rstrip(".")) if found else None


def new_message_id(mail_from: str | None) -> str:
    """A Message-ID fixed when the message is queued (``<...@domain of MAIL_FROM>``)."""
    addr = plain_address(mail_from)
    domain = addr.rpartition("@")[2] if addr else "surveyhub.invalid"
    return make_msgid(domain=domain)


def address(name: str | None, addr: str) -> Address:
    """A header address; ValueError when ``addr`` is not an address."""
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain or _CONTROL.search(addr) or " " in addr:
        raise ValueError("not an e-mail address")
    return Address(display_name=one_line(name)[:200], username=local, domain=domain)


def mime(*, subject: str, text: str, html_body: str, to_name: str | None, to_address: str, organisation: str,
         mail_from: str, reply_to: str | None, message_id: str, opt_out_url: str | None,
         lang: str) -> EmailMessage:
    """The message as sent: multipart/alternative (text, then HTML), headers encoded safely."""
    message = EmailMessage()
    from_addr = plain_address(mail_from)
    if from_addr is None:
        raise ValueError("MAIL_FROM is not an e-mail address")
    message["From"] = address(texts(lang)["from_name"].format(organisation=one_line(organisation)), from_addr)
    message["To"] = address(to_name, to_address)
    reply = contact_address(reply_to)
    if reply:
        message["Reply-To"] = address(one_line(organisation), reply)
    message["Subject"] = one_line(subject)
    message["Message-ID"] = message_id
    message["Date"] = formatdate(usegmt=True)
    message["Auto-Submitted"] = "auto-generated"
    if opt_out_url:
        message["List-Unsubscribe"] = f"<{opt_out_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html_body, subtype="html")
    message["Content-Language"] = lang  # after the content: set_content() drops Content-* headers
    return message

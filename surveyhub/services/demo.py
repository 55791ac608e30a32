"""Demo data: an organisation, three users, a project with realistic pre/post answers and its story.

The project asks the short form, one question per screen (what a worker with
residents on phones would choose). Besides the 30 invited residents, two
residents used the anonymous link: one did the pre wave, and one the post wave
on another phone with a birth month one off, so the pairs page has a pair to check.

The story is what a worker records on "Verhaal voor het rapport": the funder,
the period, meetings and volunteer hours, four outputs (one with a photo drawn
here, no downloaded image), recommendations, quotes chosen for the report,
and what some residents did. All names, addresses and the fund are invented.

What residents did is recorded as activities with roles (``demo_activities``); the
organisation's other projects, two more organisations and their neighbourhood network are
in ``demo_field``.

Idempotent: a second run finds the demo organisation and changes nothing.
Passwords are generated on the first run and kept in the instance folder
(``demo-logins.txt``, readable only by its owner) so the command can print
them again; no password is ever in the repository.
"""

from __future__ import annotations

import io
import os
import random
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.measures.registry import InstrumentRegistry
from surveyhub.models import Answer, Consent, Organisation, Participant, Project, ProjectShare, Response, Token, User
from surveyhub.models._types import utcnow
from surveyhub.services import access, accounts, participants, project_story, projects, short_codes, story_facts
from surveyhub.services import badges, demo_activities, demo_field
from surveyhub.services.demo_answers import answer
from surveyhub.services.demo_answers import profile as draw_profile

DEMO_ORG = "Buurtwerk Demo"
DEMO_PROJECT = "Speeltuin De Vlinder"
DEMO_INSTRUMENTS = ["organising", "conversation", "cooperation", "confidence", "network"]
ROLES = (("admin", "admin@demo.example.org"), ("worker", "opbouwwerker@demo.example.org"),
         ("funder", "financier@demo.example.org"))
#: Each demo user's name and job title (the worker's are printed under the certificate's signature line).
PEOPLE = {"admin": ("Ahmed Bakkali", "Teamleider"), "worker": ("Sanne de Vries", "Opbouwwerker"),
          "funder": ("Pieter Jansen", "Beleidsmedewerker Initiatievenfonds, Gemeente Utrecht")}
CONTACT = "Buurtwerk Demo · Vlinderstraat 12, Utrecht · 030 123 45 67 · info@buurtwerk-demo.example.org"
N_RESIDENTS = 30
N_PRE_ONLY = 4
SEED = 20261125
NAMES = ["Fatima", "Henk", "Samira", "Joost", "Aylin", "Marco", "Ingrid", "Youssef", "Priya", "Kees",
         "Nadia", "Bram", "Esra", "Wim", "Chantal", "Mohamed", "Ans", "Dewi", "Ricardo", "Lotte",
         "Tamara", "Gerrit", "Hanan", "Sven", "Mirjam", "Ömer", "Jolanda", "Kofi", "Lieke", "Anouk"]
#: Answers to "Waar ben je trots op in dit project?", by resident (index in NAMES); every third resident
#: agreed to share quotes (0, 3, 6 ...). Residents not listed left the question empty.
QUOTES = {
    0: "Ik durf nu veel makkelijker iets te zeggen in een vergadering.",
    1: "Dat mijn kleinzoon nu een plek heeft om te spelen.",
    3: "Ik ken nu veel meer mensen uit mijn straat.",
    4: "Ik heb drie zaterdagen meegeholpen met bouwen.",
    6: "Samen de speeltuin bouwen was hard werken, maar het gaf veel energie.",
    7: "Dat we het samen hebben gedaan, jong en oud.",
    9: "Ik heb geleerd hoe je een subsidie aanvraagt bij de gemeente.",
    10: "De opening. Er kwamen zoveel mensen.",
    12: "Ik heb de koffie en thee geregeld op elke bewonersavond.",
    13: "Dat de kinderen zelf mochten kiezen hoe het eruit ziet.",
    15: "Eerst zat ik vooral thuis. Nu groet ik iedereen in de straat.",
    16: "Ik heb de buren overgehaald om mee te doen.",
    18: "Ik heb voor het eerst een stuk geschreven voor de wijkkrant.",
    19: "Het klimrek. Daar heb ik zelf aan gewerkt.",
    21: "Mijn dochter en ik gingen samen naar de avonden. Dat was mooi.",
    22: "Ik weet nu bij wie ik kan aankloppen als er iets is.",
    24: "Ik heb de planning voor de bouwdagen gemaakt en iedereen gebeld.",
    25: "Dat de gemeente echt naar ons luisterde.",
}
#: The quotes the worker chose for the report (residents who share quotes).
CHOSEN_QUOTES = (0, 9, 15, 21)
#: What some residents did, in the worker's words, for their certificates.
RESIDENT_ROLES = {0: "organiseerde de eerste bewonersavond", 1: "leidde de bouwploeg op zaterdag",
                  2: "maakte met de kinderen de tekeningen voor het ontwerp",
                  4: "schreef de uitnodigingen in drie talen", 24: "maakte de planning voor de bouwdagen"}
#: The project's story for page 1 and 2 of the impact report.
STORY = {"funder_name": "Gemeente Utrecht – Initiatievenfonds", "period_start": date(2026, 2, 1),
         "period_end": date(2026, 10, 31), "meetings_held": 14, "volunteer_hours": 320,
         "recommendations": "Ga door met de bouwploeg: bewoners willen het onderhoud zelf regelen.\n"
                            "Betrek de school bij de opening van het tweede deel.\n"
                            "Houd de bewonersavonden in de buurt en in de avond: dan kunnen werkende ouders mee."}
OUTPUTS = ((date(2026, 3, 4), "Eerste bewonersavond: 40 buren denken mee"),
           (date(2026, 4, 18), "Ontwerp gekozen met de kinderen van De Vlinder"),
           (date(2026, 5, 12), "Speeltuin geopend"),
           (date(2026, 9, 20), "Onderhoudsploeg van zes bewoners gestart"))
#: The output that gets the demo's drawn photo.
PHOTO_OUTPUT = "Speeltuin geopend"
#: Two residents on the anonymous link (wave, self-made code): the same resident, who picked
#: April at the start and May at the end. One answer apart: a fuzzy pair for the worker to check.
ANONYMOUS = (("pre", "m|j|4|1|0|u"), ("post", "m|j|5|1|0|u"))


@dataclass(frozen=True)
class DemoResult:
    created: bool
    project_name: str
    project_slug: str
    logins: list[tuple[str, str, str]]
    resident_link: str
    #: (organisation, e-mail, password) of the other organisations' admins (see ``demo_field``).
    other_logins: list[tuple[str, str, str]] = field(default_factory=list)


def _known_logins(instance_path: Path) -> dict[str, str]:
    path = instance_path / "demo-logins.txt"
    if not path.exists():
        return {}
    return dict(line.split(" ", 1) for line in path.read_text().splitlines() if " " in line)


def _logins(instance_path: Path) -> dict[str, str]:
    path = instance_path / "demo-logins.txt"
    known = _known_logins(instance_path)
    emails = [email for _, email in ROLES] + [email for _, email in demo_field.logins()]
    logins = {email: known.get(email) or secrets.token_urlsafe(9) for email in emails}
    if logins != known:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.writelines(f"{email} {password}\n" for email, password in logins.items())
    return logins


def load(session: Session, registry: InstrumentRegistry, base_url: str, instance_path: Path) -> DemoResult:
    existing = session.scalar(select(Organisation).where(Organisation.name == DEMO_ORG))
    created = existing is None
    # New passwords only for new users: an existing demo keeps the passwords it was made with,
    # which this instance folder may not know (another app server, a fresh folder).
    passwords = _logins(instance_path) if created else _known_logins(instance_path)
    org = existing if existing is not None else accounts.create_organisation(session, DEMO_ORG)
    if created:
        user_ids = {}
        for role, email in ROLES:
            name, job_title = PEOPLE[role]
            user = accounts.create_user(session, org.id, email, role, passwords[email], name=name)
            story_facts.set_profile(session, user.id, name, job_title)
            user_ids[role] = user.id
        actor = access.Actor(organisation_id=org.id, role="admin")
        story_facts.set_organisation_facts(session, actor, CONTACT, "landscape")
        # Set up by the worker, as in real life: certificates made on the command line are signed by her.
        worker = access.Actor(organisation_id=org.id, role="worker", user_id=user_ids["worker"])
        info = projects.create_project(session, registry, worker, DEMO_PROJECT, DEMO_INSTRUMENTS, retrospective=True,
                                       description="Bewoners bouwen samen een nieuwe speeltuin in de wijk.")
        _choose_form(session, actor, info.slug)
        _fill(session, registry, actor, info.slug)
        _anonymous(session, registry, actor, info.slug)
        _tell_the_story(session, actor, info.slug)
        playground_id = _record_activities(session, info.slug, actor, user_ids["worker"])
        _award_badges(session, playground_id, base_url)
        demo_field.load(session, registry, org.id, user_ids, passwords, playground_id)
    project = session.scalars(select(Project).where(Project.organisation_id == org.id,
                                                    Project.name == DEMO_PROJECT)).one()
    _share_with_funder(session, org, project)
    link = _open_link(session, project, base_url)
    return DemoResult(created, project.name, project.slug,
                      [(role, email, passwords.get(email, "(set before this instance)")) for role, email in ROLES],
                      link, [(name, email, passwords.get(email, "(set before this instance)"))
                             for name, email in demo_field.logins()])


def _award_badges(session: Session, project_id: int, base_url: str) -> None:
    """The playground issues Open Badges for growth and for a level reached, as a project would choose."""
    project = session.get_one(Project, project_id)
    project.badge_rule = "either"
    badges.issue_earned(session, project, base_url=base_url)


def _record_activities(session: Session, slug: str, actor, worker_id: int) -> int:
    """The playground's activities and who did what (see ``demo_activities``), recorded by the worker; its id."""
    rng = random.Random(SEED + 2)  # apart from the answers' draws, which stay as they were
    project = access.project(session, actor, slug, "project.setup")
    start = (utcnow() - timedelta(days=180)).date()
    demo_activities.record(session, project.id, worker_id, start, demo_activities.SPEELTUIN,
                           demo_activities.tendencies(session, project.id, rng), rng,
                           leads=demo_activities.SPEELTUIN_LEADS, volunteers=demo_activities.SPEELTUIN_VOLUNTEERS)
    return project.id


def _share_with_funder(session: Session, org: Organisation, project: Project) -> None:
    """The demo funder sees the demo project's numbers: it is shared with them (once)."""
    funder_email = dict(ROLES)["funder"]
    funder_id = session.scalar(select(User.id).where(User.email == funder_email, User.organisation_id == org.id))
    if funder_id is not None and not session.scalar(select(ProjectShare.id).where(
            ProjectShare.project_id == project.id, ProjectShare.user_id == funder_id)):
        session.add(ProjectShare(project_id=project.id, user_id=funder_id))
        session.flush()


def _open_link(session: Session, project: Project, base_url: str) -> str:
    """A resident who did the pre wave but not yet the post wave."""
    for participant in sorted(session.scalars(select(Participant).where(Participant.project_id == project.id)),
                              key=lambda p: p.id):
        if len(participant.responses) == 1 and participant.tokens:
            return f"{base_url}/q/{participant.tokens[0].token}"
    return f"{base_url}/a/{project.anonymous_token}"


def _fill(session: Session, registry: InstrumentRegistry, actor, slug: str) -> None:
    rng = random.Random(SEED)
    project = access.project(session, actor, slug, "project.setup")
    waves = {w.kind: w for w in project.waves}
    entries: list[tuple[str | None, str | None]] = [(name, None) for name in NAMES[:N_RESIDENTS]]
    invitations = participants.add_participants(session, actor, slug, entries=entries)
    start = utcnow() - timedelta(days=180)
    for index, invitation in enumerate(invitations):
        participant = session.scalars(select(Participant).where(Participant.project_id == project.id,
                                                                Participant.code == invitation.code)).one()
        profile = draw_profile(rng, DEMO_INSTRUMENTS)
        session.add(Consent(participant_id=participant.id, wave_id=waves["pre"].id, wording_version="1",
                            language="nl", share_quotes=index % 3 == 0, given_at=start))
        answer(session, registry, project, participant, waves["pre"], profile, rng, then=False, when=start)
        if index < N_RESIDENTS - N_PRE_ONLY:
            grown = {scale: level + growth for scale, (level, growth) in profile.items()}
            post_profile = {scale: (grown[scale], 0.0) for scale in profile}
            answer(session, registry, project, participant, waves["post"], post_profile, rng, then=True,
                   when=start + timedelta(days=150), quote=QUOTES.get(index), before=profile)
    waves["pre"].status, waves["pre"].closed_at = "closed", start + timedelta(days=30)
    waves["post"].status, waves["post"].opened_at = "open", start + timedelta(days=140)
    session.flush()


def _choose_form(session: Session, actor, slug: str) -> None:
    """The short form, one question per screen: before anyone answers, as the set-up page allows."""
    project = access.project(session, actor, slug, "project.setup")
    project.form_length, project.question_mode = "short", "one"
    session.flush()


def _anonymous(session: Session, registry: InstrumentRegistry, actor, slug: str) -> None:
    """Two participants on the anonymous link whose codes differ in one answer (see ``ANONYMOUS``)."""
    rng = random.Random(SEED + 1)  # apart from the invited residents' draws, which stay as they were
    project = access.project(session, actor, slug, "project.setup")
    waves = {w.kind: w for w in project.waves}
    profile = draw_profile(rng, DEMO_INSTRUMENTS)
    start = utcnow() - timedelta(days=175)
    for kind, code in ANONYMOUS:
        participant = Participant(project_id=project.id, code=participants.new_code(session, project.id, prefix="A"),
                                  self_code=code, source="anonymous")
        participant.tokens.append(Token(token=participants.new_token()))
        session.add(participant)
        short_codes.ensure(session, participant.tokens)  # flushes
        when = start if kind == "pre" else start + timedelta(days=150)
        session.add(Consent(participant_id=participant.id, wave_id=waves[kind].id, wording_version="1",
                            language="nl", share_quotes=False, given_at=when))
        if kind == "pre":
            answer(session, registry, project, participant, waves[kind], profile, rng, then=False, when=when)
        else:
            grown = {scale: (level + growth, 0.0) for scale, (level, growth) in profile.items()}
            answer(session, registry, project, participant, waves[kind], grown, rng, then=True, when=when,
                   before=profile)
    session.flush()


def _tell_the_story(session: Session, actor, slug: str) -> None:
    """What the worker records for the report: the story, outputs, chosen quotes, residents' roles."""
    project_story.update_story(session, actor, slug, **STORY)
    for day, line in OUTPUTS:
        project_story.add_output(session, actor, slug, day, line, photo=_photo() if line == PHOTO_OUTPUT else None)
    project = access.project(session, actor, slug, "project.setup")
    codes = {p.display_name: p.code for p in session.scalars(select(Participant)
                                                             .where(Participant.project_id == project.id))}
    for index, role in RESIDENT_ROLES.items():
        story_facts.set_resident_role(session, actor, slug, codes[NAMES[index]], role)
    for index in CHOSEN_QUOTES:
        answer_id = session.execute(
            select(Answer.id).join(Response, Response.id == Answer.response_id)
            .join(Participant, Participant.id == Response.participant_id)
            .where(Participant.project_id == project.id, Participant.code == codes[NAMES[index]],
                   Answer.value_text == QUOTES[index]).limit(1)).scalar_one()
        project_story.choose_quote(session, actor, slug, answer_id)


def _photo() -> bytes:
    """The opening of the playground, drawn: sky, sun, grass, a red climbing frame, a yellow slide, bunting."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (960, 600), (158, 205, 236))
    draw = ImageDraw.Draw(image)
    draw.ellipse([780, 40, 900, 160], fill=(252, 214, 70))
    draw.rectangle([0, 400, 960, 600], fill=(96, 164, 74))
    draw.rectangle([250, 190, 590, 214], fill=(200, 52, 42))
    for x in (262, 560):
        draw.rectangle([x, 190, x + 18, 450], fill=(200, 52, 42))
    for y in range(240, 440, 45):
        draw.rectangle([280, y, 560, y + 8], fill=(170, 40, 34))
    draw.polygon([(590, 214), (610, 214), (760, 440), (730, 450)], fill=(245, 190, 40))
    flags = [(230, 80, 60), (60, 130, 200), (250, 200, 50)]
    for i, x in enumerate(range(20, 960, 60)):
        draw.polygon([(x, 60), (x + 50, 60), (x + 25, 100)], fill=flags[i % 3])
    draw.line([(0, 60), (960, 60)], fill=(80, 80, 80), width=3)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()

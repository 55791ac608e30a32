"""The demo's wider field: the demo organisation's other projects, two more organisations, a network.

So that the organisation report, the network report and "compared with similar projects" have
something to show:

- the demo organisation runs three more projects in the same year: a community room on the same
  five instruments as the playground (the organisation report pools them), a residents' council
  on ``having_a_say`` and a community garden on ``neighbourhood``;
- a housing corporation's process team and a village supporters' foundation run projects of their
  own, each with ``cooperation`` beside a new instrument: with the demo organisation's, more than
  five projects of three organisations, each with at least ten pairs, so reference values show;
- the three form the network "Samen in de Vlinderwijk", coordinated by the demo organisation; each
  opted some projects in (not all), and the demo funder (the municipality) may read its report;
- five residents of the residents' council also took part in the housing corporation's renovation
  project, with the same self-made code: the network counts them once.

Rows go in through the services where a worker's page would use them (organisations, users,
projects, participants, answers, the story) and straight through the models for the network,
whose service is written alongside. All names are invented.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from surveyhub.measures.registry import InstrumentRegistry
from surveyhub.models import Consent, Network, NetworkMember, NetworkProject, NetworkViewer
from surveyhub.models._types import utcnow
from surveyhub.services import access, accounts, project_story, projects, responses, story_facts
from surveyhub.services import demo_activities as acts
from surveyhub.services.demo_activities import Planned
from surveyhub.services.demo_answers import answer_all, grown, profile, residents, values

SEED = 20261201


@dataclass(frozen=True)
class Org:
    name: str
    email: str
    person: str
    job_title: str
    contact: str


#: The two other organisations, each with one admin who sets up its projects.
HOUSING = Org("Woonstichting Demo", "procesmanager@woonstichting-demo.example.org", "Linda Kramer",
              "Procesmanager bewonersparticipatie",
              "Woonstichting Demo · Lindeplein 3, Utrecht · 030 765 43 21 · bewoners@woonstichting-demo.example.org")
VILLAGE = Org("Dorpsondersteuning Demo", "dorpsondersteuner@dorpsondersteuning-demo.example.org", "Jeroen Smit",
              "Dorpsondersteuner",
              "Dorpsondersteuning Demo · Kerkstraat 8, Haarveld · 030 222 33 44 · "
              "info@dorpsondersteuning-demo.example.org")


@dataclass(frozen=True)
class Plan:
    org: str  # "demo", "housing" or "village"
    name: str
    instruments: tuple[str, ...]
    description: str
    residents: int
    paired: int
    #: Days before today the pre wave was answered; the post wave 140 days later.
    started: int
    activities: tuple[Planned, ...]
    outputs: tuple[tuple[int, str], ...]
    in_network: bool


MEET, WORK, EVENT, TRAIN = "meeting", "workday", "event", "training"
PLANS = (
    Plan("demo", "Buurtkamer De Linde", ("organising", "conversation", "cooperation", "confidence", "network"),
         "Bewoners runnen samen een buurtkamer met koffie, taalles en een klusjesdienst.", 14, 12, 200,
         (Planned(5, MEET, "Startavond buurtkamer", 2.0), Planned(20, WORK, "Buurtkamer inrichten", 4.0),
          Planned(30, EVENT, "Open huis", 3.0), Planned(60, TRAIN, "Training: gastvrouw en gastheer", 2.0),
          Planned(90, MEET, "Overleg vrijwilligers", 1.5, reach=0.4), Planned(120, EVENT, "Buurtmaaltijd", 3.0)),
         ((40, "Buurtkamer drie ochtenden per week open"), (100, "Klusjesdienst met acht vrijwilligers")), False),
    Plan("demo", "Bewonersraad Vlinderwijk", ("having_a_say", "cooperation"),
         "Een vaste groep bewoners praat mee over de vernieuwing van de wijk.", 14, 12, 190,
         (Planned(10, MEET, "Eerste vergadering bewonersraad", 2.0),
          Planned(40, MEET, "Vergadering met de gemeente", 2.0),
          Planned(55, TRAIN, "Training: zo werkt de gemeente", 2.5), Planned(80, MEET, "Inspraakavond wijkplan", 2.5),
          Planned(110, MEET, "Vergadering met de woningcorporatie", 2.0)),
         ((85, "Wijkplan: drie wensen van bewoners overgenomen"),), True),
    Plan("demo", "Buurttuin De Kersenboom", ("neighbourhood", "cooperation"),
         "Buren maken en onderhouden samen een moestuin op een braakliggend veld.", 14, 12, 185,
         (Planned(8, MEET, "Plannen maken voor de tuin", 2.0), Planned(25, WORK, "Tuindag: bedden aanleggen", 4.0),
          Planned(45, WORK, "Tuindag: zaaien en planten", 3.0), Planned(75, EVENT, "Oogstfeest", 3.0),
          Planned(105, WORK, "Tuindag: winterklaar", 3.0)),
         ((50, "Twintig moestuinbakken aangelegd"), (78, "Oogstfeest met zestig buren")), True),
    Plan("housing", "Renovatie Vlinderhof: bewoners praten mee", ("having_a_say", "cooperation"),
         "Huurders denken mee over de renovatie van hun flat.", 13, 12, 210,
         (Planned(10, MEET, "Informatieavond renovatie", 2.0), Planned(35, MEET, "Klankbordgroep", 2.0, reach=0.4),
          Planned(70, MEET, "Keuze keukens en badkamers", 2.0), Planned(110, EVENT, "Open dag modelwoning", 3.0)),
         ((72, "Huurders kozen zelf de kleuren van het trappenhuis"),), True),
    Plan("housing", "Bewonerscommissie Lindeplein", ("having_a_say", "cooperation"),
         "Een nieuwe bewonerscommissie leert het overleg met de woningcorporatie voeren.", 13, 12, 230,
         (Planned(15, TRAIN, "Training: een goede vergadering", 2.0),
          Planned(45, MEET, "Overleg met de verhuurder", 2.0), Planned(100, MEET, "Jaarvergadering huurders", 2.0)),
         ((60, "Afspraken over onderhoud op papier"),), False),
    Plan("housing", "Groen binnenhof Vlinderhof", ("neighbourhood", "cooperation"),
         "Bewoners maken van hun binnenhof een groene plek om elkaar te ontmoeten.", 13, 12, 170,
         (Planned(12, MEET, "Ontwerpavond binnenhof", 2.0), Planned(50, WORK, "Plantdag", 4.0),
          Planned(95, EVENT, "Burendag op de binnenhof", 3.0)),
         ((55, "Tegels eruit, vijftig struiken erin"),), True),
    Plan("village", "Dorpshuis Haarveld", ("neighbourhood", "cooperation"),
         "Inwoners houden samen het dorpshuis open en bedenken wat er te doen is.", 13, 12, 220,
         (Planned(6, MEET, "Dorpsavond: wat willen we?", 2.0), Planned(40, WORK, "Klusdag dorpshuis", 4.0),
          Planned(80, EVENT, "Dorpsfeest", 4.0), Planned(120, MEET, "Overleg beheergroep", 1.5, reach=0.4)),
         ((85, "Dorpshuis vijf dagen per week open"),), True),
    Plan("village", "Dorpsagenda Haarveld", ("having_a_say", "cooperation"),
         "Inwoners schrijven samen de dorpsagenda en bespreken die met de gemeente.", 13, 12, 205,
         (Planned(10, MEET, "Keukentafelgesprekken", 2.0), Planned(50, MEET, "Dorpsavond dorpsagenda", 2.5),
          Planned(115, MEET, "Gesprek met de wethouder", 1.5, reach=0.4)),
         ((118, "Dorpsagenda aangeboden aan de wethouder"),), True),
)
#: First names for the residents of these projects (a project takes a different slice).
NAMES = ["Anna", "Bilal", "Carla", "Daan", "Elif", "Frank", "Gerda", "Hamza", "Iris", "Jan", "Karima", "Luuk",
         "Maria", "Noah", "Oksana", "Peter", "Rachida", "Stefan", "Tineke", "Umut", "Vera", "Willem", "Yara",
         "Zeynep", "Arjen", "Bouchra", "Cor", "Dilan", "Emma", "Fenna", "Gijs", "Hatice", "Ilse", "Jamal"]
#: Self-made codes of five residents who answered in the residents' council and in the renovation
#: project (the same person, two organisations): the network report counts each once.
SHARED_CODES = ("a|m|3|2|1|k", "s|j|9|1|0|h", "n|p|12|3|2|v", "f|e|7|4|1|d", "l|b|1|2|3|r")
SHARED_IN = ("Bewonersraad Vlinderwijk", "Renovatie Vlinderhof: bewoners praten mee")
#: What residents wrote in the new instruments' open questions (shared quotes need consent; these stay unshared).
OPEN_ANSWERS = {"say_change": ("Meer bankjes op het plein.", "Dat de gemeente vaker langskomt.",
                               "Betere verlichting in de steeg."),
                "nbh_best": ("De mensen groeten elkaar.", "Het groen en de rust.", "Dat we samen de tuin doen.")}
NETWORK = {"slug": "samen-in-de-vlinderwijk", "name": "Samen in de Vlinderwijk",
           "area": "Vlinderwijk en dorpskern Haarveld, Utrecht",
           "description": "Drie organisaties die in de Vlinderwijk en in Haarveld met bewoners werken, "
                          "naast elkaar en samen."}


def logins() -> list[tuple[str, str]]:
    """(organisation name, admin e-mail) of the other organisations, for the logins file."""
    return [(org.name, org.email) for org in (HOUSING, VILLAGE)]


def load(session: Session, registry: InstrumentRegistry, demo_org_id: int, users: dict[str, int],
         passwords: dict[str, str], playground_id: int) -> None:
    """Everything above, once (the caller runs it only when it created the demo organisation).

    ``users``: the demo organisation's user ids by role; ``playground_id``: the demo project, opted
    into the network too.
    """
    actors = {"demo": access.Actor(organisation_id=demo_org_id, role="worker", user_id=users["worker"])}
    org_ids = {"demo": demo_org_id}
    for key, org in (("housing", HOUSING), ("village", VILLAGE)):
        row = accounts.create_organisation(session, org.name)
        user = accounts.create_user(session, row.id, org.email, "admin", passwords[org.email], name=org.person)
        story_facts.set_profile(session, user.id, org.person, org.job_title)
        actors[key] = access.Actor(organisation_id=row.id, role="admin", user_id=user.id)
        story_facts.set_organisation_facts(session, actors[key], org.contact, "landscape")
        org_ids[key] = row.id
    rng = random.Random(SEED)
    opted: list[tuple[str, int]] = [("demo", playground_id)]
    for n, plan in enumerate(PLANS):
        project_id = _project(session, registry, actors[plan.org], plan, n, rng)
        if plan.in_network:
            opted.append((plan.org, project_id))
    _network(session, org_ids, actors, users, opted)


def _project(session: Session, registry: InstrumentRegistry, actor: access.Actor, plan: Plan, n: int,
             rng: random.Random) -> int:
    info = projects.create_project(session, registry, actor, plan.name, list(plan.instruments),
                                   description=plan.description)
    project = access.project(session, actor, info.slug, "project.setup")
    project.form_length = "short"
    start = utcnow() - timedelta(days=plan.started)
    project.created_at = start - timedelta(days=21)
    first = (n * 5) % len(NAMES)
    names = [NAMES[(first + i) % len(NAMES)] for i in range(plan.residents)]
    # The five residents with their own code came in on the anonymous link, and did both waves (five: the
    # network report takes people counted twice off its total only in steps of five).
    people = residents(session, project.id, names, SHARED_CODES if plan.name in SHARED_IN else ())
    waves = {w.kind: w for w in project.waves}
    session.add_all([Consent(participant_id=person.id, wave_id=waves["pre"].id, wording_version="1", language="nl",
                             share_quotes=False, given_at=start) for person in people])
    definitions = responses.project_definitions(project)
    pre, post = [], []
    for i, person in enumerate(people):
        before = profile(rng, plan.instruments)
        pre.append((person, values(definitions, before, rng)))
        if i < plan.paired or person.source == "anonymous":
            texts = {question: options[i % len(options)] for question, options in OPEN_ANSWERS.items()}
            post.append((person, values(definitions, grown(before), rng, quote=texts if i % 3 == 0 else None)))
    answer_all(session, registry, project, waves["pre"], pre, rng, start)
    answer_all(session, registry, project, waves["post"], post, rng, start + timedelta(days=140))
    waves["pre"].status, waves["pre"].closed_at = "closed", start + timedelta(days=30)
    waves["post"].status, waves["post"].opened_at = "closed", start + timedelta(days=130)
    waves["post"].closed_at = start + timedelta(days=160)
    _story(session, actor, info.slug, plan, start.date())
    acts.record(session, project.id, actor.user_id, start.date(), plan.activities,
                acts.tendencies(session, project.id, rng), rng)
    return project.id


def _story(session: Session, actor: access.Actor, slug: str, plan: Plan, start) -> None:
    meetings = sum(planned.kind == MEET for planned in plan.activities)
    project_story.update_story(session, actor, slug, funder_name="Gemeente Utrecht – Initiatievenfonds",
                               period_start=start - timedelta(days=14), period_end=start + timedelta(days=150),
                               meetings_held=meetings)
    for day, line in plan.outputs:
        project_story.add_output(session, actor, slug, start + timedelta(days=day), line)


def _network(session: Session, org_ids: dict[str, int], actors: dict[str, access.Actor], users: dict[str, int],
             opted: list[tuple[str, int]]) -> None:
    """The neighbourhood network: the demo organisation coordinates, the municipality's funder reads."""
    network = Network(slug=NETWORK["slug"], name=NETWORK["name"], area=NETWORK["area"],
                      description=NETWORK["description"], join_code_hash=None, created_by_id=users["admin"])
    network.members = [NetworkMember(organisation_id=org_ids[key], role="coordinator" if key == "demo" else "member")
                       for key in ("demo", "housing", "village")]
    session.add(network)
    session.flush()
    session.add_all([NetworkProject(network_id=network.id, project_id=project_id,
                                    added_by_id=users["admin"] if key == "demo" else actors[key].user_id)
                     for key, project_id in opted])
    session.add(NetworkViewer(network_id=network.id, user_id=users["funder"], added_by_id=users["admin"]))
    session.flush()

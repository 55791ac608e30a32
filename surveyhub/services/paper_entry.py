"""Paper entry: a worker types in a resident's paper questionnaire, without harming what is stored.

Opening the screens stores nothing. A response is written only when the first
page of answers is saved: a new one, or — after the worker confirmed — one that
already held answers (given online, or an earlier paper entry); those answers
and their scores are then replaced. Either start is in the audit trail
(``response.paper_entry`` or ``response.paper_replace``) and marks the response
as paper, entered by that worker.

The grid (``web.paper.grid``) stores a whole form at once (:func:`save_form`) and
takes its claim when it is opened with nothing to replace (:func:`opening`), so a
double submit stores the form once.

The worker's browser session holds a :class:`Claim`: what it may do to one
resident's response to one wave. A claim to replace holds only while nobody
saved in between; a claim to go on entering holds only while the response is
still this worker's paper entry (a resident who saves through their own link
takes it back).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session

from surveyhub.models import Participant, Project, Response, Wave
from surveyhub.services import audit, resident, responses
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Conflict

REPLACE, ENTERING = "replace", "entering"


@dataclass(frozen=True)
class Claim:
    """What one worker's browser session may do to one resident's response to one wave."""

    participant_id: int
    wave_id: int
    #: "replace": a confirmed replacement not yet begun; "entering": this session's own entry.
    mode: str
    #: When confirming: the response's last change, so a save in between voids the confirmation.
    version: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data, participant: Participant, wave: Wave) -> Claim | None:
        """The stored claim if it is about this participant and wave (anything else: none)."""
        try:
            claim = cls(**data)
        except TypeError:
            return None
        if (claim.participant_id, claim.wave_id) != (participant.id, wave.id):
            return None
        return claim


def has_answers(response: Response | None) -> bool:
    return response is not None and any(a.value_num is not None or a.value_text is not None
                                        for a in response.answers)


def version(response: Response | None) -> str | None:
    return response.updated_at.isoformat() if response is not None and response.updated_at else None


def _own(response: Response, user_id: int | None) -> bool:
    return response.channel == "paper" and response.entered_by_id == user_id


def needs_confirmation(response: Response | None, user_id: int | None, claim: Claim | None) -> bool:
    """Would saving paper answers now change answers the worker has not agreed to replace?"""
    if response is None or not has_answers(response):
        return False
    if claim is None:
        return True
    if claim.mode == ENTERING:
        return not _own(response, user_id)
    return claim.version != version(response) and not _own(response, user_id)


def shown(response: Response | None, claim: Claim | None) -> Response | None:
    """The response whose answers the paper pages show: none while a confirmed replacement has not begun."""
    if response is not None and claim is not None and claim.mode == REPLACE and claim.version == version(response):
        return None
    return response


def opening(participant: Participant, wave: Wave, response: Response | None, user_id: int | None,
            claim: Claim | None) -> Claim | None:
    """The claim to keep when the grid is opened with nothing to replace; None when there is nothing to keep.

    Holding it from the start makes a double submit of the grid safe: the second
    request, sent with the cookie from before the first came back, finds the first
    one's answers as this worker's own entry, not as answers to confirm replacing.
    A save in between by anyone else still voids it (``needs_confirmation``).
    """
    if claim is not None or needs_confirmation(response, user_id, None):
        return None
    return Claim(participant.id, wave.id, REPLACE, version(response))


def confirm(participant: Participant, wave: Wave, response: Response | None) -> Claim:
    """The worker agreed to replace what is stored now (nothing changes yet)."""
    return Claim(participant.id, wave.id, REPLACE, version(response))


def begin(session: Session, actor: Actor, project: Project, participant: Participant, wave: Wave,
          claim: Claim | None, language: str) -> tuple[Response, Claim]:
    """The response to save a page of paper answers into, and the claim to keep.

    The first page of an entry starts it (audited); later pages of the same
    entry go on in the same response.

    :raises Conflict: the resident's stored answers would change without a confirmation.
    """
    response = resident.response_for(session, participant, wave)
    if needs_confirmation(response, actor.user_id, claim):
        raise Conflict(N_("confirm replacing the stored answers first"))
    going_on = ENTERING if claim is None else claim.mode
    if response is not None and claim is not None and _own(response, actor.user_id) and \
            (going_on == ENTERING or claim.version != version(response)):
        # This session's entry (or a double click on its first page): no new start.
        return response, Claim(participant.id, wave.id, ENTERING)
    replacing = has_answers(response)
    if replacing and response is not None:
        _clear(session, response)
    if response is None:
        response = responses.get_or_start(session, participant, wave, language=language,
                                          entered_by_id=actor.user_id, channel="paper")
    response.channel, response.entered_by_id = "paper", actor.user_id
    audit.record(session, "response.paper_replace" if replacing else "response.paper_entry", actor=actor,
                 target=f"project:{project.slug}/{participant.code}", project_id=project.id,
                 details={"wave": wave.kind})
    session.flush()
    return response, Claim(participant.id, wave.id, ENTERING)


def _clear(session: Session, response: Response) -> None:
    """Remove the answers and scores being replaced; the paper pages start again from the first."""
    response.answers.clear()
    response.scores.clear()
    response.status, response.completed_at, response.current_page = "started", None, 0
    session.flush()  # the deletes go first: the new answers reuse the same (item) keys


def take_back(response: Response) -> None:
    """A resident saved answers through their own link: the response is theirs (web) again."""
    if response.channel != "web" or response.entered_by_id is not None:
        response.channel, response.entered_by_id = "web", None


def save_form(session: Session, actor: Actor, project: Project, participant: Participant, wave: Wave,
              claim: Claim | None, language: str, values: dict, *, n_pages: int, methods: dict, on_error,
              on_completed=None, entered_by: str | None = None, on_post_completed=None) -> Claim:
    """Store a whole paper form (the grid) and complete the response; returns the claim to keep.

    ``on_post_completed``: see ``responses.complete`` (the Open Badges a post wave earned).

    A blank cell clears an answer typed earlier: the grid is the whole form. Saving
    the same form twice stores the same answers once (``responses.save_answers``
    upserts) and completes once.

    :raises Conflict: the resident's stored answers would change without a confirmation.
    """
    response, kept = begin(session, actor, project, participant, wave, claim, language)
    responses.record_answers(session, project, response, values, methods, on_error)
    response.current_page = max(response.current_page or 0, n_pages)
    responses.complete(session, project, response, methods, on_error, on_completed=on_completed, wave=wave,
                       entered_by=entered_by, on_post_completed=on_post_completed)
    return kept

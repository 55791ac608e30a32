"""The SurveyHub data model (SQLAlchemy 2 typed models).

Organisation → Project → Wave; Project → Activity → ActivityParticipant;
Network → members, opted-in projects, viewers; Project → questionnaire entries (pinned
instrument versions); Participant → Response (one per wave) → Answer and
ScaleScore; issued Documents; Consent records; Audit events.
"""

from surveyhub.models.accounts import (AuditEvent, Organisation, PasswordReset, PluginProblem, RateCounter, User,
                                      ROLES)
from surveyhub.models.projects import (
    InstrumentVersion,
    Project,
    ProjectInstrument,
    PairDecision,
    ProjectOutput,
    ProjectQuestion,
    ProjectShare,
    Wave,
    WAVE_KINDS,
)
from surveyhub.models.responses import (
    Answer,
    Consent,
    Participant,
    Response,
    ScaleScore,
    Token,
)
from surveyhub.models.documents import Document
from surveyhub.models.jobs import Job, JobFile, JobItem, OutboxMessage
from surveyhub.models.activities import ACTIVITY_KINDS, ACTIVITY_ROLES, LEADING_ROLES, Activity, ActivityParticipant
from surveyhub.models.networks import Network, NetworkMember, NetworkProject, NetworkViewer
from surveyhub.models.integrations import (API_SCOPES, API_TOKEN_ROLES, WEBHOOK_EVENTS, ApiIdempotencyKey, ApiToken,
                                           WebhookDelivery, WebhookEndpoint)
from surveyhub.models.badges import BADGE_KINDS, BADGE_RULES, BadgeCredential, SigningKey

__all__ = [
    "API_SCOPES", "API_TOKEN_ROLES", "WEBHOOK_EVENTS", "ApiIdempotencyKey", "ApiToken", "WebhookDelivery",
    "WebhookEndpoint",
    "BADGE_KINDS", "BADGE_RULES", "BadgeCredential", "SigningKey",
    "ACTIVITY_KINDS", "ACTIVITY_ROLES", "Activity", "ActivityParticipant", "LEADING_ROLES",
    "Network", "NetworkMember", "NetworkProject", "NetworkViewer",
    "Answer", "AuditEvent", "Consent", "Document", "InstrumentVersion", "Job", "JobFile", "JobItem",
    "Organisation", "OutboxMessage",
    "Participant", "PasswordReset", "PluginProblem", "Project", "ProjectInstrument", "ProjectQuestion",
    "PairDecision", "ProjectOutput", "ProjectShare", "RateCounter", "Response", "ROLES", "ScaleScore", "Token",
    "User", "Wave",
    "WAVE_KINDS",
]

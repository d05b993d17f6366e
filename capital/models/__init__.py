"""All models, imported here so Alembic and the app see every table."""

from capital.models.assessment import Assessment, AssessmentScore, Criterion
from capital.models.audit import AuditEntry, WorkerHeartbeat
from capital.models.cities import City, DeclarationSignature
from capital.models.cycles import TALLY_METHODS, Cycle, VotingRound
from capital.models.factors import Passkey, RecoveryCode, TotpFactor
from capital.models.imports import ImportJob
from capital.models.mail import Mail, Mailing, MailingPart, MailState
from capital.models.reports import JuryReport, JuryReportText
from capital.models.nominations import (
    Attachment, EligibilityDecision, Endorsement, Nomination, NominationRevision,
    NominationText,
)
from capital.models.subscribers import Subscriber
from capital.models.users import BoardTerm, Invitation, RoleGrant, User
from capital.models.voting import Ballot, Designation, Participation, Recusal, Result

__all__ = [
    "TALLY_METHODS", "Assessment", "AssessmentScore", "Attachment", "AuditEntry", "Ballot", "BoardTerm", "City",
    "Criterion", "Cycle", "DeclarationSignature", "Designation", "EligibilityDecision", "Endorsement", "ImportJob",
    "Invitation", "JuryReport", "JuryReportText", "Mail", "Mailing",
    "MailingPart", "MailState",
    "Nomination", "NominationRevision", "NominationText", "Participation", "Passkey", "RecoveryCode", "Recusal", "Result", "RoleGrant",
    "Subscriber", "TotpFactor", "User", "VotingRound", "WorkerHeartbeat",
]

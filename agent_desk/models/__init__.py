"""All tables; import from here so Alembic and services see one metadata."""
from .audit import AuditEntry
from .base import Base, utcnow
from .case import CASE_STATUS_LABELS, RATING_LABELS, Case, CaseCounter, CaseStatus, Rating
from .conversation import DELIVERY_OPEN, Conversation, ConversationStatus, Message
from .people import Citizen, Role, User

__all__ = [
    "AuditEntry", "Base", "utcnow", "CASE_STATUS_LABELS", "RATING_LABELS", "Case", "CaseCounter",
    "CaseStatus", "Rating", "DELIVERY_OPEN", "Conversation", "ConversationStatus", "Message", "Citizen", "Role", "User",
]

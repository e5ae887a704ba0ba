"""meeting-qa: cited answers from meeting records."""

from meeting_qa.config import Settings
from meeting_qa.errors import MeetingQAError
from meeting_qa.qa import ask, delete, ingest, list_meetings, search
from meeting_qa.types import Answer, Citation, IngestReport, Passage

__all__ = [
    "Answer",
    "Citation",
    "IngestReport",
    "MeetingQAError",
    "Passage",
    "Settings",
    "ask",
    "delete",
    "ingest",
    "list_meetings",
    "search",
]
__version__ = "0.1.0"

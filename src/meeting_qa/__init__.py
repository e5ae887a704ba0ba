"""meeting-qa: cited answers from meeting records."""

from meeting_qa.chain import as_retriever, as_runnable
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
    "as_retriever",
    "as_runnable",
    "ask",
    "delete",
    "ingest",
    "list_meetings",
    "search",
]
__version__ = "0.1.0"

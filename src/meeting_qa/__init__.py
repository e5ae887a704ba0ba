"""meeting-qa: cited answers from meeting records."""

from meeting_qa.chain import as_chat_runnable, as_retriever, as_runnable
from meeting_qa.config import Settings
from meeting_qa.conversation import Conversation
from meeting_qa.errors import MeetingQAError
from meeting_qa.qa import (
    ask,
    delete,
    ingest,
    items,
    list_meetings,
    mentions,
    next_meeting,
    previous_meeting,
    search,
    series_of,
)
from meeting_qa.types import Answer, Citation, IngestReport, Item, Passage

__all__ = [
    "Answer",
    "Citation",
    "Conversation",
    "IngestReport",
    "Item",
    "MeetingQAError",
    "Passage",
    "Settings",
    "as_chat_runnable",
    "as_retriever",
    "as_runnable",
    "ask",
    "delete",
    "ingest",
    "items",
    "list_meetings",
    "mentions",
    "next_meeting",
    "previous_meeting",
    "search",
    "series_of",
]
__version__ = "0.1.0"

"""Meeting items (decisions, tasks, commitments, approvals) with exact evidence, and meeting series."""

from meeting_qa.minutes.index import KINDS, ItemIndex, meeting_items

__all__ = ["KINDS", "ItemIndex", "meeting_items"]

"""The paragraph as item extraction sees it, and the one place an `Item` is made from it."""

from __future__ import annotations

from dataclasses import dataclass

from meeting_qa.types import Item


@dataclass(frozen=True)
class ParagraphIn:
    """What extraction needs of a paragraph (kept free of store types so tests can build it directly)."""

    meeting_id: str
    number: int
    text: str
    date: str | None = None
    title: str = ""
    speaker: str | None = None
    timestamp: str | None = None

    def item(
        self,
        kind: str,
        start: int,
        end: int,
        *,
        subject: str = "",
        owner: str | None = None,
        due: str | None = None,
        figures: tuple[str, ...] = (),
    ) -> Item:
        """An item whose evidence is `text[start:end]` of this paragraph."""
        return Item(
            meeting_id=self.meeting_id,
            paragraph=self.number,
            kind=kind,
            quote=self.text[start:end],
            start=start,
            end=end,
            subject=subject,
            owner=owner,
            due=due,
            figures=figures,
            date=self.date,
            title=self.title,
            speaker=self.speaker,
            timestamp=self.timestamp,
        )

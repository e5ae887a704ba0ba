"""One exception hierarchy; each error names the bad file or value so the edges can say what went wrong."""

from __future__ import annotations


class MeetingQAError(Exception):
    """Base of every error meeting-qa raises on purpose."""

    def __init__(self, message: str, *, path: str | None = None, value: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.value = value

    def __str__(self) -> str:
        return self.message


class InputError(MeetingQAError):
    """Bad input from the user: an unreadable file, an empty question, an unknown meeting."""


class LoaderError(InputError):
    """A document could not be parsed into a meeting."""


class ConfigError(MeetingQAError):
    """A setting has a value we cannot use."""


class ModelError(MeetingQAError):
    """An embedding, reranker or chat model could not be prepared or loaded."""


class StoreError(MeetingQAError):
    """The vector store is unreachable or was built in a way we cannot use."""


class ModelMismatchError(StoreError):
    """The store was built with a different embedding model than the one configured."""


class LLMError(MeetingQAError):
    """The chat model backend failed or is misconfigured."""

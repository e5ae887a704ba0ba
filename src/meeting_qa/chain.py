"""meeting-qa inside LangChain chains: a retriever and a cited-answer Runnable.

Both are thin views of the `Engine` that `search()` and `ask()` use, so a chain gets exactly the
passages and answers the Python API, the CLI and the web page give: `as_retriever()` calls
`Engine.search`, `as_runnable()` calls `Engine.ask_stream`. Neither builds anything until first used;
LangChain `Document`s exist only here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator, Mapping, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForChainRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, RunnableLambda, RunnableSerializable, run_in_executor
from pydantic import ConfigDict

from meeting_qa.config import Settings
from meeting_qa.conversation import Conversation
from meeting_qa.errors import InputError
from meeting_qa.qa import Engine, engine_for
from meeting_qa.types import Answer, Passage

QuestionInput = str | Mapping[str, Any]


def passage_document(passage: Passage) -> Document:
    """A retrieved paragraph as a LangChain `Document` (the Passage fields become its metadata)."""
    return Document(
        page_content=passage.text,
        metadata={
            "meeting_id": passage.meeting_id,
            "paragraph": passage.paragraph,
            "score": passage.score,
            "title": passage.title,
            "date": passage.date,
            "speaker": passage.speaker,
            "timestamp": passage.timestamp,
        },
    )


def _resolve(engine: Engine | None, settings: Settings | None) -> Engine:
    """The engine given, or the shared one for the settings: resolved on first use, so building a
    retriever or runnable loads nothing and reads the environment only when it runs."""
    return engine if engine is not None else engine_for(settings)


class HybridRetriever(BaseRetriever):
    """The paragraphs `search()` returns, as Documents; `k` and `meeting_ids` may be overridden per call
    (`retriever.invoke(question, k=3, meeting_ids=[...])`)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: Engine | None = None
    settings: Settings | None = None
    k: int = 5
    meeting_ids: list[str] | None = None

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        meeting_ids: Sequence[str] | None = None,
    ) -> list[Document]:
        passages = _resolve(self.engine, self.settings).search(
            query, k=self.k if k is None else k, meeting_ids=self.meeting_ids if meeting_ids is None else meeting_ids
        )
        return [passage_document(p) for p in passages]


class CitedAnswerRunnable(RunnableSerializable[QuestionInput, Answer | str]):
    """Question in, verified `Answer` out: `invoke` returns the `Answer`; `stream` yields the answer's
    text chunks as they are written (an LLM's draft, or the extractive answer's text in one piece) and
    then the verified `Answer`, always last. Input: a question string, or
    `{"question": ..., "meeting_ids": [...], "chat_history": [...]}` (both optional; with a history the
    question is answered as a follow-up of it, see `conversation_of`)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: Engine | None = None
    settings: Settings | None = None

    def invoke(self, input: QuestionInput, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        answer = self._call_with_config(self._ask, input, config, **kwargs)
        assert isinstance(answer, Answer)  # the Runnable's output type also covers the streamed text chunks
        return answer

    def stream(
        self, input: QuestionInput, config: RunnableConfig | None = None, **kwargs: Any | None
    ) -> Generator[Answer | str, None, None]:
        yield from self._transform_stream_with_config(iter([input]), self._ask_stream, config, **kwargs)

    async def astream(
        self, input: QuestionInput, config: RunnableConfig | None = None, **kwargs: Any | None
    ) -> AsyncIterator[Answer | str]:
        """`stream`, event by event on a worker thread (the engine is synchronous), so an async chain
        also sees the text before the Answer."""
        events = self.stream(input, config, **kwargs)
        try:
            while (event := await run_in_executor(config, next, events, None)) is not None:
                yield event
        finally:
            events.close()

    def _ask(self, input: QuestionInput, run_manager: CallbackManagerForChainRun) -> Answer:
        # `Engine.ask` is the last event of `Engine.ask_stream`: one path with `stream` and `ask()`.
        question, meeting_ids = question_input(input)
        engine = _resolve(self.engine, self.settings)
        if (history := chat_history(input)) is not None:
            return conversation_of(history, engine).ask(question, engine, meeting_ids=meeting_ids)
        return engine.ask(question, meeting_ids=meeting_ids)

    def _ask_stream(
        self, inputs: Iterator[QuestionInput], run_manager: CallbackManagerForChainRun
    ) -> Iterator[Answer | str]:
        for input in inputs:
            question, meeting_ids = question_input(input)
            engine = _resolve(self.engine, self.settings)
            if (history := chat_history(input)) is not None:
                yield from conversation_of(history, engine).ask_stream(question, engine, meeting_ids=meeting_ids)
            else:
                yield from engine.ask_stream(question, meeting_ids=meeting_ids)


def question_input(input: QuestionInput) -> tuple[str, Sequence[str] | None]:
    """(question, meeting_ids) of a runnable's input; anything else is refused naming what was given."""
    if isinstance(input, str):
        return input, None
    if isinstance(input, Mapping):
        unknown = sorted(set(input) - {"question", "meeting_ids", "chat_history"})
        if "question" not in input or unknown:
            raise InputError(
                'the input must be a question or {"question": ..., "meeting_ids": [...], "chat_history": [...]}; '
                f"got the keys {sorted(input)}",
                value=repr(sorted(input)),
            )
        return input["question"], input.get("meeting_ids")
    raise InputError(
        f"the input must be a question string or a dict with a 'question'; got {type(input).__name__}",
        value=repr(input)[:80],
    )


def chat_history(input: QuestionInput) -> Sequence[Any] | None:
    """The `chat_history` of a runnable's input (LangChain messages, or (role, text) pairs), if it has one."""
    if not isinstance(input, Mapping) or input.get("chat_history") is None:
        return None
    history = input["chat_history"]
    if isinstance(history, str) or not isinstance(history, Sequence):
        raise InputError("chat_history must be a list of messages", value=repr(history)[:80])
    return history


def conversation_of(history: Sequence[Any], engine: Engine) -> Conversation:
    """The conversation a message history holds: the state the last answer of this runnable left in its
    message (`additional_kwargs["meeting_qa"]`), or else the user's earlier questions replayed (resolved again,
    not answered again: which meetings and topics they named)."""
    for message in reversed(history):
        state = getattr(message, "additional_kwargs", {}).get(STATE_KEY) if isinstance(message, BaseMessage) else None
        if isinstance(state, Mapping) and isinstance(state.get("conversation"), Mapping):
            return Conversation.from_dict(dict(state["conversation"]))
    questions = [text for role, text in map(_role_text, history) if role in ("human", "user") and text]
    return Conversation.replay(questions, engine)


def _role_text(message: Any) -> tuple[str, str]:
    if isinstance(message, BaseMessage):
        return message.type, message.text if isinstance(message.text, str) else str(message.content)
    if isinstance(message, tuple | list) and len(message) == 2:
        return str(message[0]), str(message[1])
    if isinstance(message, Mapping):
        return str(message.get("role", "")), str(message.get("content", ""))
    raise InputError(f"chat_history holds a {type(message).__name__}, not a message", value=repr(message)[:80])


STATE_KEY = "meeting_qa"


def answer_message(answer: Answer, conversation: Conversation) -> AIMessage:
    """An answer as the AIMessage a chat history keeps: the text (with its carry-over note), and in
    `additional_kwargs["meeting_qa"]` the citations and the conversation's state for the next turn."""
    citations = [
        {"meeting_id": c.meeting_id, "paragraph": c.paragraph, "quote": c.quote, "start": c.start, "end": c.end}
        for c in answer.citations
    ]
    state = {"abstained": answer.abstained, "citations": citations, "conversation": conversation.to_dict()}
    return AIMessage(content=answer.text, additional_kwargs={STATE_KEY: state})


def as_chat_runnable(
    *, settings: Settings | None = None, engine: Engine | None = None
) -> RunnableLambda[Mapping[str, Any], AIMessage]:
    """`{"question": …, "chat_history": [...]}` in, an `AIMessage` out: the cited answer as a turn of the
    conversation the history holds. Fits `RunnableWithMessageHistory(as_chat_runnable(), get_history,
    input_messages_key="question", history_messages_key="chat_history")`."""

    def answer(input: Mapping[str, Any]) -> AIMessage:
        question, meeting_ids = question_input(input)
        eng = _resolve(engine, settings)
        conversation = conversation_of(chat_history(input) or [], eng)
        reply = conversation.ask(question, eng, meeting_ids=meeting_ids)
        return answer_message(reply, conversation)

    return RunnableLambda(answer, name="meeting_qa_chat")


def as_retriever(
    *,
    k: int = 5,
    meeting_ids: Sequence[str] | None = None,
    settings: Settings | None = None,
    engine: Engine | None = None,
) -> HybridRetriever:
    """A LangChain retriever over the ingested meetings: the same hybrid search as `search()`.

    Documents carry `meeting_id`, `paragraph`, `score`, `title`, `date`, `speaker` and `timestamp` as
    metadata. `engine` wires in your own collaborators (else the shared engine for `settings`)."""
    if k < 1:
        raise InputError(f"k must be at least 1 (got {k})", value=str(k))
    ids = [meeting_ids] if isinstance(meeting_ids, str) else list(meeting_ids) if meeting_ids is not None else None
    return HybridRetriever(engine=engine, settings=settings, k=k, meeting_ids=ids)


def as_runnable(*, settings: Settings | None = None, engine: Engine | None = None) -> CitedAnswerRunnable:
    """An LCEL Runnable answering with verified citations: the same path as `ask()`.

    `invoke("…")` or `invoke({"question": "…", "meeting_ids": [...]})` returns the `Answer`; `stream`
    yields text chunks, then the `Answer`."""
    return CitedAnswerRunnable(engine=engine, settings=settings)

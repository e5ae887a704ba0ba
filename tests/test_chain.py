"""meeting-qa inside LangChain chains: the public retriever, the cited-answer Runnable, the README example."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

import meeting_qa
from meeting_qa import Answer, as_retriever, as_runnable
from meeting_qa.errors import InputError
from meeting_qa.qa import Engine
from tests.conftest import REAL_CACHE, ROOT, SAMPLE_ID

METADATA = {"meeting_id", "paragraph", "score", "title", "date", "speaker", "timestamp"}


def test_the_package_root_exports_the_retriever_and_the_runnable() -> None:
    assert {"as_retriever", "as_runnable"} <= set(meeting_qa.__all__)


def test_the_retriever_in_an_lcel_chain_feeds_a_chat_model_documents_with_their_citation_metadata(
    sample_engine: Engine,
) -> None:
    retriever = as_retriever(k=3, engine=sample_engine)
    seen: dict[str, list[Document]] = {}

    def context(docs: list[Document]) -> str:
        seen["docs"] = docs
        return "\n".join(f"[{d.metadata['meeting_id']} ¶{d.metadata['paragraph']}] {d.page_content}" for d in docs)

    prompts: list[list[BaseMessage]] = []
    prompt = ChatPromptTemplate.from_messages([("human", "Sources:\n{context}\n\nQuestion: {question}")])
    chain = (
        {"context": retriever | context, "question": RunnablePassthrough()}
        | prompt
        | RunnableLambda(lambda p: prompts.append(p.to_messages()) or p)
        | FakeListChatModel(responses=["市委书记徐缨主持会议。"])
        | StrOutputParser()
    )
    assert chain.invoke("谁主持了会议？") == "市委书记徐缨主持会议。"

    docs = seen["docs"]
    assert len(docs) == 3
    first = docs[0]
    assert set(first.metadata) == METADATA
    assert first.metadata["meeting_id"] == SAMPLE_ID and first.metadata["paragraph"] == 1
    assert first.metadata["date"] == "2022-05-06" and first.metadata["title"]
    assert first.page_content.startswith("5月6日")  # the original script, as search() returns it
    assert [d.metadata["score"] for d in docs] == sorted((d.metadata["score"] for d in docs), reverse=True)
    # The chat model was given the retrieved paragraph, cited by meeting and paragraph.
    assert f"[{SAMPLE_ID} ¶1] 5月6日" in prompts[0][0].content


def test_the_retriever_returns_what_search_returns(sample_engine: Engine) -> None:
    docs = as_retriever(k=4, engine=sample_engine).invoke("会议通过了什么方案？")
    passages = sample_engine.search("会议通过了什么方案？", k=4)
    assert [(d.metadata["meeting_id"], d.metadata["paragraph"], d.metadata["score"]) for d in docs] == [
        (p.meeting_id, p.paragraph, p.score) for p in passages
    ]
    assert [d.page_content for d in docs] == [p.text for p in passages]


def test_transcript_documents_carry_speaker_and_timestamp(sample_engine: Engine, tmp_path: Path) -> None:
    f = tmp_path / "standup.txt"
    f.write_text("[00:00:05] 张三：大家好，开始开会。\n[00:01:10] 李四: 我先汇报物流园的进度。\n", encoding="utf-8")
    assert sample_engine.ingest([f]).ok
    docs = as_retriever(k=1, meeting_ids=["standup"], engine=sample_engine).invoke("物流园进度")
    assert docs[0].metadata | {"score": None} == {
        "meeting_id": "standup",
        "paragraph": 2,
        "score": None,
        "title": "Standup",
        "date": None,
        "speaker": "李四",
        "timestamp": "00:01:10",
    }


def test_the_retriever_filters_by_meeting_and_takes_k_per_call(sample_engine: Engine) -> None:
    retriever = as_retriever(meeting_ids=["no-such-meeting"], engine=sample_engine)
    # An unknown meeting id is a typo to point out, not a meeting that says nothing.
    with pytest.raises(InputError, match="unknown meeting id 'no-such-meeting'"):
        retriever.invoke("徐缨")
    assert len(retriever.invoke("徐缨", k=2, meeting_ids=[SAMPLE_ID])) == 2


def test_a_retriever_with_k_below_one_is_refused() -> None:
    with pytest.raises(InputError, match="k must be at least 1"):
        as_retriever(k=0)


def test_the_runnable_takes_a_dict_with_meeting_ids(sample_engine: Engine) -> None:
    runnable = as_runnable(engine=sample_engine)
    answer = runnable.invoke({"question": "谁主持了会议？", "meeting_ids": [SAMPLE_ID]})
    assert isinstance(answer, Answer) and not answer.abstained
    assert answer.citations[0].paragraph == 1 and "徐纓" in answer.citations[0].quote
    assert answer == sample_engine.ask("谁主持了会议？", meeting_ids=[SAMPLE_ID])
    with pytest.raises(InputError, match="unknown meeting id"):
        runnable.invoke({"question": "谁主持了会议？", "meeting_ids": ["no-such-meeting"]})


@pytest.mark.parametrize("bad", [{"q": "谁主持了会议？"}, {"question": "谁？", "k": 3}, 42])
def test_the_runnable_refuses_input_it_does_not_understand_and_says_what_it_got(
    sample_engine: Engine, bad: object
) -> None:
    with pytest.raises(InputError, match="input must be"):
        as_runnable(engine=sample_engine).invoke(bad)  # type: ignore[arg-type]


def test_streaming_yields_the_llm_draft_chunks_then_the_verified_answer(sample_engine: Engine) -> None:
    n1 = 1 + [p.paragraph for p in sample_engine.search("谁主持了会议？", k=5)].index(1)
    draft = f"会议由市委书记徐缨主持[{n1}]。"
    sample_engine.chat_model = FakeListChatModel(responses=[draft])
    events = list(as_runnable(engine=sample_engine).stream("谁主持了会议？"))
    chunks, answer = events[:-1], events[-1]
    assert len(chunks) > 1 and all(isinstance(c, str) for c in chunks)
    assert "".join(chunks) == draft  # FakeListChatModel streams the draft a character at a time
    assert isinstance(answer, Answer) and answer.backend != "extractive"
    assert answer.citations[0].paragraph == 1 and answer.text.startswith("会议由市委书记徐缨主持")


def test_async_streaming_also_yields_the_draft_before_the_answer(sample_engine: Engine) -> None:
    import asyncio

    sample_engine.chat_model = FakeListChatModel(responses=["会议由市委书记徐缨主持[1]。"])

    async def collect() -> list[str | Answer]:
        return [event async for event in as_runnable(engine=sample_engine).astream("谁主持了会议？")]

    events = asyncio.run(collect())
    assert len(events) > 2 and all(isinstance(e, str) for e in events[:-1])
    assert isinstance(events[-1], Answer)
    assert asyncio.run(as_runnable(engine=sample_engine).ainvoke("谁主持了会议？")) == sample_engine.ask(
        "谁主持了会议？"
    )


def test_the_runnable_is_one_step_of_a_larger_chain(sample_engine: Engine) -> None:
    chain = as_runnable(engine=sample_engine) | RunnableLambda(lambda a: [c.paragraph for c in a.citations])
    assert chain.invoke("谁主持了会议？")[0] == 1
    # Streamed through the chain, the next step still receives the final Answer, not the draft text.
    assert list(chain.stream("谁主持了会议？"))[-1][0] == 1


# -- with the real default model ---------------------------------------------------------------------


@pytest.fixture
def real_env(real_store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """MEETING_QA_* pointing at a copy of the sample store built by the real model; the engine cache is
    left as found."""
    import shutil

    from meeting_qa import qa

    store = tmp_path / "store"
    shutil.copytree(real_store_dir, store)
    monkeypatch.setenv("MEETING_QA_STORE", str(store))
    monkeypatch.setenv("MEETING_QA_CACHE", str(REAL_CACHE))
    monkeypatch.setattr(qa, "_engines", {})
    return store


@pytest.mark.e2e
def test_the_default_runnable_answers_who_chaired_citing_paragraph_one(real_env: Path) -> None:
    answer = as_runnable().invoke("谁主持了会议？")
    assert isinstance(answer, Answer) and not answer.abstained
    assert answer.citations[0].meeting_id == SAMPLE_ID and answer.citations[0].paragraph == 1
    assert "徐纓" in answer.citations[0].quote and "[1]" in answer.text


def readme_blocks() -> list[str]:
    """The Python code blocks of the README's "Use from LangChain" section, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Use from LangChain", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


@pytest.mark.e2e
def test_the_readme_langchain_example_runs_with_a_scripted_chat_model(
    real_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    choose_model, example, conversation = readme_blocks()
    assert "llm =" in choose_model  # the block that picks a real chat model, replaced here by a scripted one
    monkeypatch.chdir(ROOT)
    scripted = FakeListChatModel(responses=["The meeting was chaired by Xu Ying [1]."])
    namespace: dict[str, object] = {"llm": scripted, "print": lambda *a, **k: None}
    exec(compile(example, "README.md", "exec"), namespace)
    assert namespace["reply"] == "The meeting was chaired by Xu Ying [1]."
    answer = namespace["answer"]
    assert isinstance(answer, Answer) and answer.citations[0].paragraph == 1
    assert namespace["cited"][0] == f"{SAMPLE_ID} ¶1"
    # The conversation example: two turns through RunnableWithMessageHistory (this store holds the sample).
    exec(compile(conversation, "README.md", "exec"), namespace)
    turns = namespace["sessions"]["amy"].messages  # type: ignore[index]
    assert [m.type for m in turns] == ["human", "ai", "human", "ai"]
    assert "meeting_qa" in turns[-1].additional_kwargs


# -- conversations: chat_history and RunnableWithMessageHistory ------------------------------------


def test_a_runnable_with_message_history_answers_a_follow_up_within_the_meeting_in_focus(
    records_engine: Engine,
) -> None:
    from langchain_core.chat_history import InMemoryChatMessageHistory
    from langchain_core.runnables.history import RunnableWithMessageHistory

    from meeting_qa import as_chat_runnable
    from tests.test_conversation import APRIL

    histories: dict[str, InMemoryChatMessageHistory] = {}

    def history(session_id: str) -> InMemoryChatMessageHistory:
        return histories.setdefault(session_id, InMemoryChatMessageHistory())

    chain = RunnableWithMessageHistory(
        as_chat_runnable(engine=records_engine),
        history,
        input_messages_key="question",
        history_messages_key="chat_history",
    )
    config: Any = {"configurable": {"session_id": "s1"}}
    chain.invoke({"question": "禾溪县4月的常务会议对老旧小区改造有什么调整？"}, config=config)
    reply = chain.invoke({"question": "那总投资多少？"}, config=config)
    assert reply.content.startswith("（接上题：") and "4.1亿元" in reply.content
    state = reply.additional_kwargs["meeting_qa"]
    assert state["conversation"]["focus"]["meeting_ids"] == [APRIL]
    assert state["citations"][0]["meeting_id"] == APRIL
    assert [m.type for m in histories["s1"].messages] == ["human", "ai", "human", "ai"]
    # Another session is another conversation: the same follow-up there has nothing to lean on.
    other = chain.invoke({"question": "那总投资多少？"}, config={"configurable": {"session_id": "s2"}})
    assert not other.content.startswith("（接上题")


def test_the_cited_answer_runnable_takes_a_plain_chat_history_and_replays_its_questions(
    records_engine: Engine,
) -> None:
    from tests.test_conversation import APRIL

    history = [("human", "禾溪县4月的常务会议对老旧小区改造有什么调整？"), ("ai", "…")]
    answer = as_runnable(engine=records_engine).invoke({"question": "那总投资多少？", "chat_history": history})
    assert isinstance(answer, Answer)
    assert answer.text.startswith("（接上题：") and answer.citations[0].meeting_id == APRIL
    streamed = list(as_runnable(engine=records_engine).stream({"question": "谁牵头？", "chat_history": history}))
    assert isinstance(streamed[-1], Answer) and streamed[-1].text.startswith("（接上题：")
    alone = as_runnable(engine=records_engine).invoke({"question": "那总投资多少？"})
    assert not alone.text.startswith("（接上题")


def test_a_chat_history_that_is_not_a_list_of_messages_is_refused(records_engine: Engine) -> None:
    with pytest.raises(InputError, match="chat_history"):
        as_runnable(engine=records_engine).invoke({"question": "谁牵头？", "chat_history": "禾溪县"})
    with pytest.raises(InputError, match="not a message"):
        as_runnable(engine=records_engine).invoke({"question": "谁牵头？", "chat_history": [42]})

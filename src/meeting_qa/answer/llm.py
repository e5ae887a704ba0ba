"""LLM answers: an LCEL chain (numbered sources → prompt → chat model → text), then citation verification.

Backends are LangChain chat models: `ChatOpenAI` for any OpenAI-compatible server, or `LlamaCppChat`
for a local GGUF run in-process by llama-cpp-python. Retrieval happens before this module (`qa.py`
passes the candidates), so the chain starts at the numbered-sources step.

Decisions:
- No evidence, no question to the model: when the extractive answerer abstained (its calibrated evidence
  threshold) or nothing was retrieved, the abstention is returned and the model is not asked.
- A backend failure (connection refused, timeout, HTTP error, a model that cannot load) raises
  `LLMError` naming the base URL or model file, rather than hiding a misconfigured server behind
  extractive answers.
- Whatever the model writes is verified (`citations.verify_answer`); unsupported sentences are dropped
  with a note, and an answer left with no verified citation falls back to the extractive answer, saying
  so in `Answer.notes` and `Answer.backend`.
- Raw chunks are yielded while the model writes (a draft); only the final `Answer` is verified.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import PrivateAttr, SecretStr

from meeting_qa.answer import messages
from meeting_qa.answer.citations import SupportTuning, verify_answer
from meeting_qa.config import Settings
from meeting_qa.errors import ConfigError, LLMError
from meeting_qa.retrieval import Candidate
from meeting_qa.text.fold import Language
from meeting_qa.types import Answer, Sentence

PROMPT_VARIABLES = frozenset({"question", "sources", "language_name", "n_sources", "not_found"})
_LANGUAGE_NAMES: dict[Language, str] = {
    "zh-Hans": "Simplified Chinese (简体中文)",
    "zh-Hant": "Traditional Chinese (繁體中文)",
    "en": "English",
}
_DROPPED: dict[Language, str] = {
    "zh-Hans": "（已删除大模型回答中{n}句没有被所引来源支持的内容。）",
    "zh-Hant": "（已刪除大模型回答中{n}句沒有被所引來源支持的內容。）",
    "en": "(Removed {n} sentence(s) of the LLM answer that the cited sources do not support.)",
}


@dataclass(frozen=True)
class LLMTuning:
    """Prompt budget and output limits (sized for a 2048-token context with Chinese sources)."""

    max_sources: int = 5
    source_chars: int = 700  # all sources together; long paragraphs keep their most relevant sentences
    max_tokens: int = 256  # asked of the backend
    max_answer_chars: int = 2000  # the stream is cut here whatever the backend does with max_tokens


# -- prompts -----------------------------------------------------------------------------------------


def load_prompt(name: str) -> str:
    """A prompt file shipped in `meeting_qa/answer/prompts/`."""
    return resources.files("meeting_qa.answer").joinpath("prompts", name).read_text(encoding="utf-8")


def make_prompt(system_prompt: str | None = None, user_prompt: str | None = None) -> ChatPromptTemplate:
    """The chat prompt; overrides may use {question} {sources} {language_name} {n_sources} {not_found}."""
    prompt = ChatPromptTemplate.from_messages(
        [("system", system_prompt or load_prompt("system.txt")), ("human", user_prompt or load_prompt("user.txt"))]
    )
    unknown = set(prompt.input_variables) - PROMPT_VARIABLES
    if unknown:
        raise ConfigError(
            f"the prompt uses unknown variables {sorted(unknown)}; available: {sorted(PROMPT_VARIABLES)}",
            value=", ".join(sorted(unknown)),
        )
    if "sources" not in prompt.input_variables or "question" not in prompt.input_variables:
        raise ConfigError("the prompt must contain {sources} and {question}", value="prompt")
    return prompt


def _excerpt(cand: Candidate, budget: int) -> str:
    """The paragraph, or (when over budget) its sentences most similar to the question, in reading order."""
    p = cand.stored.paragraph
    if len(p.text) <= budget:
        return p.text
    sents = list(p.sentences) or [Sentence(0, len(p.text))]
    ranked = sorted(range(len(sents)), key=lambda i: (-cand.sentence_sims.get(sents[i].start, 0.0), i))
    keep: list[int] = []
    used = 0
    for i in ranked:
        size = sents[i].end - sents[i].start
        if used + size <= budget or not keep:
            keep.append(i)
            used += size
    parts = [p.text[sents[i].start : sents[i].end][:budget] for i in sorted(keep)]
    return " … ".join(parts)


def _quoted(text: str) -> str:
    # Source text cannot close its own delimiter: angle brackets become their full-width forms.
    return text.replace("<", "＜").replace(">", "＞")


def _shares(lengths: list[int], budget: int) -> list[int]:
    """Split the budget fairly: short sources stay whole, long ones share what is left."""
    shares = [0] * len(lengths)
    left = budget
    for k, i in enumerate(sorted(range(len(lengths)), key=lambda i: lengths[i])):
        shares[i] = min(lengths[i], max(left // (len(lengths) - k), 1))
        left -= shares[i]
    return shares


def format_sources(cands: Sequence[Candidate], tuning: LLMTuning | None = None) -> str:
    """Numbered sources from 1, each between <source> delimiters, within the shared character budget."""
    tuning = tuning or LLMTuning()
    shares = _shares([len(c.stored.paragraph.text) for c in cands], tuning.source_chars)
    # Meeting names cost tokens a 2048-token context cannot spare; they matter only when sources differ in it.
    several = len({c.stored.meeting_id for c in cands}) > 1
    blocks: list[str] = []
    for n, (cand, share) in enumerate(zip(cands, shares, strict=True), 1):
        p = cand.stored.paragraph
        meta = f'id="{n}"'
        if several:
            meta += f' meeting="{_quoted(cand.stored.title or cand.stored.meeting_id)}"'
        meta += f' paragraph="{p.number}"'
        if p.speaker:
            meta += f' speaker="{_quoted(p.speaker)}"'
        blocks.append(f"<source {meta}>\n{_quoted(_excerpt(cand, share))}\n</source>")
    return "\n\n".join(blocks)


def make_chain(
    chat_model: BaseChatModel, *, system_prompt: str | None = None, user_prompt: str | None = None
) -> Runnable[dict[str, Any], str]:
    """LCEL: {question, language, cands} → numbered sources → prompt → chat model → text."""
    prompt = make_prompt(system_prompt, user_prompt)

    def variables(x: dict[str, Any]) -> dict[str, Any]:
        language: Language = x["language"]
        return {
            "question": x["question"],
            "sources": format_sources(x["cands"], x.get("tuning")),
            "n_sources": len(x["cands"]),
            "language_name": _LANGUAGE_NAMES[language],
            "not_found": messages.not_found(language, []),
        }

    return RunnableLambda(variables) | prompt | chat_model | StrOutputParser()


# -- answering ---------------------------------------------------------------------------------------


def backend_label(chat_model: Any) -> str:
    """A short name for `Answer.backend`: openai:<model>, llamacpp:<file>, or the model's type."""
    if isinstance(chat_model, LlamaCppChat):
        return f"llamacpp:{Path(chat_model.model_path).name}"
    model = getattr(chat_model, "model_name", None)
    if getattr(chat_model, "openai_api_base", None) is not None or type(chat_model).__name__ == "ChatOpenAI":
        return f"openai:{model}"
    try:
        kind = str(chat_model._llm_type)
    except (AttributeError, NotImplementedError):
        kind = type(chat_model).__name__
    return f"{kind}:{model}" if model else kind


def _where(chat_model: Any) -> str:
    if isinstance(chat_model, LlamaCppChat):
        return f"the llama.cpp model {chat_model.model_path}"
    base = getattr(chat_model, "openai_api_base", None)
    if base is not None:
        return f"the OpenAI-compatible server at {base} (model {getattr(chat_model, 'model_name', '?')})"
    return f"the chat model {backend_label(chat_model)}"


def stream_llm_answer(
    chat_model: BaseChatModel,
    question: str,
    language: Language,
    cands: list[Candidate],
    extractive: Answer,
    *,
    system_prompt: str | None = None,
    user_prompt: str | None = None,
    tuning: LLMTuning | None = None,
    support: SupportTuning | None = None,
) -> Iterator[str | Answer]:
    """Yields the model's raw text chunks as they stream, then exactly one verified `Answer` (last)."""
    tuning = tuning or LLMTuning()
    label = backend_label(chat_model)
    if not cands or extractive.abstained:
        yield extractive.text
        yield replace(extractive, backend=f"extractive (abstained; {label} not asked)")
        return
    sources = cands[: tuning.max_sources]
    chain = make_chain(chat_model, system_prompt=system_prompt, user_prompt=user_prompt)
    parts: list[str] = []
    length = 0
    stream = chain.stream({"question": question, "language": language, "cands": sources, "tuning": tuning})
    try:
        for chunk in stream:
            if not chunk:
                continue
            parts.append(chunk)
            length += len(chunk)
            yield chunk
            if length >= tuning.max_answer_chars:
                break  # a looping model: stop reading (closing the stream ends the request)
    except LLMError:
        raise
    except Exception as e:  # the backends raise their own types: connection, timeout, HTTP status, llama.cpp
        raise LLMError(f"{_where(chat_model)} failed: {type(e).__name__}: {e}", value=label) from e
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    yield _final("".join(parts), language, sources, extractive, label, support)


def _final(
    raw: str,
    language: Language,
    sources: Sequence[Candidate],
    extractive: Answer,
    label: str,
    support: SupportTuning | None,
) -> Answer:
    verified = verify_answer(raw, sources, tuning=support)
    if not verified.citations:
        return replace(
            extractive,
            backend=f"extractive (fallback from {label})",
            notes=(*extractive.notes, messages.fallback_note(language)),
        )
    notes: tuple[str, ...] = ()
    if verified.dropped:
        notes = (_DROPPED[language].format(n=verified.dropped),)
    return Answer(text=verified.text, abstained=False, citations=verified.citations, backend=label, notes=notes)


# -- backends ----------------------------------------------------------------------------------------


class LlamaCppChat(BaseChatModel):
    """A local GGUF chat model run in-process by llama-cpp-python (imported and loaded on first use)."""

    model_path: str
    n_ctx: int = 4096
    max_tokens: int = 256
    temperature: float = 0.0
    seed: int = 0
    n_threads: int | None = None

    _llama: Any = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)  # one generation at a time per model

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, "temperature": self.temperature}

    def _load(self) -> Any:
        if self._llama is None:
            try:
                import llama_cpp
            except ImportError as e:
                raise LLMError(
                    "MEETING_QA_LLM=llamacpp needs llama-cpp-python (run `make llm-setup`)", value="llamacpp"
                ) from e
            try:
                self._llama = llama_cpp.Llama(
                    model_path=self.model_path,
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    seed=self.seed,
                    verbose=False,
                )
            except (ValueError, RuntimeError, OSError) as e:
                raise LLMError(f"llama.cpp could not load {self.model_path}: {e}", path=self.model_path) from e
        return self._llama

    @staticmethod
    def _messages(messages_: list[BaseMessage]) -> list[dict[str, str]]:
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        return [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages_]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(chunk.text for chunk in self._stream(messages, stop, None, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llama = self._load()
        with self._lock:
            parts = llama.create_chat_completion(
                messages=self._messages(messages),
                stream=True,
                max_tokens=kwargs.get("max_tokens", self.max_tokens),
                temperature=self.temperature,
                stop=stop,
            )
            for part in parts:
                delta = part["choices"][0].get("delta", {}).get("content") or ""
                if not delta:
                    continue
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager is not None:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk


def make_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model `settings.llm` names; raises `ConfigError` naming a missing `MEETING_QA_LLM_*` variable."""
    tuning = LLMTuning()
    if settings.llm == "openai":
        missing = [
            var
            for var, value in (
                ("MEETING_QA_LLM_BASE_URL", settings.llm_base_url),
                ("MEETING_QA_LLM_MODEL", settings.llm_model),
            )
            if not value
        ]
        if missing or not settings.llm_model:
            raise ConfigError(f"MEETING_QA_LLM=openai needs {' and '.join(missing)}", value=missing[0])
        from langchain_openai import ChatOpenAI

        # Local servers ignore the key, but the client insists on one; OPENAI_API_KEY is never read.
        return ChatOpenAI(
            model=settings.llm_model,
            base_url=settings.llm_base_url,
            api_key=SecretStr(settings.llm_api_key or "not-needed"),
            timeout=settings.llm_timeout_s,
            max_retries=1,
            temperature=0.0,
            max_completion_tokens=tuning.max_tokens,
        )
    if settings.llm == "llamacpp":
        if not settings.llm_model:
            raise ConfigError(
                "MEETING_QA_LLM=llamacpp needs MEETING_QA_LLM_MODEL (the path to a .gguf file)",
                value="MEETING_QA_LLM_MODEL",
            )
        path = Path(settings.llm_model).expanduser()
        if not path.is_file():
            raise ConfigError(f"MEETING_QA_LLM_MODEL={settings.llm_model} is not a file", path=str(path))
        if importlib.util.find_spec("llama_cpp") is None:
            raise ConfigError("MEETING_QA_LLM=llamacpp needs llama-cpp-python (run `make llm-setup`)", value="llamacpp")
        return LlamaCppChat(model_path=str(path), max_tokens=tuning.max_tokens)
    raise ConfigError(f"MEETING_QA_LLM={settings.llm!r} has no chat model", value=settings.llm)

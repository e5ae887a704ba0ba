"""Follow-up questions without an LLM: what a conversation's earlier turns established (the meeting(s) they
were answered from, their topic words, the speaker in focus), and how the next question leans on it.

A follow-up — a question with no topic of its own ("谁负责？"), an anaphor ("该项目投资多少？", "What did she
say?"), an ellipsis ("那投资多少？", "What about the deadline?") or a reference to the meeting before
("上一次会议是怎么定的？") — is asked within the meeting in focus (`meeting_ids=`) with the topic words added to
the user's words; a question that names another meeting, or brings its own topic without pointing back,
starts fresh. The answer says what it took from the conversation, so a wrong carry-over is visible.
The cues are data (profile/conversation.toml); the rest is the `Question` analysis the engine already makes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from dataclasses import replace as dc_replace
from importlib.resources import files
from typing import TYPE_CHECKING, Any, Protocol

from meeting_qa.errors import InputError
from meeting_qa.followup import (
    aspect_of,
    carry_note,
    cues,
    has_anaphor,
    points_at_person,
    spelled,
    topic_concepts,
    topic_phrases,
)
from meeting_qa.question import Question, TextView
from meeting_qa.text.fold import detect_language, fold, to_script
from meeting_qa.types import Answer

if TYPE_CHECKING:
    from meeting_qa.qa import Engine


@dataclass(frozen=True)
class Focus:
    """What the conversation has established so far (plain data, JSON-ready)."""

    meeting_ids: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()  # how answers name those meetings ("鹭原市委常委会会议（2024-03-12）")
    topic: tuple[tuple[str, ...], ...] = ()  # topic words, each with its spellings (Chinese and English)
    speaker: str | None = None  # the transcript speaker the last answer quoted first
    question: str = ""  # the question that set this focus, as the user typed it

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Focus:
        return cls(
            meeting_ids=tuple(data.get("meeting_ids") or ()),
            labels=tuple(data.get("labels") or ()),
            topic=tuple(tuple(t) for t in data.get("topic") or ()),
            speaker=data.get("speaker"),
            question=data.get("question") or "",
        )


@dataclass(frozen=True)
class Resolution:
    """How one question is asked: fresh, or leaning on the focus (`inherited`), and why."""

    question: str  # as the user typed it
    text: str  # what is searched: the user's words, plus the inherited topic words
    meeting_ids: tuple[str, ...] | None  # the meetings it is asked within (None: every meeting)
    speakers: tuple[str, ...] | None = None
    inherited: bool = False
    reason: str = "first"  # first | own topic | other meeting | no topic | anaphor | ellipsis | the meeting | previous
    topic: tuple[tuple[str, ...], ...] = ()  # the topic this turn is about (inherited or its own)
    note: str = ""  # the carry-over prefix of the answer ("（接上题：…）"), empty when nothing was carried over


class Rewriter(Protocol):
    """Another way to resolve a follow-up (e.g. an LLM rewriting it as a standalone question): given the
    question and the focus, a standalone question, or None to keep the rules' resolution."""

    def __call__(self, question: str, focus: Focus) -> str | None: ...


def llm_rewriter(chat_model: Any, prompt: str | None = None) -> Rewriter:
    """A `Rewriter` asking a LangChain chat model to restate the follow-up as a standalone question (prompt:
    profile/rewrite_prompt.txt unless given). Whatever it writes is checked like any rewrite (`Conversation`);
    a model that fails leaves the rules' resolution in place."""
    template = prompt or files("meeting_qa.profile").joinpath("rewrite_prompt.txt").read_text(encoding="utf-8")

    def rewrite(question: str, focus: Focus) -> str | None:
        text = template.format(
            meetings="; ".join(focus.labels) or "-",
            topic=", ".join(t[0] for t in focus.topic) or "-",
            previous=focus.question or "-",
            question=question,
        )
        try:
            reply = chat_model.invoke(text)
        except Exception:  # a backend down or refusing: the rules' resolution stands
            return None
        content = getattr(reply, "content", reply)
        return content.strip().splitlines()[0] if isinstance(content, str) and content.strip() else None

    return rewrite


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass
class Conversation:
    """A conversation with the meeting records. `ask` answers a question in the light of the turns before it;
    `focus` is what they established; `to_json`/`from_json` carry it between requests; `reset` starts over.
    `rewriter` (optional) may turn a follow-up into a standalone question instead of the rules; with an LLM
    backend configured (`engine.chat_model`) that model rewrites by default (`llm_rewriter`). Either way the
    rules still choose the meetings, and the rewrite is kept only if it passes `_checked_rewrite`."""

    focus: Focus | None = None
    turns: list[dict[str, Any]] = field(default_factory=list)  # one small record per turn (what was asked how)
    rewriter: Rewriter | None = field(default=None, repr=False, compare=False)
    last: Resolution | None = field(default=None, repr=False, compare=False)  # how the last question was asked

    MAX_TURNS = 20  # kept in the JSON for display; only the focus decides anything

    def reset(self) -> None:
        """A new topic: the next question stands alone."""
        self.focus = None
        self.last = None
        self.turns.clear()

    # -- state ------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (lists, not tuples): what `to_json` writes and `from_dict` reads."""
        return {"focus": _plain(asdict(self.focus)) if self.focus else None, "turns": _plain(self.turns)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Conversation:
        data = data or {}
        focus = data.get("focus")
        if focus is not None and not isinstance(focus, dict):
            raise InputError("a conversation's focus must be an object", value=repr(focus)[:80])
        return cls(Focus.from_dict(focus) if focus else None, list(data.get("turns") or []))

    @classmethod
    def from_json(cls, text: str | None) -> Conversation:
        if not text:
            return cls()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"the conversation is not valid JSON ({e.msg})", value=text[:80]) from None
        if not isinstance(data, dict):
            raise InputError("the conversation must be a JSON object", value=text[:80])
        return cls.from_dict(data)

    @classmethod
    def replay(cls, questions: Sequence[str], engine: Engine) -> Conversation:
        """A conversation rebuilt from earlier questions alone (a chat history without this library's state):
        each is resolved as it was asked, and the focus follows the meetings they name or were asked within."""
        conversation = cls()
        for question in questions:
            if isinstance(question, str) and question.strip():
                res = conversation.resolve(question.strip(), engine)
                conversation._record(res, Answer("", True), engine)
        return conversation

    # -- asking -----------------------------------------------------------------------------------

    def resolve(self, question: str, engine: Engine) -> Resolution:
        """How `question` is asked given the focus (nothing is answered or changed)."""
        q = engine.searcher.analyze(question, generation=engine.store.check_model())
        return self._resolve(q, engine)

    def _resolve(self, q: Question, engine: Engine) -> Resolution:
        c = cues()
        question = q.text
        concepts = topic_concepts(q, c.max_topic_words)
        own = tuple(topic_phrases(q, concepts, engine.searcher.profile))
        focus = self.focus
        if focus is None or not (focus.meeting_ids or focus.topic):
            return Resolution(question, question, None, reason="first", topic=own)
        named = {m for m, s in q.meetings if s >= 0.99}
        previous = bool(c.previous.search(q.folded))
        # A meeting deleted since the turn that set the focus is gone from the conversation too.
        kept = engine.store.exists(focus.meeting_ids) if focus.meeting_ids else set()
        ids: tuple[str, ...] = tuple(m for m in focus.meeting_ids if m in kept)
        if focus.meeting_ids and not ids:
            return Resolution(question, question, None, reason="first", topic=own)
        if previous and ids:
            reason = "previous"
            before = engine.adjacent_meeting(ids[0], -1)
            if before is None:  # nothing before it: the question is asked as it stands
                return Resolution(question, question, None, reason="no previous meeting", topic=own)
            ids = (before.meeting_id,)
        elif named and not named & set(ids):
            return Resolution(question, question, None, reason="other meeting", topic=own)
        elif has_anaphor(q):
            reason = "anaphor"
        elif c.ellipsis.search(q.folded):
            reason = "ellipsis"
        elif not own:
            reason = "no topic"
        elif q.about_meeting and not named and not (q.across or q.which_meeting):
            reason = "the meeting"  # "会上…", "at the meeting": the meeting in focus
        else:
            return Resolution(question, question, None, reason="own topic", topic=own)
        topic, add = focus.topic, bool(focus.topic)
        views = [TextView(sp.folded) for sp in engine.store.paragraphs(list(ids))] if ids else []
        if own and not ids:
            # Nothing but a topic to lean on, and a topic of its own: it stands alone.
            return Resolution(question, question, None, reason="own topic", topic=own)
        if own and views and not previous:
            # Across languages a word is matched through a dictionary, too loosely to prove it absent.
            same_language = (q.language == "en") == views[0].is_english
            absent = sum(k.weight for k in concepts if not any(k.applies_to(v) and k.covered_by(v) for v in views))
            if same_language and 2 * absent > sum(k.weight for k in concepts):
                # Its own topic is (mostly) nowhere in the meeting in focus ("那个提案…" about another case):
                # it cannot be about that meeting, whatever word points back.
                return Resolution(question, question, None, reason="own topic", topic=own)
            if not aspect_of(own, topic, views):
                # Another subject of the same meeting: asked within it, without the old topic.
                topic, add = own, False
        if (not own and c.meeting_facts.search(q.folded)) or q.which_meeting:
            add = False  # who chaired or attended, when it was held: the meeting itself, not its topic
        carried = [t for t in focus.topic if not views or any(v.mentions(a) for a in t for v in views)]
        # Only topic words the meeting asked within holds: others would only make its answer look absent.
        words = [spelled(t, q.language) for t in carried] if add else []
        if q.language == "en":  # Chinese words would make an English question Chinese (and its answer too)
            words = [w for w in words if w.isascii()]
        added = [w for w in words if fold(w) not in q.folded]
        text = f"{question} {' '.join(added)}" if added else question
        speakers = (focus.speaker,) if focus.speaker and points_at_person(q) and not previous else None
        shown = [to_script(w, q.language) for w in words]
        note = carry_note(q.language, self._labels(engine, ids), shown, reason)
        return Resolution(question, text, ids or None, speakers, True, reason, topic, note)

    @staticmethod
    def _labels(engine: Engine, ids: Sequence[str]) -> list[str]:
        index = engine.lexical.index(engine.store.check_model())
        cards = engine.searcher.catalog(index).cards
        return [cards[m].label if m in cards else m for m in ids]

    def ask(self, question: str, engine: Engine | None = None, **filters: Any) -> Answer:
        """The answer to `question` in this conversation (the focus moves on); filters as in `ask()`."""
        answer: Answer | None = None
        for event in self.ask_stream(question, engine, **filters):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def ask_stream(self, question: str, engine: Engine | None = None, **filters: Any) -> Iterator[str | Answer]:
        """Text chunks, then the final `Answer` (whose text opens with the carry-over note, if any)."""
        from meeting_qa.qa import engine_for

        engine = engine or engine_for(filters.pop("settings", None))
        filters.pop("settings", None)
        if not isinstance(question, str) or not question.strip():
            raise InputError("the question is empty", value=repr(question))
        res = self.resolve(question.strip(), engine)
        rewriter = self.rewriter or (llm_rewriter(engine.chat_model) if engine.chat_model is not None else None)
        if res.inherited and rewriter is not None and self.focus is not None:
            rewritten = rewriter(res.question, self.focus)
            res = self._checked_rewrite(res, rewritten, engine) if rewritten else res
        self.last = res
        asked = dict(filters)
        if res.meeting_ids:
            given = asked.get("meeting_ids")
            # The user's own meeting filter wins; the conversation narrows it when they overlap.
            within = [m for m in res.meeting_ids if not given or m in given]
            asked["meeting_ids"] = within or given
        if res.speakers and not asked.get("speakers"):
            asked["speakers"] = res.speakers
        final: Answer | None = None
        if res.note:
            yield res.note
        for event in engine.ask_stream(res.text, **asked):
            if isinstance(event, Answer):
                final = dc_replace(event, text=res.note + event.text) if res.note else event
            else:
                yield event
        assert final is not None
        self._record(res, final, engine)
        yield final

    def _checked_rewrite(self, res: Resolution, rewritten: str, engine: Engine) -> Resolution:
        """A rewriter's standalone question, kept only if the rules agree on what it is about: asked within
        the same meetings, and in the user's language (else the rules' resolution stands)."""
        rewritten = rewritten.strip()
        if not rewritten or len(rewritten) > 500 or detect_language(rewritten) != detect_language(res.question):
            return res
        q = engine.searcher.analyze(rewritten, generation=engine.store.check_model())
        named = {m for m, s in q.meetings if s >= 0.99}
        if named and res.meeting_ids and not named & set(res.meeting_ids):
            return res
        return dc_replace(res, text=rewritten)

    def _record(self, res: Resolution, answer: Answer, engine: Engine) -> None:
        """The focus after this turn: the meetings the answer quotes (else the ones it was asked within, or the
        one the question names), the turn's topic, and the speaker quoted first."""
        cited = tuple(dict.fromkeys(c.meeting_id for c in answer.citations))
        if not cited:
            q = engine.searcher.analyze(res.question, generation=engine.store.check_model())
            cited = tuple(m for m, s in q.meetings if s >= 0.99)
        if not cited and answer.related and not res.meeting_ids:
            # Not answered, but the passages it came closest to are mostly of one meeting: the one the user
            # is asking about, most likely (a meeting named in words the records do not use for it).
            top = answer.related[0].meeting_id
            if 2 * sum(1 for p in answer.related if p.meeting_id == top) > len(answer.related):
                cited = (top,)
        ids = cited or (res.meeting_ids or ())
        if not ids and not res.topic:
            return  # nothing to lean on: a previous focus still holds for the next question
        speaker = next((c.speaker for c in answer.citations if c.speaker), None)
        self.focus = Focus(ids, tuple(self._labels(engine, ids)), res.topic, speaker, res.question)
        self.turns.append(
            {
                "question": res.question,
                "asked": res.text,
                "meeting_ids": list(res.meeting_ids) if res.meeting_ids else None,
                "reason": res.reason,
                "inherited": res.inherited,
                "abstained": answer.abstained,
            }
        )
        del self.turns[: -self.MAX_TURNS]

"""The Python API: `ingest()`, `search()`, `ask()` (plus `list_meetings()` and `delete()`).

Collaborators (embeddings, store, chat model) are built once per settings by `Engine.from_settings`
and can be passed in directly for tests or embedding in other programs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from meeting_qa.answer.extractive import ExtractiveAnswerer
from meeting_qa.calibration import calibration_for
from meeting_qa.config import Settings
from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.errors import InputError, LoaderError
from meeting_qa.lexical import LexicalIndex
from meeting_qa.loaders import find_files, load_path
from meeting_qa.minutes import ItemIndex
from meeting_qa.reader import Judge, Verdict, judge_for
from meeting_qa.reader.judge import READ_FROM
from meeting_qa.retrieval import Candidate, HybridSearcher, Signals
from meeting_qa.store import ChunkFn, Store, make_client
from meeting_qa.storelock import StoreLock
from meeting_qa.types import (
    Answer,
    FileReport,
    Filters,
    IngestReport,
    Item,
    Meeting,
    MeetingInfo,
    Mention,
    Passage,
    Series,
    SeriesMeeting,
)

if TYPE_CHECKING:
    from meeting_qa.conversation import Conversation

MAX_QUESTION_CHARS = 2000
EMBED_RATE = 130  # passages/s of the default model on 2 cores (BENCHMARKS.md), for the estimate in a refusal
ANSWER_CANDIDATES = 8  # enough for a question across meetings to see each meeting's best paragraph


class FilterArgs(TypedDict, total=False):
    """The filter keywords of `search`/`ask` (see `search`); all optional."""

    meeting_ids: Sequence[str] | None
    since: str | date | None
    until: str | date | None
    speakers: Sequence[str] | str | None


ProgressFn = Callable[[str, int, int], None]  # (source, meetings done, meetings total)


@dataclass
class Engine:
    """Everything `ask` needs, wired together once."""

    settings: Settings
    embeddings: SentenceEmbeddings
    store: Store
    lexical: LexicalIndex
    searcher: HybridSearcher
    answerer: ExtractiveAnswerer
    chat_model: Any | None = None  # a LangChain chat model when settings.llm is not "extractive"
    item_index: ItemIndex | None = None  # decisions, tasks and series, derived from the store on first use
    judge: Judge | None = None  # the learned reader: re-ranks the top candidates and says whether they answer

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        embeddings: SentenceEmbeddings | None = None,
        client: Any | None = None,
        chat_model: Any | None = None,
        reranker: Any | None = None,
        judge: Judge | None = None,
    ) -> Engine:
        embeddings = embeddings or SentenceEmbeddings(
            settings.embedding_model, cache_dir=settings.cache_dir, query_int8=settings.query_int8
        )
        reopen = None
        if client is None:
            # fresh: another engine of this process may hold an older view of the same directory
            client = make_client(None if settings.chroma_url else settings.store_dir, settings.chroma_url, fresh=True)
            if not settings.chroma_url:

                def reopen() -> Any:
                    return make_client(settings.store_dir, fresh=True)

        client_id = settings.chroma_url or str(Path(settings.store_dir).resolve())
        lock = StoreLock(None if settings.chroma_url else Path(settings.store_dir), remote=bool(settings.chroma_url))
        store = Store(
            client,
            embeddings,
            collection=settings.collection,
            model_label=embeddings.label,
            client_id=client_id,
            lock=lock,
            reopen=reopen,
        )
        lexical = LexicalIndex(store, settings.cache_dir)
        if reranker is None and settings.reranker:
            from meeting_qa.rerank import load_reranker

            reranker = load_reranker(settings.reranker)
        searcher = HybridSearcher(store, embeddings, lexical, reranker=reranker, cache_dir=settings.cache_dir)
        answerer = ExtractiveAnswerer(vectors=store.vectors)
        if chat_model is None and settings.llm != "extractive":
            from meeting_qa.answer.llm import make_chat_model

            chat_model = make_chat_model(settings)
        if judge is None:
            judge = judge_for(settings)
        return cls(settings, embeddings, store, lexical, searcher, answerer, chat_model, ItemIndex(lexical), judge)

    # -- operations -------------------------------------------------------------------------------

    def ingest(
        self,
        paths: Iterable[str | Path],
        *,
        progress: ProgressFn | None = None,
        replace: bool = False,
        rename: bool = False,
        on_chunk: ChunkFn | None = None,
        on_file: Callable[[FileReport], None] | None = None,
    ) -> IngestReport:
        """Parse, embed and store files as a stream: meetings flow from the loaders into the store in groups
        (see `Store.upsert_meetings`), so a corpus is never held whole and the model never waits for parsing
        of the whole corpus. `progress(source, done, total)` counts documents (`total`: files, or documents
        parsed so far once bulk files have yielded more); `on_file` receives each file's report as it is made.

        A problem with one file or one line of a bulk file is reported for it; the others still ingest.
        A stored meeting from a different file is not replaced unless `replace`: that file is reported
        failed, naming both (or, with `rename`, the newcomer gets a distinct id such as `minutes-2`).
        """
        reports: list[FileReport] = []

        def report(item: FileReport) -> None:
            reports.append(item)
            if on_file:
                on_file(item)

        def refuse(meeting: Meeting, error: str) -> None:
            report(FileReport(path=meeting.source, status="failed", meeting_id=meeting.meeting_id, error=error))

        missing: list[FileReport] = []
        files = self._files(paths, missing)
        for item in missing:
            report(item)
        known = 0

        def meetings() -> Iterator[Meeting]:
            nonlocal known
            # Two files with the same name in different folders would overwrite each other's meeting.
            seen: dict[str, str] = {}
            for path in files:
                if not _is_text(str(path)):
                    shown = str(path).encode("utf-8", "backslashreplace").decode()
                    report(
                        FileReport(path=shown, status="failed", error=f"{shown}: the file name is not UTF-8; rename it")
                    )
                    continue
                origin = _origin(path)
                try:
                    for item in load_path(path):
                        if isinstance(item, LoaderError):
                            report(FileReport(path=item.path or str(path), status="failed", error=str(item)))
                        elif too_long := self._too_long(item):
                            refuse(item, too_long)
                        elif item.meeting_id in seen and not rename:
                            refuse(
                                item,
                                f"{item.source}: meeting id {item.meeting_id!r} is also used by "
                                f"{seen[item.meeting_id]}; rename one of the files",
                            )
                        else:
                            seen.setdefault(item.meeting_id, item.source)
                            known += 1
                            yield dc_replace(item, origin=origin)
                except (OSError, RecursionError, UnicodeError, ValueError, MemoryError) as e:
                    report(FileReport(path=str(path), status="failed", error=f"{path}: {_describe(e)}"))

        changed = False
        outcomes = self.store.upsert_meetings(meetings(), replace_other=replace, rename=rename, on_chunk=on_chunk)
        for done, outcome in enumerate(outcomes, 1):
            meeting = outcome.meeting
            changed = changed or outcome.status in ("added", "updated")
            if outcome.status == "conflict":
                refuse(
                    meeting,
                    f"{meeting.source}: meeting {meeting.meeting_id!r} already exists from another file, "
                    f"{outcome.other}; rename this file, delete that meeting first, or re-ingest with "
                    f"--replace to overwrite it",
                )
            else:
                report(
                    FileReport(
                        path=meeting.source,
                        status=outcome.status,  # type: ignore[arg-type]
                        meeting_id=meeting.meeting_id,
                        paragraphs=len(meeting.paragraphs),
                        warnings=meeting.warnings,
                        cleaned=meeting.cleaned,
                        encoding=meeting.encoding,
                    )
                )
            if progress:
                progress(meeting.source, done, max(known, len(files)))
        if changed:
            index = self.lexical.index()  # the new meetings' tokens are indexed now, not by the next question
            # The model's similarity scale, measured on what the store now holds (calibration.py).
            calibration_for(self.store, self.embeddings, refresh=True, paragraphs=index.paragraphs)
        return IngestReport(tuple(reports))

    def _too_long(self, meeting: Meeting) -> str | None:
        """Why a record is refused for its length (None: it is not): past the limit, embedding it would run for
        many minutes — a file whose meetings were not split, or not a meeting record at all."""
        limit = self.settings.max_record_chars
        chars = sum(len(p.text) for p in meeting.paragraphs)
        if limit <= 0 or chars <= limit:
            return None
        passages = sum(1 + len(p.sentences) for p in meeting.paragraphs)
        return (
            f"{meeting.source}: {chars:,} characters ({passages:,} passages to embed, about "
            f"{max(1, round(passages / EMBED_RATE / 60))} min on this kind of machine) is over the {limit:,}-character "
            f"limit for one meeting record; split it into its meetings, or raise MEETING_QA_MAX_RECORD_CHARS "
            f"(0 = no limit) to ingest it as one"
        )

    @staticmethod
    def _files(paths: Iterable[str | Path], reports: list[FileReport]) -> list[Path]:
        files: list[Path] = []
        for p in paths:
            try:
                files.extend(find_files([Path(p)]))
            except LoaderError as e:
                reports.append(FileReport(path=e.path or str(p), status="failed", error=str(e)))
            except OSError as e:
                reports.append(FileReport(path=str(p), status="failed", error=f"{p}: {_describe(e)}"))
        return files

    def filters(
        self,
        *,
        meeting_ids: Sequence[str] | None = None,
        since: str | date | None = None,
        until: str | date | None = None,
        speakers: Sequence[str] | str | None = None,
    ) -> Filters | None:
        """Checked filters from the API's keyword arguments (None when nothing is filtered); a bad date or a
        speaker no meeting has is refused, naming the value."""
        start, end = _check_date("since", since), _check_date("until", until)
        if start and end and start > end:
            raise InputError(f"since {start} is after until {end}", value=f"{start}..{end}")
        names = _check_speakers(speakers, self.list_meetings() if speakers is not None else [])
        filters = Filters(self._known(meeting_ids), start, end, names)
        return None if filters.empty else filters

    def candidates(self, question: str, *, k: int, filters: Filters | None = None) -> list[Candidate]:
        question = _check_question(question)
        generation = self.store.check_model()
        # search ranks as ask does (with a reader on, the reader re-orders the top candidates)
        return self.ranked(self.searcher.signals(question, filters=filters, generation=generation), k)[0]

    def search(self, question: str, *, k: int = 5, **filters: Unpack[FilterArgs]) -> list[Passage]:
        if k < 1:
            raise InputError(f"k must be at least 1 (got {k})", value=str(k))
        return [c.passage() for c in self.candidates(question, k=k, filters=self.filters(**filters))]

    def ask(self, question: str, **filters: Unpack[FilterArgs]) -> Answer:
        answer: Answer | None = None
        for event in self.ask_stream(question, **filters):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def ask_stream(self, question: str, **filter_args: Unpack[FilterArgs]) -> Iterator[str | Answer]:
        """Yields text chunks as they are produced, then the final verified `Answer` (always last)."""
        question = _check_question(question)
        filters = self.filters(**filter_args)
        generation = self.store.check_model()
        sig = self.searcher.signals(question, filters=filters, generation=generation)
        cands, verdict = self.ranked(sig, ANSWER_CANDIDATES)
        language = sig.question.language
        extractive = self.answerer.answer(sig, cands, verdict=verdict)
        if self.chat_model is None:
            yield extractive.text
            yield extractive
            return
        from meeting_qa.answer.llm import stream_llm_answer

        yield from stream_llm_answer(self.chat_model, question, language, cands, extractive)

    def read(self, sig: Signals, cands: list[Candidate]) -> tuple[list[Candidate], Verdict | None]:
        """The reader's re-ranking and verdict, when a reader is on."""
        if self.judge is None:
            return cands, None
        return self.judge.read(sig, cands)

    def ranked(self, sig: Signals, k: int) -> tuple[list[Candidate], Verdict | None]:
        """The top `k` candidates, re-ranked by the reader when one is on (it chooses from the fused top
        `READ_FROM`), and its verdict."""
        if self.judge is None:
            return self.searcher.fuse(sig, k=k), None
        cands, verdict = self.judge.read(sig, self.searcher.fuse(sig, k=max(k, READ_FROM)))
        return cands[:k], verdict

    def _known(self, meeting_ids: Sequence[str] | None) -> tuple[str, ...] | None:
        """The meeting filter, checked: an unknown id is a typo to point out, not a topic the records lack."""
        ids = _check_ids(meeting_ids)
        if ids is None:
            return None
        known = self.store.exists(ids)
        unknown = [m for m in ids if m not in known]
        if unknown:
            listed = ", ".join(repr(m) for m in unknown)
            raise InputError(f"unknown meeting id {listed} (see `meeting-qa list` for the ids)", value=unknown[0])
        return ids

    def list_meetings(self) -> list[MeetingInfo]:
        """Stored meetings with their label and whether each is a meeting record (read once per store state)."""
        infos = self.store.list_meetings()
        if not infos:
            return infos
        catalog = self.searcher.catalog(self.lexical.index())
        return [
            dc_replace(m, label=card.label, reference=not card.is_meeting) if (card := catalog.get(m.meeting_id)) else m
            for m in infos
        ]

    # -- meeting items and series (derived from the store like the lexical index) -------------------

    @property
    def minutes(self) -> ItemIndex:
        if self.item_index is None:
            self.item_index = ItemIndex(self.lexical)
        return self.item_index

    def items(self, **filters: Any) -> list[Item]:
        """See `ItemIndex.items`; `meeting_ids` is checked like `ask`'s."""
        if "meeting_ids" in filters:
            filters["meeting_ids"] = _check_ids(filters["meeting_ids"])
        return self.minutes.items(**filters, generation=self.store.check_model())

    def series_of(self, meeting_id: str) -> Series:
        return self.minutes.series_of(meeting_id, self.store.check_model())

    def adjacent_meeting(self, meeting_id: str, step: int) -> SeriesMeeting | None:
        return self.minutes.neighbour(meeting_id, step, self.store.check_model())

    def mentions(self, topic: str) -> list[Mention]:
        return self.minutes.mentions(topic, self.store.check_model())

    def delete(self, meeting_id: str) -> bool:
        return self.store.delete(meeting_id)


def _is_text(value: str) -> bool:
    # Bytes that are not UTF-8 (in a file name or an argument) arrive as lone surrogates no store can hold.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _origin(path: Path) -> str:
    try:
        return str(path.resolve())
    except (OSError, RuntimeError):  # a symlink loop: the path as given still names the file
        return str(path.absolute())


def _describe(e: BaseException) -> str:
    if isinstance(e, OSError):
        return f"cannot read ({e.strerror or e})"
    if isinstance(e, RecursionError):
        return "nested too deeply to read"
    if isinstance(e, UnicodeError):
        return f"invalid text ({e})"
    if isinstance(e, MemoryError):
        return "too large to read into memory"
    return str(e)


def _check_question(question: str) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InputError("the question is empty", value=repr(question))
    try:
        question.encode("utf-8")
    except UnicodeEncodeError as e:  # a lone surrogate: undecodable bytes passed through surrogateescape
        raise InputError(
            f"the question holds an invalid character at position {e.start}", value=repr(question)
        ) from None
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError(
            f"the question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}",
            value=question[:40] + "…",
        )
    return question.strip()


def _check_ids(meeting_ids: Sequence[str] | None) -> tuple[str, ...] | None:
    if meeting_ids is None:
        return None
    if isinstance(meeting_ids, str):
        return (meeting_ids,)
    ids = tuple(m for m in meeting_ids if m)
    if not ids:
        raise InputError("meeting_ids is empty: pass None to search every meeting", value="[]")
    return ids


def _check_date(name: str, value: str | date | None) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.isoformat()[:10]
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise InputError(f"{name} must be an ISO date such as 2022-05-06 (got {value!r})", value=str(value)) from None


def _check_speakers(speakers: Sequence[str] | str | None, meetings: Sequence[MeetingInfo]) -> tuple[str, ...] | None:
    if speakers is None:
        return None
    names = tuple(
        dict.fromkeys(s.strip() for s in ([speakers] if isinstance(speakers, str) else speakers) if s.strip())
    )
    if not names:
        raise InputError("speakers is empty: pass None to keep every speaker", value="[]")
    # A mistyped name would otherwise just find nothing: say which names the records know instead.
    known = dict.fromkeys(s for m in meetings for s in m.speakers)
    unknown = [n for n in names if n not in known]
    if unknown:
        hint = (
            "、".join(list(known)[:12]) + ("…" if len(known) > 12 else "") if known else "(no transcript has speakers)"
        )
        raise InputError(f"no speaker {unknown[0]!r} in the records; speakers: {hint}", value=unknown[0])
    return names


_engines: dict[Settings, Engine] = {}
_engines_lock = threading.Lock()


def engine_for(settings: Settings | None = None) -> Engine:
    """The shared engine for these settings (the model loads once per process)."""
    settings = settings or Settings.from_env()
    with _engines_lock:
        if settings not in _engines:
            _engines[settings] = Engine.build(settings)
        return _engines[settings]


def ingest(paths: Iterable[str | Path] | str | Path, *, settings: Settings | None = None) -> IngestReport:
    """Ingest files or folders (walked recursively); unchanged files are left alone."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    return engine_for(settings).ingest(paths)


def search(
    question: str,
    *,
    k: int = 5,
    meeting_ids: Sequence[str] | None = None,
    since: str | date | None = None,
    until: str | date | None = None,
    speakers: Sequence[str] | str | None = None,
    settings: Settings | None = None,
) -> list[Passage]:
    """The `k` paragraphs that best match the question, best first.

    Filters (applied inside the store query): `meeting_ids`; `since`/`until`, inclusive ISO dates of the
    meeting (meetings without a date are left out once either is set); `speakers`, only those speakers' turns.
    """
    return engine_for(settings).search(
        question, k=k, meeting_ids=meeting_ids, since=since, until=until, speakers=speakers
    )


def ask(
    question: str,
    *,
    meeting_ids: Sequence[str] | None = None,
    since: str | date | None = None,
    until: str | date | None = None,
    speakers: Sequence[str] | str | None = None,
    settings: Settings | None = None,
    history: Conversation | None = None,
) -> Answer:
    """A short answer whose `[n]` markers cite `citations[n-1]`, or an abstention (filters as in `search`).

    `history`: a `Conversation`; the question is then answered as a turn of it (a follow-up leans on what the
    earlier turns established, and the conversation moves on). Without it every question stands alone."""
    if history is not None:
        return history.ask(
            question, engine_for(settings), meeting_ids=meeting_ids, since=since, until=until, speakers=speakers
        )
    return engine_for(settings).ask(question, meeting_ids=meeting_ids, since=since, until=until, speakers=speakers)


def list_meetings(*, settings: Settings | None = None) -> list[MeetingInfo]:
    return engine_for(settings).list_meetings()


def delete(meeting_id: str, *, settings: Settings | None = None) -> bool:
    return engine_for(settings).delete(meeting_id)


def items(
    kind: str | Sequence[str] | None = None,
    topic: str | None = None,
    meeting_ids: Sequence[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    owner: str | None = None,
    *,
    due_after: str | None = None,
    due_before: str | None = None,
    settings: Settings | None = None,
) -> list[Item]:
    """Decisions, tasks, commitments, approved documents, reports heard and principles of the stored meetings,
    each with its exact evidence (`quote == paragraph_text[start:end]`), newest meeting first.
    `since`/`until`: the meeting's date; `due_after`/`due_before`: an item's due date (ISO, inclusive)."""
    return engine_for(settings).items(
        kind=kind,
        topic=topic,
        meeting_ids=meeting_ids,
        since=since,
        until=until,
        owner=owner,
        due_after=due_after,
        due_before=due_before,
    )


def series_of(meeting_id: str, *, settings: Settings | None = None) -> Series:
    """The meetings of the same body as `meeting_id`, oldest first."""
    return engine_for(settings).series_of(meeting_id)


def previous_meeting(meeting_id: str, *, settings: Settings | None = None) -> SeriesMeeting | None:
    """The meeting of the same body held before this one ("上次会议"), or None."""
    return engine_for(settings).adjacent_meeting(meeting_id, -1)


def next_meeting(meeting_id: str, *, settings: Settings | None = None) -> SeriesMeeting | None:
    return engine_for(settings).adjacent_meeting(meeting_id, 1)


def mentions(topic: str, *, settings: Settings | None = None) -> list[Mention]:
    """Meetings whose paragraphs mention `topic` ("哪些会议讨论过养老服务"), newest first, with the paragraphs."""
    return engine_for(settings).mentions(topic)

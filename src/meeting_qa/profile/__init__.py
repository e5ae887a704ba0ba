"""The domain profile: vocabulary, question-kind cues, weights and thresholds as data (genre.toml,
glossary_en_zh.tsv), loaded once into frozen values. Code reads knowledge from here, never inline."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from importlib.resources import files
from typing import Any


@dataclass(frozen=True)
class FusionWeights:
    """How retrieval signals are combined (see genre.toml [fusion])."""

    lexical: float = 0.7
    dense: float = 0.3
    sentence_share: float = 0.7
    lexical_saturation: float = 8.0
    answer_type: float = 0.2
    meeting_coverage: float = 0.2
    named_meeting: float = 0.3
    named_speaker: float = 0.3
    own_date: float = 0.4
    meeting_record: float = 0.15
    opening_penalty: float = 0.3
    turn_context: float = 0.5
    turn_bigram: float = 0.0
    bigram_before: int = 0
    bigram_decay: float = 0.5
    bigram_meetings: int = 8
    kind_terms: float = 0.5
    candidates: int = 40
    fill_dense: int = 6


@dataclass(frozen=True)
class AnswerTuning:
    """How the extractive answerer chooses evidence and when it abstains (see genre.toml [answer])."""

    abstain_below: float = 0.34
    abstain_below_transcript: float = 0.23
    other_meeting_score: float = 0.6
    coverage_share: float = 0.8
    absent_topic_factor: float = 0.5
    missing_type_factor: float = 0.6
    paragraph_prior: float = 0.7
    kind_bonus: float = 0.25
    frame_bonus: float = 0.25
    max_sentences: int = 3
    keep_ratio: float = 0.82
    long_sentence: int = 110
    clause_window: int = 90
    turn_quote: int = 400
    turn_quote_cjk: int = 150
    max_meetings: int = 4


@dataclass(frozen=True)
class Kind:
    """A kind of question: how to recognise it, and how to recognise text that answers it."""

    name: str
    question: re.Pattern[str]
    answer: re.Pattern[str]
    refines: str = ""  # a narrower kind of this one: when both are asked, only the narrower one counts


@dataclass(frozen=True)
class Profile:
    kinds: tuple[Kind, ...]
    answer_types: frozenset[str]
    list_kinds: frozenset[str]
    kind_terms: dict[str, tuple[str, ...]]
    meeting_reference: re.Pattern[str]
    which_meeting: re.Pattern[str]
    across_meetings: re.Pattern[str]
    latest_value: re.Pattern[str]
    meeting_setting: re.Pattern[str]
    place_suffix: str
    title_pattern: re.Pattern[str]
    question_words: frozenset[str]
    type_words: frozenset[str]
    type_word_weight: float
    synonyms: dict[str, tuple[str, ...]]
    framing_en: frozenset[str]
    glossary: dict[str, tuple[str, ...]]
    fusion: FusionWeights
    answer: AnswerTuning

    def kind(self, name: str) -> Kind:
        for k in self.kinds:
            if k.name == name:
                return k
        raise KeyError(name)

    def question_kinds(self, folded_question: str) -> frozenset[str]:
        found = [k for k in self.kinds if k.question.search(folded_question)]
        # "投了多少钱" asks for an amount of money, not any number: the narrower kind stands for the wider.
        narrowed = {k.refines for k in found if k.refines}
        return frozenset(k.name for k in found if k.name not in narrowed)

    def answers_kind(self, kind: str, folded_text: str) -> bool:
        return bool(self.kind(kind).answer.search(folded_text))

    def with_(self, *, fusion: dict[str, Any] | None = None, answer: dict[str, Any] | None = None) -> Profile:
        """A copy with some weights or thresholds changed (used when fitting)."""
        return replace(
            self,
            fusion=replace(self.fusion, **(fusion or {})),
            answer=replace(self.answer, **(answer or {})),
        )


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _typed(cls: type, table: dict[str, Any]) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = set(table) - known
    if unknown:
        raise ValueError(f"genre.toml: unknown {cls.__name__} setting(s): {', '.join(sorted(unknown))}")
    return cls(**table)


def load_glossary(text: str) -> dict[str, tuple[str, ...]]:
    glossary: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            english, _, chinese = line.partition("\t")
            glossary[english.strip().lower()] = tuple(chinese.split())
    return glossary


def parse_profile(toml_text: str, glossary_text: str) -> Profile:
    data = tomllib.loads(toml_text)
    kinds_table = dict(data["kinds"])
    answer_types = frozenset(data["kind_sets"]["answer_types"])
    list_kinds = frozenset(data["kind_sets"]["list_kinds"])
    kinds = tuple(
        Kind(name, re.compile(v["question"]), re.compile(v["answer"]), v.get("refines", ""))
        for name, v in kinds_table.items()
    )
    m = data["meeting"]
    v = data["vocabulary"]
    return Profile(
        kinds=kinds,
        answer_types=answer_types,
        list_kinds=list_kinds,
        kind_terms={k: tuple(t) for k, t in data.get("kind_terms", {}).items()},
        meeting_reference=re.compile(m["reference"]),
        which_meeting=re.compile(m["which"]),
        across_meetings=re.compile(m["across"]),
        latest_value=re.compile(m["latest"]),
        meeting_setting=re.compile(m["setting"]),
        place_suffix=m["place_suffix"],
        title_pattern=re.compile(m["title_pattern"]),
        question_words=_words(v["question_words"]),
        type_words=_words(v["type_words"]),
        type_word_weight=float(v["type_word_weight"]),
        synonyms={
            w: tuple(x for x in group.split() if x != w) for group in v.get("synonyms", []) for w in group.split()
        },
        framing_en=_words(v["framing_en"]),
        glossary=load_glossary(glossary_text),
        fusion=_typed(FusionWeights, data.get("fusion", {})),
        answer=_typed(AnswerTuning, data.get("answer", {})),
    )


@lru_cache(maxsize=1)
def default_profile() -> Profile:
    """The shipped profile (package data)."""
    here = files("meeting_qa.profile")
    return parse_profile(
        here.joinpath("genre.toml").read_text(encoding="utf-8"),
        here.joinpath("glossary_en_zh.tsv").read_text(encoding="utf-8"),
    )

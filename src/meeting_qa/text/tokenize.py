"""Tokens for lexical search: jieba words over folded Chinese text plus English words and numbers."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba  # type: ignore[import-untyped]

from meeting_qa.text.fold import fold

jieba.setLogLevel(logging.WARNING)

# Function words that carry no topic; single Han characters are kept (names, 会/市) except these.
_STOP = frozenset(
    [
        "的",
        "了",
        "和",
        "与",
        "及",
        "在",
        "是",
        "有",
        "对",
        "把",
        "被",
        "为",
        "等",
        "也",
        "都",
        "又",
        "并",
        "而",
        "或",
        "之",
        "其",
        "这",
        "那",
        "哪",
        "什么",
        "怎么",
        "怎样",
        "如何",
        "哪些",
        "哪个",
        "哪位",
        "谁",
        "吗",
        "呢",
        "吧",
        "啊",
        "一",
        "个",
        "些",
        "上",
        "下",
        "中",
        "要",
        "将",
        "以",
        "于",
        "从",
        "向",
        "让",
        "给",
        "就",
        "还",
        "方面",
        "方",
        "提",
        "次",
        "里",
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "by",
        "with",
        "about",
        "what",
        "which",
        "who",
        "whom",
        "when",
        "where",
        "why",
        "how",
        "did",
        "does",
        "do",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "as",
        "from",
        "according",
    ]
)
_WORD = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*|[\u3400-\u4dbf\u4e00-\u9fff]+")
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    tok = jieba.Tokenizer()
    tok.initialize()
    return tok


def tokenize(text: str, *, folded: bool = False) -> list[str]:
    """Search tokens: jieba's search-mode words (so 产业链 also yields 产业) and lower-case English words."""
    if not folded:
        text = fold(text)
    tokens: list[str] = []
    for m in _WORD.finditer(text):
        piece = m.group(0)
        if _HAN_RUN.fullmatch(piece):
            for word in _tokenizer().cut_for_search(piece, HMM=True):
                if word not in _STOP:
                    tokens.append(word)
        elif piece not in _STOP:
            tokens.append(piece)
    return tokens


# Words that name the kind of answer rather than its content ("which principles" is answered by 人民至上,
# not by 原则): they count for little when judging whether a text addresses the question.
TYPE_WORDS = frozenset(
    "原则 要求 举措 措施 提法 方面 情况 内容 问题 事项 期待 看法 态度 部署 安排 意见 做法 方法 办法 "
    "提出 明确 强调 指出 表示 认为 说 讲 谈 看待 怎么样 需要 应该 应当 做 进行 开展 具体 主要 重点 哪方面 "
    "报道 报导 媒体 发 发布 出版 刊登 刊发 出自 来自 发表 本文 文章 新闻 举行 召开 举办 日期 时间 "
    "讨论 提到 谈到 涉及 提及 关于 有关 相关 说法 规定 决定 结论 结果 目标 任务 作用 意义 目的".split()
)
TYPE_WORD_WEIGHT = 0.25


def words_with_parts(folded: str) -> list[tuple[str, list[str]]]:
    """Content words of a (folded) question in reading order, each with its jieba search-mode sub-words."""
    out: list[tuple[str, list[str]]] = []
    for m in _WORD.finditer(folded):
        piece = m.group(0)
        if not _HAN_RUN.fullmatch(piece):
            if piece not in _STOP:
                out.append((piece, []))
            continue
        for word in _tokenizer().cut(piece, HMM=True):
            if word in _STOP or word in QUESTION_WORDS:
                continue
            parts = [w for w in _tokenizer().cut_for_search(word, HMM=True) if len(w) >= 2 and w != word]
            out.append((word, parts))
    return out


# Interrogatives and fillers that jieba keeps whole in precise mode.
QUESTION_WORDS = frozenset(
    "什么 哪些 哪个 哪位 哪天 哪一天 哪家 哪方面 多少 几 怎样 怎么 如何 为何 为什么 是否 有没有 有何 何 "
    "谁 吗 呢 么 这次 此次 本次 一下 请问 是不是 了 什么样 这篇 这份 该 哪家 哪里 来 由 被 给 向 跟 同 "
    "会上 会中 当时 一些 这些 那些 啥 何时 何日 何地 何人 几时 哪年 几月 几号 多久".split()
)

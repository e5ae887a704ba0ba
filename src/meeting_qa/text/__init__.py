"""Text handling: cleaning, script folding, segmentation and tokenizing."""

from meeting_qa.text.clean import CleanResult, clean_paragraph
from meeting_qa.text.fold import detect_language, fold, to_script
from meeting_qa.text.segment import split_clauses, split_sentences
from meeting_qa.text.tokenize import tokenize

__all__ = [
    "CleanResult",
    "clean_paragraph",
    "detect_language",
    "fold",
    "split_clauses",
    "split_sentences",
    "to_script",
    "tokenize",
]

"""Text encodings of received records, detected by charset-normalizer rather than tried in a fixed order.

A fixed order fails silently: GB18030 decodes almost any byte string, so a Big5 or cp1252 file used to be
stored as wrong characters without a word. Instead every encoding records plausibly arrive in is scored
(how chaotic the decoded text looks, how coherent for a language) and the best one is used; when none
decodes the bytes cleanly the file is refused, naming the encodings tried.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from meeting_qa.errors import LoaderError

# 20 MB of Chinese minutes is some 120,000 passages (the sample: 47 from 8.3 kB), about 15 minutes to embed at
# ~130 passages/s on 2 cores. Larger files are almost always exports of many meetings, better split (or given
# as .jsonl, one per line).
MAX_FILE_BYTES = 20 * 1024 * 1024

# Python codec names of the encodings records plausibly arrive in, Chinese first: when a short text decodes
# equally well in two of them, the earlier one is used. Big5-HKSCS is the superset of Big5 that also holds
# the pinyin letters annotated pages carry; UTF-16/32 need a BOM.
ENCODINGS = ("utf_8", "utf_16", "utf_32", "gb18030", "big5hkscs", "cp1252", "shift_jis", "euc_kr")
# Share of "chaotic" decoded text (charset-normalizer's mess ratio) above which a decoding is not trusted.
MAX_CHAOS = 0.1
# Decodings whose mess ratios are this close are rivals: only language coherence may choose between them.
CHAOS_MARGIN = 0.05
# This many rival decodings at once means noise, not text (see `decode`).
MAX_RIVALS = 2

_DISPLAY = {
    "utf_8": "UTF-8",
    "utf_16": "UTF-16",
    "utf_32": "UTF-32",
    "gb18030": "GB18030",
    "big5hkscs": "Big5",
    "cp1252": "cp1252",
    "shift_jis": "Shift-JIS",
    "euc_kr": "EUC-KR",
}
_BOMS = ((b"\xef\xbb\xbf", "utf_8"), (b"\xff\xfe\x00\x00", "utf_32"), (b"\x00\x00\xfe\xff", "utf_32"))
_BOMS_16 = ((b"\xff\xfe", "utf_16"), (b"\xfe\xff", "utf_16"))


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # display name, e.g. "UTF-8 (BOM)", "Big5", "GB18030"


def read_bytes(path: Path) -> bytes:
    """A file's bytes, refused when unreadable or over the size limit (the message names the file)."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LoaderError(
                f"{path}: file is {size // 2**20} MiB, over the {MAX_FILE_BYTES // 2**20} MiB limit", path=str(path)
            )
        return path.read_bytes()
    except OSError as e:
        raise LoaderError(f"{path}: cannot read ({e.strerror})", path=str(path)) from None


def _bom(data: bytes) -> str | None:
    # UTF-32's little-endian BOM starts with UTF-16's: check the longer marks first.
    for mark, codec in (*_BOMS, *_BOMS_16):
        if data.startswith(mark):
            return codec
    return None


def decode(data: bytes, source: str) -> Decoded:
    """Decode a text file's bytes with the best-scoring plausible encoding, or refuse with a clear message."""
    from charset_normalizer import from_bytes

    tried = ", ".join(_DISPLAY[e] for e in ENCODINGS)
    bom = _bom(data)
    if bom is not None:
        try:
            text = data.decode({"utf_8": "utf-8-sig", "utf_16": "utf-16", "utf_32": "utf-32"}[bom])
        except UnicodeDecodeError:
            raise LoaderError(
                f"{source}: starts with a {_DISPLAY[bom]} byte-order mark but is not valid {_DISPLAY[bom]}",
                path=source,
            ) from None
        return Decoded(text, f"{_DISPLAY[bom]} (BOM)")
    if not data.strip():
        return Decoded(data.decode("ascii", errors="replace"), "ASCII")
    if b"\x00" in data[:4096]:
        raise LoaderError(
            f"{source}: looks like a binary file, not text (UTF-16/32 text needs a byte-order mark)", path=source
        )
    try:
        return Decoded(data.decode("utf-8"), "UTF-8" if not data.isascii() else "ASCII")
    except UnicodeDecodeError:
        pass  # not UTF-8: score the legacy encodings
    results = list(from_bytes(data, cp_isolation=list(ENCODINGS)))
    results = [r for r in results if r.chaos <= MAX_CHAOS]
    if not results:
        raise LoaderError(
            f"{source}: cannot tell its text encoding with confidence (tried {tried}); "
            "save it as UTF-8 and ingest it again",
            path=source,
        )
    best = min(results, key=lambda r: (r.chaos, -r.coherence))
    rivals = [r for r in results if r.chaos <= best.chaos + CHAOS_MARGIN and str(r) != str(best)]
    if rivals and best.coherence <= max(r.coherence for r in rivals):
        # Other encodings read it about as well, into other characters, and no language tips the balance.
        if len(rivals) >= MAX_RIVALS:
            # Random bytes read "cleanly" in most multi-byte encodings at once; real text in one rarely
            # does in two others. Guessing here is how mojibake gets stored without a word.
            names = ", ".join(_DISPLAY.get(r.encoding, r.encoding) for r in [best, *rivals])
            raise LoaderError(
                f"{source}: cannot tell its text encoding with confidence (it reads equally well as {names}; "
                f"tried {tried}); save it as UTF-8 and ingest it again",
                path=source,
            )
        # Too little text for a language to show (one line of Big5 is also clean Shift-JIS; of GBK, EUC-KR):
        # the encoding this genre's records come in first.
        best = min([best, *rivals], key=lambda r: ENCODINGS.index(r.encoding) if r.encoding in ENCODINGS else 99)
    return Decoded(str(best), _DISPLAY.get(best.encoding, best.encoding))


def read_text(path: Path) -> Decoded:
    """Read and decode a text file (see `decode`)."""
    return decode(read_bytes(path), str(path))

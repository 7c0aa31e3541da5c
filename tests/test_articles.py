import datetime as dt
from pathlib import Path

import pytest

from errors import ContentError
from knowledge_base.articles import load_articles, parse_article
from knowledge_base.checks import check_content

TODAY = dt.date(2026, 11, 21)

GOOD = """---
id: vneid-demo
topic: vneid
lang: vi
title: Bài mẫu
questions:
  - câu hỏi một
  - cau hoi hai
  - câu hỏi ba
  - câu hỏi bốn
  - câu hỏi năm
sources:
  - https://dichvucong.gov.vn
last_verified: 2026-11-20
---
Trả lời ngắn gọn.

## Các bước
1. Mở ứng dụng.
2. Bấm **Đăng ký**.
   Nếu không thấy nút, kéo xuống.
3. Xong.

## Lưu ý
- Không chia sẻ OTP.
"""


def write(root: Path, lang: str, topic: str, name: str, text: str) -> Path:
    path = root / lang / topic / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_parses_summary_steps_and_sections() -> None:
    article, problems = parse_article(Path("vi/vneid/vneid-demo.md"), GOOD, today=TODAY)
    assert problems == []
    assert article is not None
    assert article.summary == "Trả lời ngắn gọn."
    assert article.steps == ("Mở ứng dụng.", "Bấm **Đăng ký**.\nNếu không thấy nút, kéo xuống.", "Xong.")
    assert article.sections[0].heading == "Lưu ý"
    assert article.last_verified == dt.date(2026, 11, 20)


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        (("title: Bài mẫu\n", ""), "title", "missing"),
        (("topic: vneid", "topic: banking"), "topic", "'banking' is not one of"),
        (("https://dichvucong.gov.vn", "http://dichvucong.gov.vn"), "sources", "not an https URL"),
        (("last_verified: 2026-11-20", "last_verified: 2027-01-01"), "last_verified", "in the future"),
        (("last_verified: 2026-11-20", "last_verified: soon"), "last_verified", "not a date"),
        (("  - câu hỏi năm\n", ""), "questions", "at least 5"),
        (("2. Bấm", "4. Bấm"), "steps", "expected 2"),
        (("id: vneid-demo", "id: other-name"), "id", "must match the file name"),
        (("lang: vi\n", "lang: vi\nauthor: me\n"), "author", "not a known field"),
    ],
)
def test_each_problem_names_the_file_and_field(change: tuple[str, str], field: str, fragment: str) -> None:
    path = Path("knowledge_base/articles/vi/vneid/vneid-demo.md")
    article, problems = parse_article(path, GOOD.replace(*change), today=TODAY)
    assert article is None
    rendered = [str(p) for p in problems]
    assert any(str(path) in r and f": {field}: " in r and fragment in r for r in rendered), rendered


def test_broken_yaml_reports_the_line() -> None:
    broken = GOOD.replace("title: Bài mẫu", "title: [Bài mẫu")
    _, problems = parse_article(Path("x/vneid-demo.md"), broken, today=TODAY)
    assert problems and problems[0].field == "front matter" and "invalid YAML" in problems[0].message
    assert problems[0].line is not None and problems[0].line > 1


def test_missing_front_matter_is_a_clear_problem() -> None:
    _, problems = parse_article(Path("x.md"), "just text", today=TODAY)
    assert "must start with '---'" in str(problems[0])


def test_loader_collects_problems_from_every_file(tmp_path: Path) -> None:
    write(tmp_path, "vi", "vneid", "vneid-demo", GOOD)
    write(
        tmp_path,
        "vi",
        "vneid",
        "vneid-two",
        GOOD.replace("id: vneid-demo", "id: vneid-two").replace("sources:\n  - https://dichvucong.gov.vn\n", ""),
    )
    write(tmp_path, "en", "vneid", "vneid-demo", GOOD.replace("lang: vi", "lang: vi"))
    with pytest.raises(ContentError) as error:
        load_articles(tmp_path, today=TODAY)
    text = str(error.value)
    assert "vneid-two.md: sources: is missing" in text
    assert "en/vneid/vneid-demo.md: lang: 'vi' but the file is in the 'en' folder" in text


def test_kb_check_finds_missing_translation_and_shared_phrasing(tmp_path: Path) -> None:
    root = tmp_path / "articles"
    write(root, "vi", "vneid", "vneid-demo", GOOD)
    write(root, "vi", "vneid", "vneid-copy", GOOD.replace("id: vneid-demo", "id: vneid-copy"))
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "test.yml").write_text(
        "- q: Cau hoi mot\n  kind: no_diacritics\n  expect: [vneid-demo]\n", encoding="utf-8"
    )
    problems, _ = check_content(tmp_path, today=TODAY)
    text = "\n".join(str(p) for p in problems)
    assert "'vneid-demo' has no 'en' version" in text
    assert "is also a question of 'vneid-copy'" in text or "is also a question of 'vneid-demo'" in text
    assert "is copied from" in text  # evaluation questions must be unseen


def test_shipped_knowledge_base_passes_all_checks() -> None:
    root = Path(__file__).resolve().parent.parent / "knowledge_base"
    problems, summary = check_content(root)
    assert problems == [], "\n".join(map(str, problems))
    assert "80 articles" in summary


def test_kb_check_validates_evaluation_items(tmp_path: Path) -> None:
    write(tmp_path / "articles", "vi", "vneid", "vneid-demo", GOOD)
    write(tmp_path / "articles", "en", "vneid", "vneid-demo", GOOD.replace("lang: vi", "lang: en"))
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "test.yml").write_text(
        "- q: quen mat khau\n  kind: typo\n  expect: [vneid-demo]\n"
        "- q: quen passcode\n  kind: no_diacritics\n  expect: [vneid-nope]\n"
        "- q: thoi tiet\n  kind: off_topic\n  expect: maybe\n",
        encoding="utf-8",
    )
    text = "\n".join(str(p) for p in check_content(tmp_path, today=TODAY)[0])
    assert "test.yml: item 1.kind: 'typo' is not one of" in text
    assert "test.yml: item 2.expect: unknown article id(s) vneid-nope" in text
    assert "test.yml: item 3.expect: must be a list of article ids or 'fallback'" in text

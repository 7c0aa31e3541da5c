import datetime as dt
from pathlib import Path

import pytest

from errors import ContentError
from knowledge_base.articles import load_articles, parse_article
from knowledge_base.checks import RETIRED_NAMES, bundled_join, check_content

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


def test_kb_check_refuses_versions_with_different_numbers_of_steps(tmp_path: Path) -> None:
    en = GOOD.replace("lang: vi", "lang: en").replace("3. Xong.\n", "")
    problems, _ = check_content(_content(tmp_path, GOOD, en), today=TODAY)
    (error,) = [str(p) for p in problems if not p.warning]
    assert "'vneid-demo' has 3 steps in vi and 2 steps in en" in error and "same steps" in error


def test_shipped_knowledge_base_passes_all_checks() -> None:
    root = Path(__file__).resolve().parent.parent / "knowledge_base"
    problems, summary = check_content(root)
    errors = [p for p in problems if not p.warning]  # warnings are for review and do not fail the check
    assert errors == [], "\n".join(map(str, errors))
    assert "81 articles" in summary


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


def _content(tmp_path: Path, vi: str, en: str | None = None) -> Path:
    write(tmp_path / "articles", "vi", "vneid", "vneid-demo", vi)
    write(tmp_path / "articles", "en", "vneid", "vneid-demo", en or GOOD.replace("lang: vi", "lang: en"))
    return tmp_path


@pytest.mark.parametrize(
    ("old", "new", "phrase"),
    [
        ("Trả lời ngắn gọn.", "Nộp hồ sơ lý lịch tư pháp ở Sở Tư pháp.", "Sở Tư pháp"),
        ("3. Xong.", "3. Đến UBND huyện nơi bạn ở.", "UBND huyện"),
        ("3. Xong.", "3. Hỏi Ủy ban nhân dân quận.", "Ủy ban nhân dân quận"),
        ("- Không chia sẻ OTP.", "- Hỏi Phòng Tư pháp nếu cần.", "Phòng Tư pháp"),
        ("- Không chia sẻ OTP.", "- Trình báo Công an huyện.", "Công an huyện"),
        ("Trả lời ngắn gọn.", "Bộ Thông tin và Truyền thông khuyến cáo.", "Bộ Thông tin và Truyền thông"),
        ("title: Bài mẫu", "title: Bằng lái do Sở Giao thông vận tải cấp", "Sở Giao thông vận tải"),
    ],
)
def test_kb_check_refuses_retired_authority_names(tmp_path: Path, old: str, new: str, phrase: str) -> None:
    broken = GOOD.replace(old, new)
    assert broken != GOOD
    problems, _ = check_content(_content(tmp_path, broken), today=TODAY)
    errors = [str(p) for p in problems if not p.warning and "retired authority" in p.message]
    assert len(errors) == 1, errors
    assert "vi/vneid/vneid-demo.md:" in errors[0]  # the file and its line
    assert f"'{phrase}' is a retired authority name (" in errors[0]
    assert " instead" in errors[0] and "write " in errors[0]  # what replaced it


def test_retired_names_are_allowed_where_they_are_not_retired(tmp_path: Path) -> None:
    allowed = GOOD.replace(
        "Trả lời ngắn gọn.",
        # Sở Tư pháp still exists: only criminal records left it. A sentence may say what changed.
        "Sở Tư pháp chứng thực giấy tờ. Từ 1/3/2025 không còn đến UBND huyện nữa.",
    ).replace("  - câu hỏi năm", "  - đến UBND huyện làm gì")  # citizens may still ask with the old name
    problems, _ = check_content(_content(tmp_path, allowed), today=TODAY)
    assert [str(p) for p in problems if not p.warning] == []


def test_retired_source_is_refused_only_in_its_context(tmp_path: Path) -> None:
    record = GOOD.replace("Trả lời ngắn gọn.", "Cấp phiếu lý lịch tư pháp.").replace(
        "  - https://dichvucong.gov.vn", "  - https://dichvucong.gov.vn\n  - https://moj.gov.vn"
    )
    text = "\n".join(str(p) for p in check_content(_content(tmp_path, record), today=TODAY)[0])
    assert "sources: 'moj.gov.vn' is a retired authority name" in text


def test_quiz_correct_answer_may_not_name_a_retired_office_but_a_wrong_option_may(tmp_path: Path) -> None:
    _content(tmp_path, GOOD)
    quiz = """topic: vneid
questions:
  - id: vneid-q90
    article: vneid-demo
    difficulty: easy
    final: false
    answer: {answer}
    vi:
      question: Phiếu lý lịch tư pháp do ai cấp?
      options: [Sở Tư pháp, Cơ quan công an, Ngân hàng]
      explanation: Từ 1/3/2025 do công an cấp.
    en:
      question: Who issues criminal record certificates?
      options: [The Department of Justice, The police, A bank]
      explanation: Since 1 March 2025, the police.
"""
    (tmp_path / "quizzes").mkdir()
    (tmp_path / "quizzes" / "vneid.yml").write_text(quiz.format(answer="B"), encoding="utf-8")
    assert [str(p) for p in check_content(tmp_path, today=TODAY)[0] if not p.warning] == []
    (tmp_path / "quizzes" / "vneid.yml").write_text(quiz.format(answer="A"), encoding="utf-8")
    text = "\n".join(str(p) for p in check_content(tmp_path, today=TODAY)[0])
    assert "vneid.yml:" in text and "vneid-q90.vi.options (the correct one): 'Sở Tư pháp' is a retired" in text
    assert "vneid-q90.en.options (the correct one): 'Department of Justice' is a retired" in text


def test_every_retired_name_says_why_and_what_replaced_it() -> None:
    for name in RETIRED_NAMES:
        assert name.reason and name.replaced_by, name.phrase


@pytest.mark.parametrize(
    ("step", "lang", "join"),
    [
        ("Nộp lệ phí trực tuyến và ghi lại mã hồ sơ.", "vi", "và"),
        ("Bấm **Gửi** rồi ghi lại mã phản ánh.", "vi", "rồi"),
        ("Vào **dichvucong.gov.vn**, bấm **Đăng nhập** và chọn tài khoản VNeID.", "vi", "và"),
        ("Pay the fee online and write down the dossier code.", "en", "and"),
        ("Check everything, then tap **Gửi** (Send).", "en", "then"),
        ("Install the app and then open it.", "en", "and then"),
        # Next to each kind of pair that is one motion, a true pair that still is two:
        ("Mở ứng dụng và bấm **Mở tài khoản**.", "vi", "và"),  # only the log-in button goes with opening
        ("Bấm vào ô **Tìm kiếm** và chọn đúng thủ tục.", "vi", "và"),  # the box, then something else
        ("Bấm **Thêm người lưu trú** rồi nhập thông tin của từng người.", "vi", "rồi"),  # a button, not a box
        ("Nhập thông tin theo yêu cầu và xác nhận bằng mã OTP.", "vi", "và"),  # confirming is a second entry
        ("Bấm **Khóa thẻ** và xác nhận.", "vi", "và"),  # a plain confirm goes with typing, not with a tap
        ("Chọn **Cài đặt và quyền riêng tư**, rồi chọn **Cài đặt**.", "vi", "rồi"),  # outside the label
        ("Tap **Download and install** and enter your passcode.", "en", "and"),
        ("Tap the **Search** box and choose the right procedure.", "en", "and"),
    ],
)
def test_a_step_with_two_actions_is_flagged(step: str, lang: str, join: str) -> None:
    assert bundled_join(step, lang) == join


@pytest.mark.parametrize(
    ("step", "lang"),
    [
        ("Nhập **số định danh cá nhân** và **mật khẩu** của bạn.", "vi"),  # "và" joins nouns
        ("Tích hợp giấy phép lái xe và đăng ký xe.", "vi"),  # "đăng ký xe" is a document
        ("Mở ứng dụng **VNeID** và đăng nhập.", "vi"),  # opening and logging in are one motion
        ("Nhập mã đó vào ứng dụng, rồi bấm **Xác nhận**.", "vi"),  # typing and confirming it
        ("Chờ vài phút rồi bấm **Gửi lại mã**.", "vi"),  # waiting is not an action
        ("Bấm và giữ biểu tượng ứng dụng.", "vi"),  # press and hold
        ("Enter your ID number and password.", "en"),
        ("Choose the type of certificate and type of delivery.", "en"),
        ("Open the **VNeID** app and log in.", "en"),
        ("Wait for the download to finish, then tap **Open**.", "en"),
        ("Tap and hold the app icon.", "en"),
        ("Mở ứng dụng và bấm **Đăng nhập**.", "vi"),  # opening and pressing its log-in button
        ("Open the app and choose **Log in** (**Đăng nhập**).", "en"),
        ("Bấm vào ô **Tìm kiếm** và gõ chữ **VNeID**.", "vi"),  # tapping into a box and typing in it
        ("Tap the **Search** box and type **VNeID**.", "en"),
        ("Gõ mật khẩu Wi-Fi cho đúng, rồi bấm **Kết nối**.", "vi"),  # typing and its confirm button
        ("Type the Wi-Fi password exactly, then tap **Connect** (on iPhone: **Join**).", "en"),
        ("Nhập mã OTP gửi về số điện thoại, rồi xác nhận.", "vi"),  # typing and confirming it
        ("Enter the OTP code sent to your phone, then confirm.", "en"),
        ("Gmail: chọn thẻ **Bảo mật** (có phiên bản ghi **Bảo mật và đăng nhập**).", "vi"),  # a button's name
        ("If a new version is available, tap **Download and install**.", "en"),
    ],
)
def test_a_step_with_one_action_is_not_flagged(step: str, lang: str) -> None:
    assert bundled_join(step, lang) is None


def test_kb_check_warns_about_a_bundled_step_without_failing(tmp_path: Path) -> None:
    bundled = GOOD.replace("3. Xong.", "3. Nộp lệ phí và ghi lại mã hồ sơ.")
    problems, _ = check_content(_content(tmp_path, bundled), today=TODAY)
    assert [p for p in problems if not p.warning] == []
    (warning,) = [str(p) for p in problems if p.warning]
    assert "vi/vneid/vneid-demo.md:" in warning and ": warning: step 3: " in warning
    assert "two actions joined by 'và'" in warning and "split it" in warning

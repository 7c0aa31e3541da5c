"""Rendering the core's replies as Telegram HTML: escaping, bold, keyboards and long-text splitting."""

from __future__ import annotations

import html
import re

from bot.messages import Button, Link, Reply
from channels.telegram_render import MAX_TEXT, note_html, render, render_reply, to_html, utf16_len


def _visible(html_text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def test_special_characters_are_escaped_and_bold_is_rendered() -> None:
    text = "Nhập <mã> & bấm **Tiếp tục** *không phải* _nghiêng_ a<b>c</b>"
    rendered = to_html(text)
    assert rendered == ("Nhập &lt;mã&gt; &amp; bấm <b>Tiếp tục</b> *không phải* _nghiêng_ a&lt;b&gt;c&lt;/b&gt;")
    assert _visible(rendered) == "Nhập <mã> & bấm Tiếp tục *không phải* _nghiêng_ a<b>c</b>"


def test_a_full_reply_renders_title_steps_sections_sources_and_buttons() -> None:
    reply = Reply(
        title="**Đăng ký VNeID**",
        text="Tóm tắt",
        steps=("Mở ứng dụng", "Chọn <Đăng ký>"),
        sections=(("Lưu ý", "Không gửi OTP"),),
        sources=(Link("dichvucong.gov.vn", "https://dichvucong.gov.vn/a?b=1&c=2"),),
        buttons=((Button("▶️ Làm từng bước", "1:st:vneid-register:0"),), (Button("👍", "1:fb:x:+"),)),
    )
    [message] = render_reply(reply, "vi")
    assert message.html.startswith("<b>Đăng ký VNeID</b>\n\nTóm tắt\n\n<b>1.</b> Mở ứng dụng")
    assert "Chọn &lt;Đăng ký&gt;" in message.html
    assert '<a href="https://dichvucong.gov.vn/a?b=1&amp;c=2">dichvucong.gov.vn</a>' in message.html
    assert "Nguồn: https://dichvucong.gov.vn/a?b=1&c=2" in message.plain
    assert message.keyboard is not None
    rows = message.keyboard.inline_keyboard
    assert rows[0][0].callback_data == "1:st:vneid-register:0" and len(rows) == 2


def test_long_replies_split_at_paragraphs_with_buttons_on_the_last_part() -> None:
    paragraphs = tuple((f"Mục {i}", ("Nội dung <quan trọng> & dài. " * 30).strip()) for i in range(20))
    reply = Reply(title="**Bài dài**", sections=paragraphs, buttons=((Button("👍", "1:fb:x:+"),),))
    messages = render_reply(reply, "vi")
    assert len(messages) > 1
    assert all(utf16_len(m.html) <= MAX_TEXT for m in messages)
    assert [m.keyboard is not None for m in messages] == [False] * (len(messages) - 1) + [True]
    for m in messages:  # every part is balanced HTML: a paragraph is never cut inside a tag
        assert m.html.count("<b>") == m.html.count("</b>")
    joined = "\n\n".join(_visible(m.html) for m in messages)
    for heading, body in paragraphs:
        assert f"{heading}\n{body}" in joined


def test_a_single_huge_paragraph_is_cut_at_spaces_and_nothing_is_lost() -> None:
    text = "&&&& " * 3000  # escaping makes it five times longer
    messages = render([Reply(text=text)], "vi")
    assert len(messages) > 1 and all(utf16_len(m.html) <= MAX_TEXT for m in messages)
    assert "".join(_visible(m.html) for m in messages).replace(" ", "") == "&&&&" * 3000


def test_emoji_count_as_two_units_toward_the_limit() -> None:
    messages = render([Reply(text="😀" * 3000)], "vi")
    assert len(messages) == 2 and all(utf16_len(m.html) <= MAX_TEXT for m in messages)


def test_oversized_callback_data_is_dropped_rather_than_failing_the_send() -> None:
    reply = Reply(text="x", buttons=((Button("ok", "1:a:x"), Button("bad", "1:" + "x" * 80)),))
    [message] = render_reply(reply, "en")
    assert message.keyboard is not None
    assert [b.text for b in message.keyboard.inline_keyboard[0]] == ["ok"]


def test_notes_for_volunteers_are_escaped_too() -> None:
    [note] = note_html("💬 **Lan:** a < b & c")
    assert note.html == "💬 <b>Lan:</b> a &lt; b &amp; c"

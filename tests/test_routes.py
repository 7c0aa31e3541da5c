"""Routing as data: every command, button verb and intent has exactly one handler, listed in bot/routes.py,
and the menus people see are generated from that table."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import actions, broadcast_chat, routes, stats_chat
from bot.actions import Verb
from bot.messages import UserMessage
from bot.people import ADMIN, VOLUNTEER, Region
from hocvu.app import App
from hocvu.config import Settings
from knowledge_base.articles import load_articles
from knowledge_base.evalset import load_eval
from knowledge_base.topics import TOPICS
from language.normalize import normalize
from nlu.engine import INTENTS
from tests.conftest import Chat
from tests.support.learning_support import learning_app

REPO = Path(__file__).resolve().parent.parent
RETRIEVAL_INTENTS = {"ask_question", "out_of_scope"}  # answered from the knowledge base, not by a handler


@pytest.fixture(scope="module")
def app(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    data = tmp_path_factory.mktemp("routes")
    app = learning_app(settings, data, f"sqlite:///{data / 'hocvu.db'}")
    yield app
    assert app.database is not None
    app.database.dispose()


def test_every_button_verb_has_its_one_handler() -> None:
    assert set(routes.BUTTONS) == set(Verb)


def test_every_intent_is_handled_or_goes_to_retrieval() -> None:
    assert set(routes.INTENTS) <= set(INTENTS)
    assert set(INTENTS) - set(routes.INTENTS) == RETRIEVAL_INTENTS


def test_command_names_are_unique_and_valid_for_messenger_menus() -> None:
    names = [name for c in routes.COMMANDS for name in (c.name, *c.aliases)]
    assert len(names) == len(set(names))
    assert all(name.isascii() and name.islower() and name.isalnum() and len(name) <= 32 for name in names)
    assert all(1 <= len(c.vi) <= 256 and 1 <= len(c.en) <= 256 for c in routes.COMMANDS)


def test_fixed_phrases_are_named_once_and_handled_in_handlers() -> None:
    names = [p.name for p in routes.PHRASES]
    assert len(names) == len(set(names))
    assert not set(names) & set(INTENTS) - {"stop"}  # not an NLU intent: they are matched before NLU
    assert all(p.handler.__module__ == "bot.handlers" for p in routes.PHRASES)
    assert all(p.folded or p.marked for p in routes.PHRASES)


def test_no_article_phrasing_or_evaluation_question_is_taken_by_a_fixed_phrase() -> None:
    # The fixed phrases answer before the knowledge base is searched: one that matches a way of asking an article
    # hides the article ("trên mấy điện thoại" folded is "tren may dien thoai", "mày điên": an insult).
    # The evaluation sets' in-scope questions too (people's wordings: "...even if they find out his password" once
    # read as asking for someone's password).
    kb = load_articles(REPO / "knowledge_base" / "articles")
    asked = [(article.id, said) for article in kb for said in (article.title, *article.questions)]
    for name in ("dev.yml", "test.yml"):  # not independent.yml: it is only ever reported
        items, _ = load_eval(REPO / "knowledge_base" / "eval" / name, kb)
        asked += [(item.expect[0], item.question) for item in items if item.expect]
    taken = [
        (article, said, phrase.name)
        for article, said in asked
        if (phrase := routes.phrase(normalize(said)) or routes.official(normalize(said)))
    ]
    assert taken == []


def test_no_module_outside_the_tables_dispatches_on_a_verb_or_a_command_name() -> None:
    """The if-chains the tables replaced must not grow back."""
    offenders = []
    for path in (REPO / "bot").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) and node.left.attr == "verb":
                offenders.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Compare) and any(
                isinstance(c, ast.Constant) and isinstance(c.value, str) and c.value.startswith("/")
                for c in node.comparators
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_help_lists_every_topic_and_every_menu_command(app: App, lang: str) -> None:
    chat = Chat(app, f"help-{lang}")
    chat.say("/lang")
    chat.press("Tiếng Việt" if lang == "vi" else "English")
    text = chat.say("/help").plain_text()
    for topic in TOPICS:
        assert topic.name(lang) in text
    for command in routes.COMMANDS:
        assert (f"/{command.name} " in text) == (command.audience == routes.EVERYONE), command.name
        if command.audience == routes.EVERYONE:
            assert command.summary(lang)[1:] in text


@pytest.mark.parametrize(
    ("role", "sees", "heading"),
    [
        (VOLUNTEER, {"stats", "broadcast"}, "Lệnh dành cho tình nguyện viên"),
        (
            ADMIN,
            {"stats", "broadcast", "approvals", "approve", "reject", "promote", "demote", "roles"},
            "quản trị viên",
        ),
    ],
)
def test_help_shows_volunteers_and_admins_their_commands_too(app: App, role: str, sees: set[str], heading: str) -> None:
    user = f"help-{role}"
    assert app.assistant.people is not None
    app.assistant.people.store.set_role(f"telegram:{user}", role, Region(), "test", datetime.now(UTC))
    text = Chat(app, user, channel="telegram").say("/help").plain_text()
    assert heading in text
    listed = {line.split()[0].lstrip("/") for line in text.splitlines() if line.startswith("/")}
    everyone = {c.name for c in routes.COMMANDS if c.audience == routes.EVERYONE}
    assert listed == everyone | ({c.name for c in routes.COMMANDS if c.audience != routes.EVERYONE} & sees)
    assert "/stats số liệu của địa bàn" in text
    if role == VOLUNTEER:
        assert "/approve" not in text and "/promote" not in text


def test_the_messengers_command_menu_is_the_citizens_commands() -> None:
    names = [name for name, _ in routes.menu("vi")]
    assert names == [c.name for c in routes.COMMANDS if c.audience == routes.EVERYONE]
    assert {"start", "help", "quiz", "subscribe", "unsubscribe", "profile"} <= set(names)
    assert not {"stats", "broadcast", "approvals", "approve", "reject", "promote", "demote", "roles"} & set(names)


@pytest.mark.parametrize(
    ("command", "intent"),
    [
        ("/start", "greet"),
        ("/help", "help"),
        ("/quiz", "start_quiz"),
        ("/progress", "progress"),
        ("/review", "review"),
        ("/cert", "certificates"),
        ("/subscribe", "subscribe"),
        ("/unsubscribe", "unsubscribe"),
        ("/lang", "change_language"),
        ("/volunteer", "talk_to_volunteer"),
        ("/end", "end_handover"),
        ("/deletemydata", "delete_data"),
        ("/xoadulieu", "delete_data"),
        ("/QUIZ@hocvu_bot", "start_quiz"),
        ("/nosuchcommand", "unknown_command"),
    ],
)
def test_each_command_reaches_its_handler_in_the_users_language(app: App, command: str, intent: str) -> None:
    user = f"cmd-{command.strip('/').lower()}"
    chat = Chat(app, user)
    chat.say("làm sao để cài ứng dụng VNeID")  # a Vietnamese user: commands answer in Vietnamese
    response = chat.say(command)
    assert response.intent == intent
    assert response.lang == "vi", "a command word is not a language"
    assert "internal_error" not in response.warnings
    assert response.plain_text().strip()


def test_every_command_in_the_table_is_answered(app: App) -> None:
    for command in routes.COMMANDS:
        response = app.assistant.handle(UserMessage("test", f"every-{command.name}", text=f"/{command.name}"))
        assert "internal_error" not in response.warnings, command.name
        assert response.intent not in (None, "unknown_command"), command.name


def test_a_button_from_another_version_or_with_an_unknown_verb_is_stale(app: App) -> None:
    for payload in ("0:a:vneid-activate", "1:zz:1", "1:", "garbage"):
        response = app.assistant.handle(UserMessage("test", "stale", action=payload, kind="action"))
        assert response.intent == "stale_button", payload
    assert actions.decode(actions.encode(Verb.ARTICLE, "x")).verb is Verb.ARTICLE


@pytest.mark.parametrize(
    ("said", "handler"),
    [
        # Written for the chat's /broadcast and /stats ...
        ("gửi bài học cho bà con trong xã", broadcast_chat.start),
        ("gui tin nhan canh bao xuong ca dia ban", broadcast_chat.start),
        ("broadcast", broadcast_chat.start),
        ("thống kê", stats_chat.stats),
        ("tỷ lệ người dân có kỹ năng số", stats_chat.stats),
        ("so lieu cua xa", stats_chat.stats),
        ("digital skills rate", stats_chat.stats),
        # ... and for the role answers they replaced: the same handlers, from the same table.
        ("phát thông báo cho toàn xã", broadcast_chat.start),
        ("dang bai hoc cho nguoi dang ky", broadcast_chat.start),
        ("phat song bai hoc", broadcast_chat.start),
        ("send our lessons to everyone", broadcast_chat.start),
        ("cho tôi số liệu thống kê người dân đã học trong xã", stats_chat.stats),
        ("bao nhiêu người đã dùng bot", stats_chat.stats),
        ("tình hình bà con sử dụng", stats_chat.stats),
        ("báo cáo tháng trước", stats_chat.stats),
        ("show me the statistics for my commune", stats_chat.stats),
        ("how many people use it", stats_chat.stats),
        ("gửi bài hướng dẫn cho các hộ gia đình trong thôn", broadcast_chat.start),
        ("xem các câu hỏi bà con hỏi mà bot chưa trả lời", stats_chat.stats),
        ("the questions nobody could answer", stats_chat.stats),
        ("show me the unanswered questions", stats_chat.stats),
        ("bao nhiêu phần trăm người dân trong phường có kỹ năng số", stats_chat.stats),
        ("gửi ngay bài cảnh báo lừa đảo cho bà con trong thôn", broadcast_chat.start),
        # A citizen reporting to the police is not broadcasting.
        ("gửi tin nhắn báo lừa đảo cho công an xã", None),
        # A scam reported is online safety, not figures; a citizen's own question unanswered is not figures either.
        ("báo cáo cuộc gọi lừa đảo", None),
        ("câu hỏi của tôi chưa được trả lời", None),
        ("ket qua ban gui cho toi co dung khong", None),
        ("kết quả của cả bản", stats_chat.stats),
    ],
)
def test_figures_and_broadcasts_asked_for_in_words_are_one_table(said: str, handler: object) -> None:
    found = routes.official(normalize(said, "vi"))
    assert (found.handler if found else None) is handler
    assert not {broadcast_chat.start, stats_chat.stats} & {p.handler for p in routes.FLOWS + routes.PHRASES}

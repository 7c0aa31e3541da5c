"""Where every command, button and intent is handled: the one table to look in.

The core takes a message through these in order (bot/assistant.py:Assistant._route): the guard, then a
command or a button, then an open flow (a talk with a volunteer, a quiz waiting for its answer), then the
NLU's intent, then retrieval. The Telegram command menu and /help are generated from COMMANDS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import handlers
from bot.actions import Verb
from bot.messages import Response
from bot.turn import Turn

if TYPE_CHECKING:
    from bot.assistant import Assistant

Handler = Callable[["Assistant", Turn], Response]
IntentHandler = Callable[["Assistant", Turn], Response | None]  # None: not for this turn, try retrieval


@dataclass(frozen=True)
class Command:
    name: str  # typed as /name
    handler: Handler
    vi: str  # the menu's description in Vietnamese
    en: str  # and in English
    aliases: tuple[str, ...] = ()
    audience: str = "everyone"  # who may use it; volunteers' and officials' commands arrive with their roles
    menu: bool = True  # listed in the messenger's command menu and in /help

    def summary(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


# In menu order.
COMMANDS: tuple[Command, ...] = (
    Command("start", handlers.start, "Bắt đầu, chọn ngôn ngữ", "Start and choose a language"),
    Command("help", handlers.show_help, "Tôi giúp được gì", "What I can do"),
    Command("quiz", handlers.quiz, "Làm bài trắc nghiệm", "Take a quiz"),
    Command("progress", handlers.progress, "Xem tiến độ học", "Your learning progress"),
    Command("review", handlers.review, "Ôn tập câu cần nhớ", "Review what you missed"),
    Command(
        "cert", handlers.certificates, "Chứng chỉ của tôi, kiểm tra mã chứng chỉ", "My certificates, verify a code"
    ),
    # Answered, but not offered until they work (they arrive with broadcasts).
    Command("subscribe", handlers.not_available, "Nhận bài học hằng ngày", "Get daily lessons", menu=False),
    Command("unsubscribe", handlers.not_available, "Ngừng nhận bài học", "Stop daily lessons", menu=False),
    Command("lang", handlers.choose_language, "Đổi ngôn ngữ", "Change language"),
    Command("volunteer", handlers.talk_to_volunteer, "Gặp người hỗ trợ", "Talk to a volunteer"),
    Command("end", handlers.end_handover, "Kết thúc trò chuyện với người hỗ trợ", "End the talk with a volunteer"),
    Command("deletemydata", handlers.delete_data, "Xoá dữ liệu của tôi", "Delete my data", aliases=("xoadulieu",)),
)

BUTTONS: dict[Verb, Handler] = {
    Verb.ARTICLE: handlers.article_button,
    Verb.STEP: handlers.step_button,
    Verb.ALL_STEPS: handlers.all_steps_button,
    Verb.FEEDBACK: handlers.feedback_button,
    Verb.LANGUAGE: handlers.language_button,
    Verb.QUIZ_ANSWER: handlers.quiz_answer_button,
    Verb.QUIZ_START: handlers.quiz_start_button,
    Verb.DELETE: handlers.delete_button,
    Verb.HANDOVER: handlers.end_handover,
    Verb.HOLDER_NAME: handlers.holder_name_button,
}

# The NLU intents the core acts on (nlu/engine.py:INTENTS lists them all). ask_question and out_of_scope,
# and any intent below the confidence threshold, go to retrieval (handlers.answer).
INTENTS: dict[str, IntentHandler] = {
    "greet": handlers.greet,
    "goodbye": handlers.goodbye,
    "thanks": handlers.thanks,
    "help": handlers.show_help,
    "start_quiz": handlers.start_quiz,
    "quiz_answer": handlers.quiz_answer,
    "next_step": handlers.step,
    "previous_step": handlers.step,
    "repeat_step": handlers.step,
    "show_all_steps": handlers.step,
    "subscribe": handlers.not_available,
    "unsubscribe": handlers.not_available,
    "change_language": handlers.change_language,
    "talk_to_volunteer": handlers.talk_to_volunteer,
    "feedback_positive": handlers.feedback,
    "feedback_negative": handlers.feedback,
    "progress": handlers.progress,
    "review": handlers.review,
    "delete_data": handlers.delete_data,
}


def menu(lang: str) -> list[tuple[str, str]]:
    """(name, description) of every command offered in the menu and /help, in order."""
    return [(c.name, c.summary(lang)) for c in COMMANDS if c.menu]


_BY_NAME = {name: command for command in COMMANDS for name in (command.name, *command.aliases)}


def command(name: str) -> Command | None:
    """The command typed as /name (or /name@botname), case-insensitively."""
    return _BY_NAME.get(name.split("@")[0].lstrip("/").lower())

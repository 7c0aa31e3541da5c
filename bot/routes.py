"""Where every command, button and intent is handled: the one table to look in.

The core takes a message through these in order (bot/assistant.py:Assistant._route): the guard, then a
command or a button (COMMANDS, BUTTONS), then a stop word from a subscribed user ("DỪNG", "HỦY", "STOP":
bot/profiles.py), then a talk with a volunteer, then the fixed phrases (PHRASES: emergencies, what the
assistant declines, insults, "thôi", "không biết"), then an open flow (the /profile question, a quiz waiting
for its answer), then the NLU's intent (INTENTS), then retrieval. The Telegram command menu and /help are
generated from COMMANDS.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot import broadcast_chat, handlers, stats_chat
from bot.actions import Verb
from bot.messages import Response
from bot.turn import Turn
from language.normalize import NormalizedText, core_phrase

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
    Command("subscribe", handlers.subscribe, "Đăng ký nhận bài học", "Get lessons by topic"),
    Command("unsubscribe", handlers.unsubscribe, "Ngừng nhận bài học", "Stop lessons"),
    Command("profile", handlers.profile, "Nơi ở, nhóm tuổi của tôi", "Where I live, my age group", aliases=("noio",)),
    Command("lang", handlers.choose_language, "Đổi ngôn ngữ", "Change language"),
    Command("volunteer", handlers.talk_to_volunteer, "Gặp người hỗ trợ", "Talk to a volunteer"),
    Command("end", handlers.end_handover, "Kết thúc trò chuyện với người hỗ trợ", "End the talk with a volunteer"),
    Command("deletemydata", handlers.delete_data, "Xoá dữ liệu của tôi", "Delete my data", aliases=("xoadulieu",)),
    # Administrators' (people.admins in config.yml, or `hocvu users promote`): not in the menu.
    Command("promote", handlers.promote, "Cấp vai trò", "Give a role", audience="admin", menu=False),
    Command("demote", handlers.demote, "Bỏ vai trò", "Remove a role", audience="admin", menu=False),
    Command("roles", handlers.roles, "Danh sách vai trò", "List roles", audience="admin", menu=False),
    # Volunteers' and admins' (bot/broadcast_chat.py, bot/stats_chat.py): not in the citizens' menu.
    Command(
        "broadcast",
        broadcast_chat.start,
        "Gửi bài học, thông báo cho bà con",
        "Send a lesson or a message to subscribers",
        aliases=("guibaihoc",),
        audience="volunteer",
        menu=False,
    ),
    Command(
        "stats",
        stats_chat.stats,
        "Số liệu của địa bàn",
        "Your area's figures",
        aliases=("thongke",),
        audience="volunteer",
        menu=False,
    ),
    Command(
        "approvals", broadcast_chat.approvals, "Tin chờ duyệt", "Texts awaiting approval", audience="admin", menu=False
    ),
    Command("approve", broadcast_chat.approve_command, "Duyệt tin", "Approve a text", audience="admin", menu=False),
    Command("reject", broadcast_chat.reject_command, "Từ chối tin", "Reject a text", audience="admin", menu=False),
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
    Verb.PROFILE: handlers.profile_button,
    Verb.BROADCAST: broadcast_chat.button,
    Verb.SUBSCRIBE: handlers.subscribe_button,
    Verb.UNSUBSCRIBE: handlers.unsubscribe_button,
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
    "subscribe": handlers.subscribe,
    "unsubscribe": handlers.unsubscribe,
    "change_language": handlers.change_language,
    "talk_to_volunteer": handlers.talk_to_volunteer,
    "feedback_positive": handlers.feedback,
    "feedback_negative": handlers.feedback,
    "progress": handlers.progress,
    "review": handlers.review,
    "delete_data": handlers.delete_data,
}


@dataclass(frozen=True)
class Phrase:
    """Words that get a fixed answer before the knowledge base is searched (and before NLU, which would
    read "đau ngực khó thở" as a question and "thôi" as goodbye).

    `folded` patterns match the message without diacritics, so they match however it is typed; `marked`
    ones match it as typed, diacritics kept, for words that are ambiguous without them ("cháy" is not
    "chạy", "dừng" is not "đúng"). Patterns are regular expressions matched on whole words, on the
    message lower-cased with abbreviations expanded ("ko" → "không"). `whole`: the message must be the
    phrase alone (polite particles aside), not merely contain it. `unless` (folded): words that make the
    message a question for the knowledge base after all ("bị cướp tài khoản Zalo" is online safety).
    """

    name: str  # the intent journaled for it
    handler: IntentHandler  # None: not for this turn (e.g. "không biết" with no quiz open), go on
    folded: tuple[str, ...] = ()
    marked: tuple[str, ...] = ()
    whole: bool = False
    unless: tuple[str, ...] = ()
    _compiled: tuple[re.Pattern[str] | None, re.Pattern[str] | None, re.Pattern[str] | None] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        def compile_(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
            if not patterns:
                return None
            body = "|".join(f"(?:{p})" for p in patterns)
            return re.compile(rf"^(?:{body})$" if self.whole else rf"(?<!\w)(?:{body})(?!\w)")

        object.__setattr__(self, "_compiled", (compile_(self.folded), compile_(self.marked), compile_(self.unless)))

    def matches(self, folded: str, marked: str) -> bool:
        by_folded, by_marked, unless = self._compiled
        if self.whole:
            folded, marked = core_phrase(folded), core_phrase(marked)
        found = (by_folded is not None and by_folded.search(folded)) or (
            by_marked is not None and by_marked.search(marked)
        )
        return bool(found) and not (unless is not None and unless.search(folded))


# Online words: with them, robbery or theft is about an account or a phone, which the knowledge base covers.
_ONLINE = (
    r"tai khoan|zalo|facebook|messenger|app|ung dung|vneid|mat khau|otp|ma xac (?:thuc|nhan)|online|tren mang|"
    r"ngan hang|the atm|the ngan hang|vi dien tu|chuyen khoan|dien thoai|sim|account|password|bank|phone|hack\w*"
)

# In order: the first that matches answers. Emergencies first, whatever else the message says.
PHRASES: tuple[Phrase, ...] = (
    Phrase(
        "emergency_medical",
        handlers.emergency_medical,
        folded=(
            r"dau (?:that |tuc |nhoi )?nguc",
            r"tuc nguc",
            r"kho tho",
            r"khong tho (?:duoc|noi)",
            r"ngat xiu",
            r"ngat lim",
            r"bat tinh",
            r"dot quy",
            r"tai bien (?:mach mau nao)?",
            r"nhoi mau",
            r"len con dau tim",
            r"meo mieng",
            r"liet nua nguoi",
            r"co giat",
            r"chay (?:rat )?nhieu mau|chay mau (?:nhieu|khong cam|khong ngung)",
            r"ngo doc",
            r"soc phan ve",
            r"(?:goi|xe|can|so|di) cap cuu",
            r"chest pains?",
            r"heart attack",
            r"(?:can ?not|can t|cant|could ?n t) breathe?",
            r"(?:difficulty|trouble) breathing",
            r"short(?:ness)? of breath",
            r"unconscious",
            r"(?:having|had) a stroke",
            r"ambulance",
            r"bleeding (?:heavily|a lot)",
            r"overdose",
            r"seizure",
        ),
    ),
    Phrase(
        "emergency_fire",
        handlers.emergency_fire,
        folded=(
            r"dam chay",
            r"hoa hoan",
            r"chay nha",
            r"nha (?:toi |tui |minh |em |bac |con |chau |hang xom |ben canh )?(?:bi |dang )chay",
            r"no (?:binh )?(?:ga|gas)",
            r"ro ri (?:khi )?(?:ga|gas)",
            r"(?:house|building|kitchen|flat|apartment) (?:is )?on fire",
            r"there is a fire",
            r"gas leak",
            r"fire brigade",
        ),
        marked=(r"cháy", r"chữa cháy", r"cứu hoả|cứu hỏa"),
        unless=(r"chay (?:may|pin|sac)|may (?:bi )?(?:nong|chay)|pin|sac|man hinh|dien thoai|phone|battery",),
    ),
    Phrase(
        "emergency_police",
        handlers.emergency_police,
        folded=(
            r"(?:bi |vua bi |dang bi )cuop",
            r"cuop giat",
            r"an cuop",
            r"(?:co |ke |bi |an )trom",
            r"trom vao nha",
            r"bi (?:danh|hanh hung|tan cong|de doa|theo doi|bat coc)",
            r"danh nhau",
            r"bat coc",
            r"de doa giet",
            r"dam chem",
            r"(?:i was|i m being|i am being|been) (?:robbed|attacked|mugged|assaulted|kidnapped)",
            r"burglar\w*",
            r"break ?in",
        ),
        unless=(_ONLINE, r"lua dao|scam\w*|gia danh|mao danh|danh cap|bi danh (?:la|cua)"),
    ),
    Phrase(
        "decline_private_data",
        handlers.decline_private_data,
        folded=(
            r"(?:tim|tra cuu|tra|xem|lay|xin|biet|cho (?:toi|tui|minh|em|chau|bac|con) (?:xin|biet|xem)|find|look up|"
            r"give me|get|tell me)\b.{0,40}"
            r"(?:so dien thoai|dia chi|thong tin(?: ca nhan)?|so can cuoc|can cuoc(?: cong dan)?|so dinh danh|"
            r"so tai khoan|phone number|address|id number|personal (?:data|information|details)|whereabouts)\b.{0,30}"
            r"(?:cua (?:nguoi khac|nguoi ta|nguoi la|hang xom|ai do|mot nguoi|nguoi nay|nguoi do|"
            r"(?:ong|ba|anh|chi|co|chu|thang|con) (?:ay|kia|nay|do|hang xom))|"
            r"of (?:someone|somebody|another person|other people|a stranger|my neighbou?r|this person)|"
            r"(?:someone|somebody) else s|my neighbou?r s|other people s)",
        ),
    ),
    Phrase(
        "decline_politics",
        handlers.decline_politics,
        folded=(
            r"chinh tri",
            r"tong bi thu",
            r"chu tich nuoc",
            r"bo chinh tri",
            r"dang cong san",
            r"dang vien",
            r"bau cu tong thong",
            r"bieu tinh",
            r"chien tranh",
            r"nhan quyen",
            r"(?:trump|biden|putin|tap can binh)",
            r"politic\w*",
            r"communist party",
            r"presidential election",
            r"war in \w+",
        ),
        marked=(r"đảng",),
    ),
    Phrase(
        "decline_religion",
        handlers.decline_religion,
        folded=(
            r"ton giao",
            r"tin nguong",
            r"dao (?:phat|thien chua|tin lanh|hoi|cong giao|cao dai|hoa hao)",
            r"phat giao|cong giao|thien chua giao|hoi giao",
            r"duc phat|chua gie ?su|duc chua troi|duc me",
            r"kinh thanh",
            r"religio\w*",
            r"(?:does )?god exist",
            r"(?:buddhis|christian|islam|catholic)\w*",
            r"jesus|allah|buddha",
        ),
        marked=(r"đi chùa", r"nhà thờ", r"đi lễ", r"ông trời"),
    ),
    Phrase(
        "insult",
        handlers.insult,
        folded=(
            r"(?:do|may|bot|tro ly|con bot|thang bot|mi|tao) (?:ngu|ngoc|dan|dien|oc cho|vo dung|vo tich su)",
            r"ngu (?:qua|the|vay|vl|vcl|nhu bo|nhu cho|ngoc|si)",
            r"^(?:ngu|ngu ngoc|ngu si|do ngu)$",
            r"oc cho",
            r"vcl|vkl|vl|dmm|dcm|dkm|dm|clgt|cc gi",
            r"stupid|idiot\w*|dumb|moron|shut up|fuck\w*|shit|bullshit|you suck|you are useless",
        ),
        marked=(r"đồ điên", r"cút(?: đi)?", r"đéo", r"địt\w*", r"mẹ mày"),
    ),
    Phrase(
        "my_certificates",
        handlers.certificates,
        folded=(
            r"chung chi (?:cua )?(?:toi|tui|em|minh|bac|con|chau|tao|ba|ong|co|chu)",
            r"chung chi(?: \w+){0,4} (?:cua (?:toi|tui|em|minh|bac|con|chau)|(?:o |nam o |de o |cat o )?dau roi|o dau)",
            r"(?:xem|lay|tai|in|mo|nhan|tim|gui) (?:lai )?(?:cai |tam )?chung chi",
            r"(?:where|show|see|get|view|list|download|find)\b.{0,25}\bmy (?:quiz |course |learning )?certificates?",
            r"my (?:quiz |course |learning )?certificates?",
        ),
        # A code to check (the tutor verifies it), deleting one's data, or another kind of certificate ("chứng chỉ hành nghề")
        unless=(
            r"\bhv(?: [a-z2-7]{8}){1,3}|xoa|delete|remove|wipe|"
            r"chung chi (?:hanh nghe|tieng|tin hoc|so|ngoai ngu|quy hoach|xay dung|ky)",
        ),
    ),
    Phrase(
        "stop",
        handlers.stop,
        folded=(
            r"(?:thoi )?(?:toi |tui |em |bac |con |chau |minh )?khong (?:hoi|hoc|lam|can)(?: bai)? nua",
            r"thoi(?: (?:khoi|bo qua|khong hoi nua|nghi|de sau|khong can|khong lam nua|khong hoc nua))?",
            r"khoi(?: can)?",
            r"dung lai|thoi dung|ngung lai|ngung",
            r"huy(?: bo)?",
            r"stop(?: it| this| the quiz)?|cancel|enough|never mind|nevermind|forget it|quit|exit",
        ),
        marked=(r"dừng(?: lại| đi| nhé| thôi)?",),
        whole=True,
    ),
    Phrase(
        "dont_know",
        handlers.dont_know,
        folded=(
            r"(?:toi |tui |em |bac |con |chau |minh )?(?:khong|chua) (?:biet|ro|hieu|chac)(?: nua| a| cau nay)?",
            r"chiu(?: thoi| roi)?",
            r"(?:i )?(?:don t|dont|do not) know|no idea|not sure|skip",
            r"bo qua",
        ),
        whole=True,
    ),
)


def phrase(text: NormalizedText) -> Phrase | None:
    """The first of PHRASES that the message says, if any."""
    marked = " ".join(text.clean.split())
    return next((p for p in PHRASES if p.matches(text.folded, marked)), None)


def menu(lang: str) -> list[tuple[str, str]]:
    """(name, description) of every command offered in the menu and /help, in order."""
    return [(c.name, c.summary(lang)) for c in COMMANDS if c.menu]


_BY_NAME = {name: command for command in COMMANDS for name in (command.name, *command.aliases)}


def command(name: str) -> Command | None:
    """The command typed as /name (or /name@botname), case-insensitively."""
    return _BY_NAME.get(name.split("@")[0].lstrip("/").lower())


# What volunteers and officials ask for in words, after the fixed phrases and before any open flow or NLU.
# A citizen who says them is told politely that they are for volunteers, and how to become one.
OFFICIALS: tuple[Phrase, ...] = (
    Phrase(
        "broadcast",
        broadcast_chat.start,
        folded=(
            r"(?:gui|phat|day|chuyen|dang) (?:bai hoc|bai giang|bai|tin nhan|tin|thong bao|canh bao)(?: \w+){0,3} "
            r"(?:cho|toi|den|xuong)(?: \w+){0,4} (?:xa|phuong|thon|ap|khu pho|to dan pho|ba con|nguoi dan|dia ban)",
            r"broadcast\w*",
            r"send (?:a |the |this )?(?:lesson|message|announcement)s? to (?:the |my |all )?"
            r"(?:commune|ward|village|citizens|residents|subscribers)",
        ),
    ),
    Phrase(
        "stats",
        stats_chat.stats,
        folded=(
            r"thong ke",
            r"ty le (?:nguoi (?:dan )?)?(?:co )?ky nang so",
            r"so lieu (?:cua |ve )?(?:xa|phuong|tinh|dia ban|ky nang so)",
            r"statistics|digital skills? (?:share|rate|figures)",
        ),
        unless=(r"lua dao|scam\w*",),
    ),
)


def official(text: NormalizedText) -> Phrase | None:
    """The first of OFFICIALS that the message says, if any."""
    marked = " ".join(text.clean.split())
    return next((p for p in OFFICIALS if p.matches(text.folded, marked)), None)

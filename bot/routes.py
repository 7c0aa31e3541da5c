"""Where every command, button and intent is handled: the one table to look in.

The core takes a message through these in order (bot/assistant.py:Assistant._route): the guard, then a
command or a button (COMMANDS, BUTTONS), then a stop word from a subscribed user ("DỪNG", "HỦY", "STOP":
bot/profiles.py), then a talk with a volunteer, then the fixed phrases (PHRASES: emergencies, what the
assistant declines, insults, "bài tiếp theo" for a lesson on offer, "thôi", "không biết"), then what
volunteers and officials ask for (OFFICIALS: figures, broadcasting), then an open flow (the /profile question,
a quiz waiting for its answer), then what is said about the procedure followed or the answer just read (FLOWS:
"bước 5", "đang ở bước mấy", "chưa hiểu", "quay lại cái lúc nãy", a button's label typed, sharing the bot,
becoming a volunteer; bot/stepmode.py), then a follow-up on the last answer, then the NLU's intent (INTENTS),
then retrieval. The Telegram command menu (everyone's commands) and /help (the commands of the user's role)
are generated from COMMANDS.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot import broadcast_chat, handlers, stats_chat, stepmode
from bot.actions import Verb
from bot.messages import Response
from bot.people import ADMIN, CITIZEN, EVERYONE, VOLUNTEER
from bot.turn import Turn
from language.normalize import NormalizedText, core_phrase

if TYPE_CHECKING:
    from bot.assistant import Assistant

Handler = Callable[["Assistant", Turn], Response]
IntentHandler = Callable[["Assistant", Turn], Response | None]  # None: not for this turn, try retrieval


# Whose commands each role sees in /help: its own and those of the roles below it (a role's commands are
# answered for the others too, politely saying who they are for).
AUDIENCES: dict[str, tuple[str, ...]] = {
    CITIZEN: (EVERYONE,),
    VOLUNTEER: (EVERYONE, VOLUNTEER),
    ADMIN: (EVERYONE, VOLUNTEER, ADMIN),
}


@dataclass(frozen=True)
class Command:
    name: str  # typed as /name
    handler: Handler
    vi: str  # the menu's description in Vietnamese
    en: str  # and in English
    aliases: tuple[str, ...] = ()
    audience: str = EVERYONE  # who may use it: EVERYONE's are the messenger's menu, /help shows each role its own

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
    # Administrators' (people.admins in config.yml, or `hocvu users promote`): in their /help, not in the menu.
    Command("promote", handlers.promote, "Cấp vai trò", "Give a role", audience=ADMIN),
    Command("demote", handlers.demote, "Bỏ vai trò", "Remove a role", audience=ADMIN),
    Command("roles", handlers.roles, "Danh sách vai trò", "List roles", audience=ADMIN),
    # Volunteers' and admins' (bot/broadcast_chat.py, bot/stats_chat.py): in their /help, not in the menu.
    Command(
        "broadcast",
        broadcast_chat.start,
        "Gửi bài học, thông báo cho bà con",
        "Send a lesson or a message to subscribers",
        aliases=("guibaihoc",),
        audience=VOLUNTEER,
    ),
    Command(
        "stats",
        stats_chat.stats,
        "Số liệu của địa bàn",
        "Your area's figures",
        aliases=("thongke",),
        audience=VOLUNTEER,
    ),
    Command("approvals", broadcast_chat.approvals, "Tin chờ duyệt", "Texts awaiting approval", audience=ADMIN),
    Command(
        "approve",
        broadcast_chat.approve_command,
        "Duyệt tin (kèm số tin trong /approvals)",
        "Approve a text (its number from /approvals)",
        audience=ADMIN,
    ),
    Command(
        "reject",
        broadcast_chat.reject_command,
        "Từ chối tin (kèm số tin trong /approvals)",
        "Reject a text (its number from /approvals)",
        audience=ADMIN,
    ),
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
    Verb.FULL_TEXT: handlers.full_text_button,
    Verb.NEXT_LESSON: handlers.next_lesson_button,
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
    max_words: int = 0
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
        if self.max_words and len(folded.split()) > self.max_words:
            return False
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

# Another country's papers ("renew my US driver's license", "xin visa đi Hàn Quốc"): the knowledge base is about
# Vietnam's services, and its nearest article (Vietnam's own licence renewal) would be a confident wrong answer.
# Only a paper of or in that country counts: a Vietnamese passport or driving licence *for* a trip abroad ("làm hộ
# chiếu để đi Hàn Quốc") is Vietnam's, and answered. Folded, only country names that cannot be read as anything
# else ("nhat" is "nhất", "han" is "hạn"): the short ones need their marks, and a preposition ("cập nhật" is no Japan).
_COUNTRY = (
    r"(?:my|the|a|an|in|to|from) (?:us|u s)|usa|united states|america\w*|uk|united kingdom|britain|british|england|"
    r"japan\w*|korea\w*|australia\w*|canad\w*|taiwan\w*|singapore\w*|german\w*|france|french|china|chinese|"
    r"thailand|malaysia\w*|europe\w*|schengen|california|texas|new york|florida|han quoc|nhat ban|dai loan|"
    r"trung quoc|thai lan|hoa ky|anh quoc|chau au|xin ga po|ca na da"
)
_COUNTRY_MARKED = r"mỹ|nhật(?: bản)?|hàn(?: quốc)?|úc|đức|pháp|nga|đài loan|anh quốc|hoa kỳ|trung quốc|thái lan"
# Papers a foreign state issues; a visa is always another country's, the others only when located there.
_VISA = r"visa|thi thuc"
_PAPERS = (
    r"bang lai(?: xe)?|giay phep lai xe|the xanh|the cu tru|quoc tich|dinh cu|thuong tru|giay phep lao dong|"
    r"driver s licen[cs]e|driving licen[cs]e|licen[cs]e|residence (?:card|permit)|work permit|permanent residen\w*|"
    r"citizenship|tax (?:return|number|id)|bank account|bank app|health card|id card|passport"
)
_PAPERS_MARKED = (
    r"bằng lái(?: xe)?|giấy phép lái xe|thẻ xanh|thẻ cư trú|quốc tịch|định cư|thường trú|giấy phép lao động"
)
# Papers and services that exist only abroad: no country needs naming.
_ONLY_ABROAD = r"green card|social security(?: number)?|ssn|dmv|singpass|my number card|kakao ?\w*"

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
            r"collapsed|(?:is |s )?not breathing|stopped breathing|passed out|fainted",
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
            # not "chay xe", "chay cho": typed without marks those are "chạy xe" (riding), "chạy chợ" (going to market)
            r"boc chay|chay (?:to|lon|rung|du doi|bep)",
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
            r"(?:dang )?(?:dap pha|pha hoai|quay pha|dap do)",
            r"danh nhau",
            r"bat coc",
            r"de doa giet",
            r"doa (?:danh|giet|chem)",
            r"(?:is |are |s )?(?:threatening|threatened) (?:me|us|to kill)",
            r"dam chem",
            r"(?:i was|i m being|i am being|been) (?:robbed|attacked|mugged|assaulted|kidnapped)",
            r"burglar\w*",
            r"(?:dang )?(?:cay cua|pha khoa|dot nhap|trom (?:xe|do|tien))",
            r"(?:is|are) (?:stealing|breaking into|robbing|breaking in)|steal\w*(?: \w+){0,5} right now",
            r"break ?in",
        ),
        unless=(_ONLINE, r"lua dao|scam\w*|gia danh|mao danh|danh cap|bi danh (?:la|cua)"),
    ),
    Phrase(
        "decline_private_data",
        handlers.decline_private_data,
        folded=(
            r"(?:tim|tra cuu|tra|xem|lay|xin|biet|cung cap|dua|gui|xuat|cho (?:toi|tui|minh|em|chau|bac|con|tao)(?: (?:xin|biet|xem))?|find|look up|"
            r"give me|get|tell me)\b.{0,40}"
            r"(?:so dien thoai|dia chi|thong tin(?: ca nhan)?|so can cuoc|can cuoc(?: cong dan)?|so dinh danh|"
            r"so tai khoan|tai khoan(?: ngan hang)?|mat khau|phone number|address|id(?: card)? number|personal (?:data|information|details)|whereabouts)\b.{0,30}"
            r"(?:cua (?:nguoi khac|nguoi ta|nguoi la|hang xom|ai do|mot nguoi|nguoi nay|nguoi do|"
            r"(?:ong|ba|anh|chi|co|chu|thang|con) (?:ay|kia|nay|do|hang xom))|"
            # "của con gái ông hàng xóm"; not "của mình gửi cho người khác" (one's own, shared)
            r"cua (?!(?:minh|toi|tui|tao|em)\b)(?:(?!cho\b|gui\b|voi\b)\w+ ){1,3}(?:hang xom|nguoi khac|nguoi ta|nguoi la)|"
            # someone located: "của bà Lan ở xóm 3"
            r"cua (?:ong|ba|anh|chi|co|chu|bac|em|chau|thim|di|cau) \w+ (?:o|tai) (?:thon|xom|ap|to|xa|phuong|ban|khu|so nha|"
            r"duong|ngo)|"
            # someone named: "của ông Trần Văn Bình"
            r"cua (?:ong|ba|anh|chi|co|chu|bac|em|thang|con|chau) (?:nguyen|tran|le|pham|hoang|huynh|phan|vu|vo|dang|bui|"
            r"do|ho|ngo|duong|ly|dinh|trinh|mai|truong|lam|cao|luong|ta|doan)|"
            r"(?:cua )?(?:vo|chong|nguoi yeu|ban gai|ban trai) (?:toi|tui|minh|tao|em)|"
            r"(?:cua )?(?:nguoi dung|nguoi dan|khach hang|tat ca moi nguoi)|"
            r"of (?:someone|somebody|another person|other people|a stranger|my neighbou?r|this person|users|the users)|"
            r"(?:someone|somebody) else s|my neighbou?r s|other people s)",
            r"danh sach (?:so dien thoai|so can cuoc|so cccd|so dinh danh|so tai khoan|mat khau|nguoi dung|nguoi dan|thong tin|"
            r"khach hang|dia chi)",
            r"(?:look up|find|get|give me|tell me|check|send me)(?: \w+){0,3} (?:my neighbou?r s|someone else s|somebody else s|"
            r"another person s|other people s|a stranger s) (?:\w+ ){0,2}(?:phone number|address|"
            r"id(?: card)? number|bank account|password|personal (?:data|information|details))",
            r"(?:list|database) of (?:users|people|citizens|phone numbers)",
            r"xem (?:dum|giup|ho)(?: toi| tui| minh)? (?:vo|chong|nguoi yeu|ban gai|ban trai) (?:toi |tui |minh )?"
            r"(?:chuyen khoan|nhan tin|noi chuyen|di dau|lam gi|gui tien)",
            r"(?:toi |tui )?co (?:tham quyen|quyen han)(?: ma)?",
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
            r"bau cu|ung cu|bau (?:ai|cho ai)|dai bieu quoc hoi",
            r"(?:nghi|danh gia|thay|biet) (?:gi |sao |the nao |nhu the nao )?ve (?:\w+ ){0,2}(?:chinh phu|nha nuoc|chinh quyen|"
            r"lanh dao|quoc hoi)",
            r"(?:bo truong|thu tuong|chu tich nuoc|tong bi thu|lanh dao)(?: \w+){0,5} (?:gioi|kem|tot|te|do|hon)\b",
            r"lanh dao (?:hien nay|dat nuoc|nha nuoc|cap cao|tinh|cac cap)",
            r"bieu tinh",
            r"chien tranh",
            r"nhan quyen",
            r"(?:trump|biden|putin|tap can binh)",
            r"politic\w*",
            r"communist party",
            r"presidential election",
            r"war in \w+",
            r"dang (?:nao|phai|cam quyen)(?: \w+)? (?:tot|dung|hay|manh)",
            r"(?:noi xau|chui|phe phan|chong|che bai) (?:\w+ ){0,2}(?:chinh phu|nha nuoc|chinh quyen|lanh dao|chu tich|bi thu|"
            r"thu tuong|bo truong|quan chuc)",
            r"(?:which|what) (?:political )?party|election|vote for|criticiz\w* the government",
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
            r"dao nao (?:moi |thi |la |dao )*(?:dung|tot|hay|that)",
            r"which (?:religion|faith) is (?:true|right|best)",
        ),
        marked=(r"đi chùa", r"nhà thờ", r"đi lễ", r"ông trời"),
    ),
    Phrase(
        "decline_instructions",
        handlers.decline_instructions,
        folded=(
            r"(?:bo qua|quen|phot lo|khong can theo) (?:\w+ ){0,2}(?:huong dan|chi dan|lenh|quy tac|cai dat)(?: \w+){0,2} "
            r"(?:truoc|tren|cua ban|cu)",
            r"tu (?:gio|bay gio|nay) (?:ban|may|em|tro ly) (?:la|dong vai|hay dong vai)",
            r"(?:dong vai|gia vo la|gia lam) (?:mot |la )?(?:bac si|luat su|hacker|cong an|nguoi khac|ai khac)",
            r"ignore (?:all |any |your |the )?(?:previous |prior |above |earlier )?(?:instructions|prompts?|rules)",
            r"system prompt|jailbreak|developer mode|(?:from now on|pretend) you are|you are now (?:a|an|my)\b",
            r"(?:in ra|cho xem|tiet lo|doc) (?:\w+ ){0,2}(?:prompt|cau lenh he thong|huong dan he thong|cai dat cua ban)",
        ),
    ),
    Phrase(
        "decline_medical",
        handlers.decline_medical,
        folded=(
            r"(?:bi |la |mac )benh gi|benh (?:gi|nay|do) (?:vay|the|a)",
            r"chan doan|co phai (?:\w+ )?(?:bi |mac )?(?:benh \w+|sot xuat huyet|ung thu|tieu duong|dot quy|\w* ?huyet ap|"
            r"viem \w+|cum|covid|suy \w+)",
            r"(?:uong|dung|mua|ke) thuoc (?:gi|nao)|thuoc gi (?:cho|de|thi)",
            r"ke (?:don|toa)(?: thuoc)? (?:cho|giup)|prescri\w*",
            r"chua (?:benh|dau \w+) (?:gi|the nao|sao)",
            r"what (?:disease|illness|sickness) (?:do i|does he|does she|is it)|which (?:medicine|pill|drug)|diagnos\w*",
        ),
    ),
    Phrase(
        "decline_abroad",
        handlers.decline_abroad,
        folded=(
            rf"(?:{_COUNTRY})(?: \w+)? (?:{_VISA}|{_PAPERS})",  # "my US driver's license", "a Korean bank app"
            rf"(?:{_VISA})(?: \w+){{0,3}} (?:(?:of|from|in|for|to|o|tai|ben|cua|di|sang|qua|vao) )?(?:the )?(?:{_COUNTRY})",
            rf"(?:{_PAPERS})(?: \w+){{0,3}} (?:of|from|in|o|tai|ben|cua) (?:the )?(?:{_COUNTRY})",
            _ONLY_ABROAD,
        ),
        marked=(
            rf"(?:visa|thị thực)(?: (?:\w+ ){{0,3}}(?:của|ở|bên|tại|đi|sang|qua|vào|nước))? (?:{_COUNTRY_MARKED})",
            rf"(?:{_PAPERS_MARKED})(?: (?:\w+ ){{0,3}}(?:của|ở|bên|tại|nước))? (?:{_COUNTRY_MARKED})",
            rf"hộ chiếu (?:nước )?(?:{_COUNTRY_MARKED}|nước ngoài)",
            # a bank there, named right after it ("để con ở Hàn Quốc gửi tiền về" is a Vietnamese account)
            rf"(?:tài khoản|app|ứng dụng) ngân hàng (?:của |ở |bên |tại )?(?:{_COUNTRY_MARKED})",
        ),
        unless=(r"vneid|dich ?vu ?cong|dichvucong|cong an",),
    ),
    Phrase(
        "decline_secret",
        handlers.decline_secret,
        folded=(
            # not "gửi lại": "bấm gửi lại" is the app's resend button, said by someone whose code never came
            r"(?:ma )?otp(?: \w+){0,8} (?:doc lai|nhac lai|luu lai|ghi lai|nho giup|giu giup)",
            r"(?:doc lai|nhac lai|luu|giu) (?:giup |ho )?(?:ma )?(?:otp|mat khau)",
            r"(?:de |cho )?(?:toi|tui|minh) gui (?:ma )?(?:otp|mat khau) cho (?:ban|bot|em)",
            r"(?:read|repeat|remember|store|keep) (?:back )?my (?:otp|password|code)",
        ),
        # Someone who has already given a code away needs safe-otp's first steps, not a refusal; someone asking
        # whether to keep a neighbour's password asks for advice the knowledge base gives.
        unless=(
            r"already|to (?:a|the|that) (?:stranger|caller|man|woman|person)|da (?:doc|dua|gui|noi)|nguoi la|"
            r"co nen|nen khong|co duoc khong|duoc khong|co sao khong|should i|is it (?:ok|okay|safe)",
        ),
    ),
    Phrase(
        "decline_harm",
        handlers.decline_harm,
        folded=(
            r"hack\w*(?: \w+){0,2} (?:cua )?(?:nguoi yeu|vo|chong|ban gai|ban trai|hang xom|nguoi khac|someone|my)\b",
            r"(?:cach|chi|day|giup|muon) (?:\w+ )?hack",
            r"(?:dang nhap|vao|doc tin nhan|xem tin nhan)(?: vao)? (?:tai khoan |tk )?(?:zalo|facebook|messenger|email|gmail)?"
            r"(?: \w+){0,2} cua (?:vo|chong|nguoi yeu|ban gai|ban trai|hang xom|nguoi khac|nguoi ta)(?: \w+){0,4} "
            r"(?:ma )?(?:khong can|khong co|khong biet) mat khau",
            r"(?:doc|xem) (?:trom |len )?(?:het )?tin nhan (?:zalo |facebook |messenger )?cua (?!(?:minh|toi|tui|tao|em|ban)\b)\w+",
            r"read (?:his|her|their|my (?:ex )?(?:wife s|husband s|girlfriend s|boyfriend s)) (?:private )?(?:messages|texts|emails)",
            r"(?:log ?in|get) (?:in)?to (?:my )?(?:ex )?(?:wife s|husband s|girlfriend s|boyfriend s|neighbou?r s|someone s|someone else s)"
            r"(?: \w+){0,2} (?:account|zalo|facebook|email)",
            r"(?:lam|tao|viet|lap) (?:app|ung dung|trang web|web|link|trang)(?: \w+){0,3} gia\b",
            r"de lua (?:nguoi|tien|ba con|dao)|lua dao (?:nguoi|ba con) (?:kieu|cach) nao",
            r"how (?:to|do i|can i) hack|make a (?:fake|phishing)|scam (?:people|someone|old people)",
        ),
        unless=(r"bi hack|been hacked|was hacked|got hacked|hacked account|bi lua",),
    ),
    Phrase(
        "insult",
        handlers.insult,
        folded=(
            # "dien thoai" is a phone: "trên mấy điện thoại" folds to "tren may dien thoai".
            r"(?:do|may|bot|tro ly|con bot|thang bot|mi|tao) (?:ngu|ngoc|dan|dien(?! thoai| tu)|oc cho|vo dung|vo tich su)",
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
    # The button of a lesson on offer (bot/offers.py) typed, which a Zalo OA user may do; with nothing on offer,
    # "bài tiếp theo" goes on to step mode's next step.
    Phrase(
        "next_lesson",
        handlers.next_lesson,
        folded=(r"(?:doc |xem |nhan |lay |mo )?bai (?:hoc )?(?:tiep theo|ke tiep|tiep|moi)", r"next lesson"),
        whole=True,
    ),
    Phrase(
        "stop",
        handlers.stop,
        folded=(
            r"(?:thoi )?(?:toi |tui |em |bac |con |chau |minh |ba |ong |tao )?khong (?:hoi|hoc|lam|can)(?: bai)? nua",
            r"thoi(?: (?:khoi|bo qua|khong hoi nua|nghi|de sau|khong can|khong lam nua|khong hoc nua))?",
            r"khoi(?: can)?",
            r"(?:thoi )?(?:dung|ngung) lai|ngung(?: di| nhe| thoi)?|nghi (?:thoi|o day)|thoi (?:dung|ngung)(?: o day| day| nhe| di)?",
            r"huy(?: bo)?",
            r"stop(?: it| this| the quiz)?|cancel|enough|never mind|nevermind|forget it|quit|exit",
        ),
        # "dung" typed without marks is "dừng"; "đúng" (right) typed with them is not.
        marked=(r"dừng(?: lại| đi| nhé| thôi)?", r"dung"),
        whole=True,
    ),
    Phrase(
        "stop_for_now",
        handlers.stop,
        folded=(
            r"khong (?:hoi|hoc|lam|can|muon (?:hoc|lam|hoi))(?: (?:tiep|bai nay|cai nay|them))? nua",
            r"^(?:thoi )?(?:dung|ngung) lai\b|^thoi (?:dung|ngung|khoi|nghi|de sau|de mai)\b",
            r"^thoi (?:\w+ ){0,2}(?:bye|bai bai|tam biet|bien di)$|^(?:cam on )?(?:vay|the|the thi) thoi(?: nhe| nha)?$|"
            r"^(?:thanks |thank you )?(?:that s|thats) all(?: for (?:today|now))?$",
            r"(?:de|hen|xin hen) (?:mai|sau|hom khac|luc khac|bua khac|khi khac|toi)(?: \w+){0,3} (?:lam|hoc|hoi)(?: tiep)?$",
            r"i m done(?: for (?:today|now|tonight))?|(?:that s|thats) (?:enough|all) for (?:today|now)|let s stop|"
            r"(?:i ll|i will) (?:continue|finish|do it|try again) (?:tomorrow|later)|done for (?:today|now)",
        ),
        # "xong, dừng", "đủ rồi, dừng", "dừng ở đây thôi cháu": a message ending on "dừng" (with its marks: "đúng" is
        # agreeing).
        marked=(r"^(?:\w+ ){0,3}dừng(?: lại| ở đây| đi)?(?: thôi| nhé| nha| cháu| con| em| ạ| nhé)*$",),
        # A message this short that names an app or an error is a problem to solve, not a goodbye.
        unless=(
            r"vneid|app|ung dung|tai khoan|dang nhap|mat khau|otp|loi|bao loi|(?:khong|chua) (?:\w+ )?(?:duoc|dc)|error|"
            r"account|password|man hinh|dien thoai|video|cuoc goi|tai xuong|cai dat",
        ),
        max_words=16,
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


# After the open flows (the /profile question, a quiz answer) and before NLU: what the user says about the
# procedure they follow (bot/stepmode.py), a button's label typed, sharing the bot and becoming a volunteer
# (answered for the user's role). In order: the first that matches and whose handler takes the turn answers.
_PLACE = r"(?:xa|phuong|thon|ap|ban|to dan pho|khu pho|dia phuong|commune|ward|village)"
FLOWS: tuple[Phrase, ...] = (
    Phrase(
        "where_am_i",
        handlers.where_am_i,
        folded=(
            r"(?:dang |o |lam |toi |den )+(?:o |den |toi )?buoc (?:may|nao|thu may|bao nhieu|so may|mo)",
            r"buoc (?:may|nao|thu may|so may|mo)(?: roi| vay| the| nhi)*",
            r"where am i|where was i|where were we|which step|what step(?: am i| was i| is this| are we)?",
        ),
        unless=(r"\bhoc\b",),  # "tôi học đến đâu rồi" is /progress
        max_words=10,
    ),
    Phrase(
        "where_am_i", handlers.where_am_i, folded=(r"(?:lam |doc )?(?:den|toi) (?:dau|cho nao)(?: roi)?",), whole=True
    ),
    Phrase("goto_step", handlers.goto_step, folded=stepmode.STEP_PATTERNS, max_words=9),
    Phrase("goto_step", handlers.goto_step, folded=(r"\d{1,2}",), whole=True),
    # Back to a walk-through left for a side question, named or not: "quay lại cái lúc nãy", "tiếp tục bài hướng dẫn
    # hồi nãy", "quay lại bài chuyển tiền bằng QR lúc nãy", "quay lại bài chuyển tiền bằng QR". The handler finds
    # which (bot/stepmode.py: resume_asked); one naming nothing paused is a question, and goes on.
    Phrase(
        "resume",
        handlers.resume,
        folded=(
            rf"(?:quay |tro )?(?:lai|ve|tiep(?: tuc)?) (?:cai|bai|viec|phan|huong dan|thu tuc|cho)? ?(?:{stepmode.EARLIER})",
            rf"(?:{stepmode.BACK})(?: \w+){{1,8}} (?:{stepmode.EARLIER})",
            rf"(?:{stepmode.BACK}) (?:bai|cai|phan|huong dan|thu tuc|viec|the|my|cac buoc|nhung buoc)(?: \w+){{1,8}}",
            r"(?:back|return|go back) to (?:the |my )?(?:previous|earlier|first|other|last) (?:one|procedure|guide|steps|article)",
            r"continue (?:the |my )?(?:previous|earlier|first|other) (?:one|procedure|guide|steps)",
        ),
        # bare "quay lại" is the step before; "quay lại bước trước" too
        unless=(r"^(?:quay lai|tro lai)$|buoc (?:truoc|tiep|sau|nay|do|kia|vua roi)|(?:previous|next|last|this) step",),
        max_words=14,
    ),
    Phrase(
        "not_understood",
        handlers.not_understood,
        folded=(
            r"(?:van |con )?(?:chua|khong) (?:hieu|ro|thay|lam duoc|bam duoc|duoc)(?: gi| chi| dau| lam| lam sao| nut(?: do| nao)?| cho nao| ca| het| nua| roi| a)*",
            r"cham (?:thoi|lai|chut|mot chut|hon|qua)|nhanh qua|(?:noi|giai thich|huong dan|chi) (?:lai )?(?:ro|cham|ky|de hieu)(?: hon| lai| chut| cho| nua)*",
            r"(?:bam|an|cham|lam) (?:roi|xong|vao)(?: roi)? ma (?:khong|chua|van khong) (?:thay|duoc|co|ra|hien)(?: gi| ca| het)*",
            r"khong thay (?:gi|nut)(?: ca| het| xay ra| hien ra| do)*|khong co gi (?:ca|het|xay ra|hien ra)|"
            r"khong hien(?: gi| ra)?|(?:man hinh )?khong (?:giong|nhu) (?:vay|the|tren)",
            r"(?:i )?(?:don t|do not|dont|cannot|can t|cant) (?:understand|get it|see it|see the button|find (?:it|the button))",
            r"(?:too fast|slow(?:er)?(?: down)?(?: please)?|nothing happen(?:s|ed)|it does not work|it didn t work|"
            r"(?:say|explain)(?: it| that)? (?:again )?more (?:clearly|slowly)|what do you mean|i m lost|i am lost)",
        ),
        max_words=9,
    ),
    # The step was done and nothing happened ("bấm vào rồi mà màn hình vẫn y nguyên", "ấn mãi nó cứ đứng im"): the
    # step again with its tips, a person offered the second time; only while a walk-through is open (else a question).
    Phrase(
        "not_understood",
        handlers.step_stuck,
        folded=stepmode.STUCK_PATTERNS,
        marked=(r"(?:bị |cứ |vẫn |nó )?đơ(?: luôn| rồi| máy| màn hình)?",),
        max_words=16,
    ),
    Phrase(
        "step_by_step",
        handlers.typed_step_by_step,
        folded=(
            r"tung buoc(?: mot)?|step by step|one step at a time|(?:cac|the) (?:buoc|steps)|walk me through",
            r"^steps?(?: please| pls)?$|(?:show|give|tell) me (?:the )?steps",
        ),
        unless=(r"tat ca|het|all|toan bo|ca bai|moi buoc|every",),  # "xem tất cả các bước": every step at once
        max_words=12,
    ),
    Phrase(
        "talk_to_volunteer",
        handlers.talk_to_volunteer,
        folded=(
            r"nguoi that|gap (?:nguoi|can bo|tinh nguyen vien)|noi chuyen (?:voi|cung) (?:nguoi|ai|can bo|tinh nguyen vien)",
            r"co ai (?:giup|ho tro|chi|huong dan|lam giup)|nho (?:nguoi|ai|can bo) (?:giup|ho tro|chi|lam)",
            r"(?:talk|speak) (?:to|with) (?:a )?(?:human|person|real person|someone|volunteer)|real person|human (?:agent|being)",
        ),
        unless=(r"lua dao|scam\w*|gia danh|mao danh",),
        max_words=14,
    ),
    Phrase(
        "full_text",
        handlers.typed_full_text,
        folded=(
            r"(?:xem|doc|cho xem) (?:day du|ca bai|toan bo(?: bai)?|het bai|chi tiet|het)|full text|read (?:it )?all|show (?:me )?(?:everything|the full text|it all)",
        ),
        whole=True,
    ),
    Phrase(
        "role_share",
        handlers.role_share,
        folded=(
            r"(?:chia se|gioi thieu|gui|moi|quang ba) (?:cai |con )?(?:bot|tro ly|chatbot|kenh|ung dung) (?:nay|nay cho|cho|toi|den|voi)",
            r"(?:moi|ru) (?:ba con|nguoi dan|hang xom|moi nguoi|nguoi than) (?:dung|tham gia|hoc)(?: bot| tro ly| cai nay)?",
            r"(?:share|recommend|invite \w+ to) (?:this |the )?(?:bot|assistant|chatbot)",
            r"nguoi khac (?:cung )?(?:dung|biet|xai|hoc) (?:bot|tro ly|cai nay|ung dung nay|chatbot)",
            r"(?:gui|chia se|dang) (?:link|duong dan|ma qr)(?: cua)? (?:bot|tro ly|kenh|chatbot)",
            r"(?:link|duong dan|ma qr|qr) (?:cua |den |toi |de vao )?(?:bot|tro ly|chatbot|kenh nay)",
        ),
    ),
    Phrase(
        "role_volunteer",
        handlers.role_volunteer,
        folded=(
            r"(?:lam|tro thanh|dang ky(?: lam)?|muon lam|tham gia|xin lam) (?:tinh nguyen vien|tnv|to cong nghe so|doi tinh nguyen|thanh vien to cong nghe)",
            r"become a volunteer|volunteer sign ?up|sign up (?:as|to be) a volunteer|join (?:as a )?volunteer|how (?:can|do) i volunteer|want to volunteer",
        ),
    ),
)


def phrase(text: NormalizedText) -> Phrase | None:
    """The first of PHRASES that the message says, if any."""
    marked = " ".join(text.clean.split())
    return next((p for p in PHRASES if p.matches(text.folded, marked)), None)


def flow(text: NormalizedText) -> Phrase | None:
    """The first of FLOWS that the message says, if any."""
    marked = " ".join(text.clean.split())
    return next((p for p in FLOWS if p.matches(text.folded, marked)), None)


def menu(lang: str, audience: str = EVERYONE) -> list[tuple[str, str]]:
    """(name, description) of `audience`'s commands, in order; everyone's are the messenger's command menu."""
    return [(c.name, c.summary(lang)) for c in COMMANDS if c.audience == audience]


def commands_for(role: str, lang: str) -> dict[str, list[tuple[str, str]]]:
    """/help's commands for a user with `role`: per audience, everyone's first."""
    return {audience: menu(lang, audience) for audience in AUDIENCES[role]}


_BY_NAME = {name: command for command in COMMANDS for name in (command.name, *command.aliases)}


def command(name: str) -> Command | None:
    """The command typed as /name (or /name@botname), case-insensitively."""
    return _BY_NAME.get(name.split("@")[0].lstrip("/").lower())


# What volunteers and officials ask for in words: figures and broadcasts, after the fixed phrases and before any
# open flow (the /profile question, a quiz), step mode or NLU, so a volunteer's request is taken whatever is
# open. The handlers are /broadcast's and /stats's, which tell a citizen politely that they are for volunteers
# and how to become one. In order: the first that matches answers (sending a text of figures is a broadcast).
OFFICIALS: tuple[Phrase, ...] = (
    Phrase(
        "broadcast",
        broadcast_chat.start,
        folded=(
            r"(?:gui|phat|day|chuyen|dang)(?: luon| ngay| giup| lai)? (?:bai hoc|bai giang|bai|tin nhan|tin|thong bao|canh bao)"
            r"(?: \w+){0,6} (?:cho|toi|den|xuong)(?: \w+){0,6} (?:xa|phuong|thon|ap|khu pho|to dan pho|ba con|nguoi dan|"
            r"dia ban)",
            r"(?:gui|phat|day|dang|chuyen) (?:bai hoc|bai giang|thong bao|canh bao|tin|bai)(?: \w+){0,4} "
            r"(?:cho|toi|den|xuong) (?:ca |toan |tat ca |moi |cac )?(?:"
            + _PLACE[3:-1]
            + r"|nguoi dan|ba con|moi nguoi|hoc vien|nhom|nguoi dang ky|ho(?: dan| gia dinh)?|thue bao|nguoi nhan)",
            r"phat (?:song|tin) (?:bai hoc|thong bao)",
            r"broadcast\w*",
            r"send (?:a |the |this |our )?(?:lesson|message|announcement)s? to (?:the |my |all )?"
            r"(?:commune|ward|village|citizens|residents|everyone|people|users|subscribers)",
        ),
        unless=(r"cho (?:cong an|uy ban|ubnd|chinh quyen|can bo)|to (?:the )?police",),
    ),
    Phrase(
        "stats",
        stats_chat.stats,
        folded=(
            r"thong ke|so lieu|bao cao (?:tuan|thang|quy|nam)(?: truoc| nay| roi)?",
            r"ty le (?:\w+ ){0,3}(?:co |dat )?ky nang so|ty le (?:nguoi|ho|ba con|dan)",
            r"bao nhieu phan tram|phan tram (?:nguoi|dan|ho|ba con)|percentage of|what share of",
            r"bao nhieu (?:nguoi|ho|ba con|nguoi dan|luot)(?: \w+){0,3} (?:da |dang )?"
            r"(?:hoc|dung|dang ky|tham gia|hoan thanh|cai|kich hoat|hoi|su dung|lam xong|lam bai|thi|dat)",
            r"so (?:nguoi|luot|ho)(?: dan)?(?: \w+){0,2} (?:da |dang )?(?:hoc|dung|hoi|dang ky|su dung|tham gia)",
            r"tinh hinh (?:nguoi dan |ba con |moi nguoi )?(?:dung|su dung|hoc|tham gia)",
            r"(?:danh sach|nhung|cac) cau hoi(?: \w+){0,6} (?:chua|khong) (?:\w+ )?(?:tra loi|giai dap)",
            r"cau hoi(?: \w+){0,3} (?:nguoi dan|ba con|moi nguoi)(?: \w+){0,4} (?:chua|khong) (?:\w+ )?(?:tra loi|giai dap)",
            r"unanswered questions|questions (?:nobody|no one|the bot|it) (?:could|couldn t|can t|cannot|did not|didn t)(?: \w+)? answer",
            # "bản" (a village in the north) only as "cả bản", "toàn bản": "kết quả bạn..." is not a report
            r"(?:bao cao|ket qua) (?:cua |cho |ve )?(?:(?:ca |toan )?(?:xa|phuong|thon|ap|to dan pho|khu pho|dia phuong|"
            r"commune|ward|village)|(?:ca|toan) ban)",
            r"statistic\w*|figures|digital skills? (?:share|rate)|how many (?:people|users|citizens|residents)|"
            r"usage (?:numbers|report)|report (?:on|for) (?:my |the )?(?:commune|ward|village)",
        ),
        unless=(r"lua dao|scam\w*|bao cao (?:tin nhan|cuoc goi|so dien thoai|lua)",),
    ),
)


def official(text: NormalizedText) -> Phrase | None:
    """The first of OFFICIALS that the message says, if any."""
    marked = " ".join(text.clean.split())
    return next((p for p in OFFICIALS if p.matches(text.folded, marked)), None)

"""`hocvu kb check`: every rule content must follow, checked across all files at once."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from errors import ContentError
from knowledge_base.articles import LANGS, Article, ContentProblem, KnowledgeBase, load_articles
from knowledge_base.evalset import load_eval
from knowledge_base.learning import Lesson, QuizQuestion, load_lessons, load_quizzes
from language.normalize import fold, to_nfc, tokens


def _key(text: str) -> str:
    return " ".join(tokens(fold(to_nfc(text))))


def check_content(content_dir: Path, *, today: dt.date | None = None) -> tuple[list[ContentProblem], str]:
    """All problems in articles, quizzes, lessons and evaluation sets, and a one-line summary.

    Problems with `warning` set are for a person to review (a step that may bundle two actions);
    every other problem is an error.
    """
    problems: list[ContentProblem] = []
    try:
        kb = load_articles(content_dir / "articles", today=today)
    except ContentError as exc:
        return [
            p for p in exc.problems if isinstance(p, ContentProblem)
        ], ""  # all are: load_articles raises only those
    problems.extend(_check_articles(kb))
    for article in kb:
        problems.extend(_retired_in_article(article))
        problems.extend(_bundled_steps(article))

    quizzes, quiz_problems = load_quizzes(content_dir / "quizzes")
    problems.extend(quiz_problems)
    for question in quizzes.values():
        problems.extend(_retired_in_quiz(question))
    for question in quizzes.values():
        if question.article not in kb:
            problems.append(
                ContentProblem(question.path, f"{question.id}.article", f"'{question.article}' is not an article id")
            )
    lessons, lesson_problems = load_lessons(content_dir / "lessons")
    problems.extend(lesson_problems)
    for lesson in lessons.values():
        problems.extend(_retired_in_lesson(lesson))
        for article_id in lesson.articles:
            if article_id not in kb:
                problems.append(ContentProblem(lesson.path, "articles", f"'{article_id}' is not an article id"))
        for qid in lesson.quiz:
            if qid not in quizzes:
                problems.append(ContentProblem(lesson.path, "quiz", f"'{qid}' is not a quiz question id"))

    phrasings = {_key(q): a for a in kb for q in (*a.questions, a.title)}
    eval_count = 0
    for path in sorted((content_dir / "eval").glob("*.yml")):
        items, eval_problems = load_eval(path, kb)
        problems.extend(eval_problems)
        eval_count += len(items)
        for item in items:
            source = phrasings.get(_key(item.question))
            if source is not None:
                problems.append(
                    ContentProblem(
                        path,
                        f"item {item.number}.q",
                        f"'{item.question}' is copied from {source.path}; evaluation questions must be unseen",
                    )
                )
    summary = f"{len(kb)} articles, {len(kb.articles)} files, {len(quizzes)} quiz questions, {len(lessons)} lessons, {eval_count} evaluation questions"
    return problems, summary


def _check_articles(kb: KnowledgeBase) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    by_id = defaultdict(list)
    for article in kb:
        by_id[article.id].append(article)
    for article_id, versions in by_id.items():
        langs = {a.lang for a in versions}
        for missing in sorted(set(LANGS) - langs):
            problems.append(ContentProblem(versions[0].path, "lang", f"'{article_id}' has no '{missing}' version"))
        topics = {a.topic for a in versions}
        if len(topics) > 1:
            problems.append(
                ContentProblem(
                    versions[0].path,
                    "topic",
                    f"'{article_id}' has different topics across languages: {', '.join(sorted(topics))}",
                )
            )
        # Step mode keeps the user's step number when they switch language mid-procedure.
        counts = {a.lang: len(a.steps) for a in sorted(versions, key=lambda a: a.lang, reverse=True)}
        if len(set(counts.values())) > 1:
            per_lang = " and ".join(f"{n} steps in {lang}" for lang, n in counts.items())
            problems.append(
                ContentProblem(
                    versions[0].path,
                    "steps",
                    f"'{article_id}' has {per_lang}: a user who switches language mid-procedure keeps the step "
                    "number, so every version needs the same steps",
                )
            )
    owner: dict[str, str] = {}
    for article in kb:
        for related in article.related:
            if related not in kb:
                problems.append(ContentProblem(article.path, "related", f"'{related}' is not an article id"))
        for question in article.questions:
            key = _key(question)
            other = owner.setdefault(key, article.id)
            if other != article.id:
                problems.append(
                    ContentProblem(article.path, "questions", f"'{question}' is also a question of '{other}'")
                )
    return problems


# --- Retired authority names -------------------------------------------------------------------------
# Offices that no longer do what an article might send a citizen to them for, after the 2025 reforms.
# A name is refused in what citizens read (titles, short answers, steps, sections, quiz questions, correct
# options and explanations, lessons); question phrasings may keep it, because people still ask with it.
# A sentence that says the change itself ("không còn", "trước đây", "no longer", "formerly"...) may name it.


@dataclass(frozen=True)
class RetiredName:
    phrase: str  # shown in the message
    pattern: re.Pattern[str]
    replaced_by: str
    reason: str
    context: re.Pattern[str] | None = None  # refused only in an article or quiz question that matches this
    in_sources: bool = False  # also refused in an article's `sources`


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


_CRIMINAL_RECORD = _words(r"lý lịch tư pháp", r"LLTP", r"criminal[- ]record", r"judicial record")
_DISTRICT = "since 1 July 2025 local government has two levels, province and commune: there is no district level"

RETIRED_NAMES: tuple[RetiredName, ...] = (
    RetiredName(
        "Sở Tư pháp / Department of Justice (criminal records)",
        _words(
            r"Sở Tư pháp",
            r"Phòng Tư pháp",
            r"(?:provincial |district )?Department of Justice",
            r"Ministry of Justice",
            r"Bộ Tư pháp",
        ),
        "the police (Bộ Công an; công an cấp tỉnh), through VNeID or the police's public service portal",
        "since 1 March 2025 criminal-record certificates are issued by the Ministry of Public Security, "
        "not the justice sector",
        context=_CRIMINAL_RECORD,
    ),
    RetiredName(
        "moj.gov.vn (criminal records)",
        _words(r"(?:[\w-]+\.)*moj\.gov\.vn"),
        "https://dichvucong.bocongan.gov.vn or https://vneid.gov.vn",
        "since 1 March 2025 criminal-record certificates are issued by the Ministry of Public Security",
        context=_CRIMINAL_RECORD,
        in_sources=True,
    ),
    RetiredName(
        "UBND cấp huyện (huyện, quận, thị xã)",
        _words(
            r"(?:UBND|Ủy ban nhân dân|Uỷ ban nhân dân)\s+(?:cấp\s+)?(?:huyện|quận|thị xã)",
            r"district(?:-level)? People'?s Committee",
        ),
        "UBND xã, phường (the commune-level People's Committee) and its Trung tâm Phục vụ hành chính công",
        _DISTRICT,
    ),
    RetiredName(
        "cấp huyện / district level",
        _words(r"cấp huyện", r"district[- ]level", r"district (?:office|authority|authorities)"),
        "the commune level (xã, phường, đặc khu) or the province",
        _DISTRICT,
    ),
    RetiredName(
        "Phòng ... huyện/quận (district offices)",
        _words(
            r"Phòng [\w\s,-]{1,40}? (?:huyện|quận)",
            r"Phòng Tư pháp",
            r"Phòng Lao động\s*-?\s*Thương binh"
            r"(?: và Xã hội)?",
            r"district (?:justice|labour|labor) office",
        ),
        "the commune's offices (UBND xã, phường) or the provincial department",
        _DISTRICT,
    ),
    RetiredName(
        "Công an huyện/quận (district police)",
        _words(r"Công an (?:cấp )?(?:huyện|quận|thị xã)", r"district police"),
        "công an xã, phường (commune police) or công an tỉnh (provincial police)",
        "since 1 March 2025 the police has no district level",
    ),
    RetiredName(
        "Bộ Thông tin và Truyền thông / Ministry of Information and Communications",
        _words(
            r"Bộ Thông tin (?:và|&) Truyền thông",
            r"Bộ TT ?& ?TT",
            r"Bộ TTTT",
            r"Ministry of Information and Communications?",
        ),
        "Bộ Khoa học và Công nghệ (Ministry of Science and Technology)",
        "merged into the Ministry of Science and Technology on 1 March 2025",
    ),
    RetiredName(
        "Bộ Giao thông vận tải / Sở Giao thông vận tải / Ministry of Transport",
        _words(
            r"(?:Bộ|Sở) Giao thông (?:vận tải|Vận tải)", r"Bộ GTVT", r"Sở GTVT", r"(?:Ministry|Department) of Transport"
        ),
        "Bộ Xây dựng / Sở Xây dựng; for driving licences, the traffic police (Bộ Công an)",
        "merged into the Ministry (and departments) of Construction on 1 March 2025; driving licences moved to "
        "the Ministry of Public Security the same day",
    ),
    RetiredName(
        "Bộ Lao động - Thương binh và Xã hội / Ministry of Labour, Invalids and Social Affairs",
        _words(
            r"Bộ Lao động\s*-?\s*Thương binh(?: và Xã hội)?",
            r"Bộ LĐ-?TB ?(?:&|và) ?XH",
            r"Ministry of Labou?r,? Invalids and Social Affairs",
        ),
        "Bộ Nội vụ (Ministry of Home Affairs) for labour and social insurance matters",
        "dissolved on 1 March 2025; its tasks went to the Ministries of Home Affairs, Health and Education",
    ),
    RetiredName(
        "Tổng cục Thuế / General Department of Taxation",
        _words(r"Tổng cục Thuế", r"General Department of Taxation"),
        "Cục Thuế (the Tax Department, Ministry of Finance)",
        "reorganised as the Tax Department (Cục Thuế) on 1 March 2025",
    ),
)

# Words in a sentence that says the name is retired, which may then name it.
_SAYS_RETIRED = _words(
    r"không còn",
    r"trước đây",
    r"trước ngày",
    r"trước kia",
    r"thay cho",
    r"chuyển từ",
    r"chuyển sang",
    r"no longer",
    r"formerly",
    r"previously",
    r"used to",
    r"instead of",
    r"moved from",
    r"until",
)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n")


def _line_of(path: Path, needle: str, *, in_body: bool = False) -> int | None:
    """The first line of `path` containing `needle` (in an article's body, after its front matter)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    start = 0
    if in_body and path.suffix == ".md" and lines and lines[0].strip() == "---":
        start = next((n for n in range(1, len(lines)) if lines[n].strip() == "---"), 0)
    for number in range(start, len(lines)):
        if needle.casefold() in lines[number].casefold():
            return number + 1
    return None


def _retired_problems(
    path: Path, texts: list[tuple[str, str]], sources: tuple[str, ...], whole: str
) -> Iterator[ContentProblem]:
    for name in RETIRED_NAMES:
        if name.context is not None and not name.context.search(whole):
            continue
        fields = [*texts, *((("sources", s) for s in sources) if name.in_sources else ())]
        for field, text in fields:
            for sentence in _SENTENCE.split(text):
                found = name.pattern.search(sentence)
                if found is None or (field != "sources" and _SAYS_RETIRED.search(sentence)):
                    continue
                yield ContentProblem(
                    path,
                    field,
                    f"'{found.group(0)}' is a retired authority name ({name.reason}); write {name.replaced_by} instead",
                    _line_of(path, found.group(0), in_body=field not in ("title", "sources")),
                )


def _article_texts(article: Article) -> list[tuple[str, str]]:
    texts = [("title", article.title), ("short answer", article.summary)]
    texts.extend((f"step {n}", step) for n, step in enumerate(article.steps, start=1))
    texts.extend((f"section '{s.heading}'", s.text) for s in article.sections)
    return texts


def _retired_in_article(article: Article) -> Iterator[ContentProblem]:
    texts = _article_texts(article)
    whole = "\n".join(t for _, t in texts)
    yield from _retired_problems(article.path, texts, article.sources, whole)


def _retired_in_quiz(question: QuizQuestion) -> Iterator[ContentProblem]:
    # Wrong options may name a retired office on purpose: that is what the question teaches.
    texts: list[tuple[str, str]] = []
    for lang, text in question.texts.items():
        where = f"{question.id}.{lang}"
        texts.append((f"{where}.question", text.question))
        if question.answer < len(text.options):
            texts.append((f"{where}.options (the correct one)", text.options[question.answer]))
        texts.append((f"{where}.explanation", text.explanation))
    whole = "\n".join(t for _, t in texts)
    yield from _retired_problems(question.path, texts, (), whole)


def _retired_in_lesson(lesson: Lesson) -> Iterator[ContentProblem]:
    texts: list[tuple[str, str]] = []
    for lang, text in lesson.texts.items():
        texts.append((f"{lang}.title", text.title))
        texts.extend((f"{lang}.messages[{n}]", m) for n, m in enumerate(text.messages, start=1))
    whole = "\n".join(t for _, t in texts)
    yield from _retired_problems(lesson.path, texts, (), whole)


# --- Steps that bundle two actions ------------------------------------------------------------------
# A step is sent on its own to someone following along, so it should ask for one action. Two verbs from a
# small list of distinct actions, joined by "rồi"/"và" ("then"/"and") in one sentence, are flagged for
# review: a warning, not an error, because "và" and "and" mostly join nouns ("số định danh và mật khẩu").
# Pairs that are one motion are not flagged: opening an app or a site and logging in (or pressing its
# log-in button), typing something and confirming it (pressing **Xác nhận**, **Kết nối**... or a plain
# "rồi xác nhận"), tapping into a box and typing in it, and waiting for something before doing it. Words
# inside a bold button name ("**Tải về và cài đặt**") are the button's label, not actions.

_VI_VERBS = (
    "bấm",
    "nhấn",
    "chạm",
    "mở",
    "chọn",
    "nhập",
    "gõ",
    "điền",
    "gửi",
    "tải",
    "cài",
    "chụp",
    "quét",
    "ghi lại",
    "nộp",
    "thanh toán",
    "đăng nhập",
    "đăng ký",
    "kiểm tra",
    "xác nhận",
    "tắt",
    "bật",
    "lắp",
    "tháo",
    "đổi",
    "tạo",
    "đặt",
    "xóa",
    "gỡ",
    "gọi",
    "nhắn",
    "lấy",
    "đánh dấu",
    "đính kèm",
    "chuyển",
    "kéo",
    "vuốt",
    "lưu",
    "sao chép",
    "dán",
    "cập nhật",
    "khóa",
    "vào",
)
_EN_VERBS = (
    "tap",
    "press",
    "click",
    "choose",
    "select",
    "enter",
    "type",
    "fill in",
    "send",
    "download",
    "install",
    "take",
    "scan",
    "write down",
    "submit",
    "pay",
    "open",
    "log in",
    "sign in",
    "register",
    "check",
    "confirm",
    "turn on",
    "turn off",
    "switch",
    "insert",
    "remove",
    "change",
    "create",
    "set",
    "delete",
    "uninstall",
    "call",
    "tick",
    "attach",
    "transfer",
    "drag",
    "swipe",
    "save",
    "copy",
    "paste",
    "update",
    "lock",
    "go to",
    "upload",
)
_VI_WAIT = ("chờ", "đợi")
_EN_WAIT = ("wait",)
# After one of these, logging in is part of the same motion.
_VI_OPEN = ("mở", "vào")
_EN_OPEN = ("open", "go to")
_LOGIN = ("đăng nhập", "log in", "sign in")
_PRESS = r"(?:bấm|nhấn|chạm|chọn|tap|press|click|choose|select)\s+(?:vào\s+|on\s+)?"
# Pressing the log-in button after opening an app or a site is logging in.
_LOGIN_BUTTON = re.compile(rf"{_PRESS}\*\*\s*(?:đăng nhập|log in|sign in)(?!\w)", re.IGNORECASE)
# Pressing the button that confirms what was just typed is part of typing it.
_CONFIRM_BUTTON = re.compile(
    rf"{_PRESS}\**\s*(?:xác nhận|tiếp tục|đồng ý|kết nối|ok|xong|confirm|continue|done|next|connect|join)(?!\w)",
    re.IGNORECASE,
)
_TYPE = ("nhập", "gõ", "điền", "enter", "type", "fill in")
# "rồi xác nhận." / "then confirm.": confirming what was just typed, with nothing else to do.
_BARE_CONFIRM = re.compile(r"(?:xác nhận|confirm)\s*(?:[.,;!]|$)", re.IGNORECASE)
# Tapping into a box or a bar, the last action before the join: typing in it is the same motion.
_INTO_BOX = re.compile(
    r"(?:bấm|nhấn|chạm)\s+vào\s+(?:ô|thanh)\s[^,;]*$|(?:tap|click|press)\s+(?:on\s+|in\s+)?the\s[^,;]*?(?:box|field|bar)\s*$",
    re.IGNORECASE,
)
# A bold span is a button's or a menu's name as the app shows it ("**Tải về và cài đặt**").
_BOLD = re.compile(r"\*\*.+?\*\*")
# A listed verb followed by these words is a noun ("đăng ký xe", vehicle registration; "lưu ý", a note).
_VI_NOUNS = re.compile(r"(?:đăng ký xe|lưu ý|cài đặt|vào đó|vào ô|vào mục)(?!\w)", re.IGNORECASE)


# "the download", "your call": a noun, not an action.
_DETERMINER = re.compile(r"(?<!\w)(?:the|a|an|your|this|that|its)\s+$", re.IGNORECASE)


def _verbs(verbs: tuple[str, ...]) -> str:
    return "|".join(re.escape(v).replace(r"\ ", r"\s+") for v in sorted(verbs, key=len, reverse=True))


_VERB = {
    "vi": re.compile(rf"(?<!\w)(?:{_verbs(_VI_VERBS + _VI_WAIT)})(?!\w)", re.IGNORECASE),
    "en": re.compile(rf"(?<!\w)(?:{_verbs(_EN_VERBS + _EN_WAIT)})(?!\w)", re.IGNORECASE),
}
_JOIN = {
    "vi": re.compile(
        rf"(?<!\w)(rồi|và)\s+(?:(?:mới|hãy|lại|tiếp|cũng|sau đó)\s+)?({_verbs(_VI_VERBS)})(?!\w)", re.IGNORECASE
    ),
    "en": re.compile(rf"(?<!\w)(and then|then|and)\s+(?:(?:also|then)\s+)?({_verbs(_EN_VERBS)})(?!\w)", re.IGNORECASE),
}


def _norm(verb: str) -> str:
    return " ".join(verb.casefold().split())


def _inside(at: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < at < end for start, end in spans)


def bundled_join(step: str, lang: str) -> str | None:
    """The joining word when a sentence of `step` asks for two actions ("Nộp phí và ghi lại mã"), else None."""
    verb_re, join_re = _VERB.get(lang, _VERB["en"]), _JOIN.get(lang, _JOIN["en"])
    waits = _VI_WAIT + _EN_WAIT
    for sentence in _SENTENCE.split(step):
        labels = [m.span() for m in _BOLD.finditer(sentence)]
        for found in join_re.finditer(sentence):
            if _inside(found.start(), labels):
                continue
            second = _norm(found.group(2))
            rest = sentence[found.start(2) :]
            if lang == "vi" and _VI_NOUNS.match(rest):
                continue
            if lang != "vi" and re.match(rf"{re.escape(found.group(2))}\s+of(?!\w)", rest, re.IGNORECASE):
                continue  # "type of document" is not an action
            if _CONFIRM_BUTTON.match(rest):
                continue
            head = sentence[: found.start()]
            before = [
                _norm(v.group(0))
                for v in verb_re.finditer(head)
                if not _DETERMINER.search(head[: v.start()]) and not _inside(v.start(), labels)
            ]
            actions = [v for v in before if v not in waits]
            if not actions:
                continue
            logs_in = second in _LOGIN or _LOGIN_BUTTON.match(rest)
            if logs_in and actions == [actions[0]] * len(actions) and actions[0] in _VI_OPEN + _EN_OPEN:
                continue
            if actions[0] in _TYPE and _BARE_CONFIRM.match(rest):
                continue
            if second in _TYPE and _INTO_BOX.search(_BOLD.sub("X", head).rstrip(" ,")):
                continue
            return found.group(1)
    return None


def _bundled_steps(article: Article) -> Iterator[ContentProblem]:
    for number, step in enumerate(article.steps, start=1):
        join = bundled_join(step, article.lang)
        if join is not None:
            first_line = step.split("\n", 1)[0]
            yield ContentProblem(
                article.path,
                f"step {number}",
                f"may ask for two actions joined by '{join}': split it into two steps, one action each "
                f"({first_line[:60]}{'...' if len(first_line) > 60 else ''})",
                _line_of(article.path, first_line[:40], in_body=True),
                warning=True,
            )

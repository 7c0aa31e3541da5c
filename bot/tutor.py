"""Learning in the chat: quizzes, spaced review, progress, certificates and deleting one's data.

The commands, buttons and intents that reach it are listed in bot/routes.py. Before the NLU, the core also
offers it every text (`on_text`): a typed quiz answer, a certificate code and a typed quiz request
("lam bai kiem tra ve vneid"). Quiz logic is in bot.quiz (pure); what must survive a restart is in the LearningStore.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot import actions, quiz
from bot.certificates import (
    CertificateFacts,
    certificate_png,
    certificate_text,
    describe,
    find_code,
    holder_name,
    image_fingerprint,
    make_code,
    verify_code,
)
from bot.learning import REVOKED_DELETED, CertificateRecord, Issued, LearningStore, QuizSession, UserRef
from bot.messages import Button, Reply
from bot.review import MASTERED_BOX
from bot.signing import SigningKeys, check_short_tag, short_tag
from bot.texts import button_label, t
from knowledge_base.articles import KnowledgeBase
from knowledge_base.learning import Lesson, QuizQuestion
from knowledge_base.topics import TOPIC_IDS, TOPICS, find_topic, get_topic, topic_name
from language.normalize import core_phrase, fold
from nlu.engine import IntentResult

DELETE_CONFIRM_SECONDS = 15 * 60
# What the "delete" button's signature is for: bound to the user, the channel and the moment it was offered,
# so a payload crafted or taken from another chat cannot skip the confirmation.
_DELETE_PURPOSE = b"hocvu-delete-confirmation-v1"
# A name printed on certificates: letters, spaces and the marks names carry; nothing a reader could take
# for anything else ("Đã xác minh: ..." or markup).
_NAME_MARKS = frozenset(" .'-")
_NAME_MAX = 60
# Folded answers to "which name?" that mean "the default one".
_SKIP_NAME = frozenset({"bo qua", "skip", "khong", "ko", "thoi", "mac dinh", "default", "no"})

# Who asks, as people say it ("cho bà làm bài kiểm tra với", "cháu ơi cho các cụ thi thử"), folded.
_ASKER = r"(?:toi|tui|minh|mk|em|ba|ong|bac|con|chau|co|chu|anh|chi|tao|cu|cac cu|cac ba|me|bo|chung toi)"
_QUIZ = re.compile(
    rf"^(?:(?:gio|bay gio|the|vay|roi|ok|oke|con|nay) )?(?:(?:chau|ban|em|con|bot|ad) oi )?"
    rf"(?:(?:cho |de |giup )?{_ASKER} )?(?:(?:muon|can|xin|duoc|cung) )*"
    r"(?:(?:(?:lam|thu|bat dau|choi|start|take|do)\s+)+(?:(?:mot|a|the)\s+)?(?:bai\s+)?|bai\s+)?(?:final\s+)?"
    r"(?P<kind>kiem tra|trac nghiem|thi|quiz|test)\b(?P<rest>.*)$"
)
_DONE = re.compile(r"\b(?:roi|xong)(?: (?:a|nhe|nha|ma|day|do|ma))*$")
_RIDDLE = re.compile(
    r"^(?:(?:ban|chau|em|bot) )?do (?:(?:ba|ong|toi|tui|minh|em|chau|con|bac|me) )?(?:mot |vai )?cau(?: hoi| do)?(?: (?:di|nhe|xem|nao|voi))*$"
    r"|^(?:ask|give) me a (?:quiz )?question$"
)
_FINAL = re.compile(r"\b(?:cuoi khoa|cuoi ky|final|chung chi|certificate)\b")
_FILLER = re.compile(
    r"\b(?:ve|chu de|mon|about|on|me|the|topic|cuoi khoa|cuoi ky|final|lay chung chi|de|of|"
    r"thu|xem|phat|chut|mot chut|cho vui|di|voi|nhe|nha|nao|coi|please|now)\b"
)


@dataclass(frozen=True)
class LearningReply:
    replies: list[Reply]
    intent: str
    forget_user: bool = False  # the user's data was deleted: the core must not store anything for them


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Tutor:
    quizzes: Mapping[str, QuizQuestion]
    lessons: Mapping[str, Lesson]
    kb: KnowledgeBase
    store: LearningStore
    keys: SigningKeys = field(repr=False)
    pass_percent: int  # certificates.pass_percent in config.yml
    final_size: int  # certificates.final_test_questions
    clock: Callable[[], datetime] = _now

    def __post_init__(self) -> None:
        self._by_topic: dict[str, list[QuizQuestion]] = {}
        for question in self.quizzes.values():
            self._by_topic.setdefault(question.topic, []).append(question)

    # -- entry points ------------------------------------------------------------------------------

    def on_text(self, user: UserRef, text: str, lang: str, *, topic_hint: str | None = None) -> LearningReply | None:
        """`topic_hint`: the topic of the article the user just read, for a quiz asked without one."""
        stripped = text.strip()
        folded = " ".join(re.sub(r"[^\w\s\-]", " ", fold(stripped)).split())
        short = core_phrase(folded)
        code = find_code(stripped)
        if code and (
            re.search(r"chung chi|chung nhan|certificate|verify|xac minh|kiem tra", folded) or folded == fold(code)
        ):
            return self._verify(code, lang)
        request = None if says_done(folded) else self._quiz_request(short)
        if request is None and _RIDDLE.match(short):  # "đố bà một câu đi": a question on what was just read
            request = ("topic", "")
        if request is not None:
            kind, ref = request
            return self.start_asked(user, kind, ref, lang, topic_hint=topic_hint)
        waiting = self.store.holder_name(user).waiting_topic
        if waiting is not None:
            answered = self._holder_answer(user, waiting, stripped, short, lang)
            if answered is not None:
                return answered
        session = self.store.open_session(user)
        question = self._current(session)
        if session is not None and question is not None:
            choice = quiz.parse_answer(stripped, question.text(lang).options)
            if choice is not None:
                return self._answer(user, quiz.AnswerEvent(session.id, session.position, choice), lang, session)
        return None

    def start_quiz_intent(
        self, user: UserRef, intent: IntentResult, text: str, lang: str, *, topic_hint: str | None = None
    ) -> LearningReply:
        """The NLU's start_quiz: a lesson or a topic from its entities or the words, else the topic of the article
        just read (`topic_hint`), else the menu."""
        lesson = intent.entity("lesson")
        if lesson is not None and lesson in self.lessons:
            return self.start(user, "lesson", lesson, lang=lang)
        folded = fold(text)
        topic = intent.entity("topic") or find_topic(folded)
        kind = "final" if _FINAL.search(folded) else "topic"
        return self.start_asked(user, kind, topic or "", lang, topic_hint=topic_hint)

    def start_asked(self, user: UserRef, kind: str, ref: str, lang: str, *, topic_hint: str | None) -> LearningReply:
        """A quiz asked for in words ("cho bà làm bài kiểm tra với"). With a topic or a lesson named, that one.
        Without, the quiz starts at once (an elderly user should not have to pick from a menu first, and a
        letter typed next must answer a question): on the topic of the article just read (`topic_hint`), else
        the first topic the user has not mastered yet, with one line saying how to choose another. A final
        test without a topic, where a certificate is at stake, is chosen from the menu unless an article was
        just read."""
        if ref or kind == "lesson":
            return self.start(user, kind, ref, lang=lang)
        why = "quiz_topic_read" if topic_hint in self._by_topic else "quiz_topic_next"
        topic = (
            topic_hint if topic_hint in self._by_topic else None if kind == "final" else self._unmastered_topic(user)
        )
        if topic is None:
            return LearningReply([self._menu(lang)], "start_quiz")
        asks_name = kind == "final" and not self.store.holder_name(user).answered
        started = self.start(user, kind, topic, lang=lang)
        if asks_name:  # the name printed on the certificate is asked first; the test starts after it
            return started
        picked = Reply(text=t(why, lang, topic=topic_name(topic, lang)))
        return LearningReply([picked, *started.replies], started.intent)

    def _unmastered_topic(self, user: UserRef) -> str | None:
        """The first topic (menu order) with a question the user has not mastered and no certificate; None when
        every topic is known."""
        cards = self.store.review_cards(user)
        certified = {r.topic for r in self.store.certificates(user)}
        for topic in TOPICS:
            questions = self._by_topic.get(topic.id, [])
            unmastered = any(q.id not in cards or cards[q.id].box < MASTERED_BOX for q in questions)
            if questions and topic.id not in certified and unmastered:
                return topic.id
        return None

    def quiz_answer_intent(self, user: UserRef, text: str, lang: str) -> LearningReply:
        """The NLU's quiz_answer ("tôi chọn đáp án B") for the open question, if there is one."""
        session = self.store.open_session(user)
        question = self._current(session)
        if session is None or question is None:
            return LearningReply([Reply(text=t("quiz_none_open", lang))], "quiz_answer")
        choice = quiz.parse_answer(text, question.text(lang).options)
        if choice is None:
            return LearningReply([Reply(text=t("answer_unclear", lang)), self._question(session, lang)], "quiz_answer")
        return self._answer(user, quiz.AnswerEvent(session.id, session.position, choice), lang, session)

    def answer_button(self, user: UserRef, action: actions.Action, lang: str) -> LearningReply:
        """qa:<session>:<position>:<choice>."""
        try:
            event = quiz.AnswerEvent(int(action.arg(0)), int(action.arg(1)), int(action.arg(2)))
        except ValueError:
            return self._stale(user, lang)
        return self._answer(user, event, lang, None)

    def start_button(self, user: UserRef, action: actions.Action, lang: str) -> LearningReply:
        """qs:t|f|l:<topic or lesson>, qs:r (review), qs:c (continue the open quiz)."""
        if action.arg(0) == "c":
            return self._resume_or_menu(user, lang, resume_unstarted=True)
        kinds = {"t": "topic", "f": "final", "l": "lesson", "r": "review"}
        kind = kinds.get(action.arg(0))
        if kind is None:
            return self._stale(user, lang)
        if kind == "review":
            return self.review(user, lang)
        return self.start(user, kind, action.arg(1), lang=lang)

    def record_feedback(self, user: UserRef, article_id: str, positive: bool) -> None:
        self.store.record_feedback(user, article_id, positive, self.clock())

    def nudge(self, user: UserRef, lang: str) -> Reply | None:
        """For a user who comes back: the quiz they left unfinished, else the questions due for review."""
        session = self.store.open_session(user)
        if session is not None and self._current(session) is not None:
            return Reply(
                text=t("quiz_unfinished", lang, quiz=quiz.quiz_title(session, lang), n=session.position + 1),
                buttons=((_quiz_button(button_label("continue_quiz", lang), "c"),),),
            )
        due = quiz.due_questions(self.store.review_cards(user), self.quizzes, self.clock(), size=100)
        if not due:
            return None
        return Reply(
            text=t("review_offer", lang, n=len(due)),
            buttons=((_quiz_button(button_label("review", lang), "r"),),),
        )

    def open_question(self, user: UserRef, lang: str) -> Reply | None:
        """The question of the user's open quiz, to show again after an unclear answer; None without one."""
        session = self.store.open_session(user)
        if session is None or session.current not in self.quizzes:
            return None
        return self._question(session, lang)

    def stop(self, user: UserRef) -> bool:
        """ "thôi", "dừng": the open quiz is abandoned and a pending name question dropped. True if a quiz was open."""
        if self.store.holder_name(user).waiting_topic is not None:
            self.store.ask_holder_name(user, None)
        session = self.store.open_session(user)
        if session is None:
            return False
        self.store.abandon(user, session.id)
        return True

    # -- quizzes -----------------------------------------------------------------------------------

    def _quiz_request(self, folded: str) -> tuple[str, str] | None:
        match = _QUIZ.match(folded)
        if match is None:
            return None
        rest = match.group("rest")
        lesson = next((lid for lid in self.lessons if lid in rest), None)
        if lesson:
            return "lesson", lesson
        topic = find_topic(rest)
        leftover = _FILLER.sub(" ", rest)
        named = get_topic(topic or "")
        for word in named.words() if named is not None else ():
            leftover = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", " ", leftover)
        if leftover.strip():  # "kiem tra so du tai khoan" is a question, not a quiz request
            return None
        return ("final" if _FINAL.search(folded) else "topic"), topic or ""

    def cert_command(self, user: UserRef, args: Sequence[str], lang: str) -> LearningReply:
        """/cert: my certificates; /cert <code>: check a code; /cert name [<name> | skip]: the name printed."""
        if [fold(a) for a in args[:1]] in (["name"], ["ten"]):
            return self._name_command(user, args[1:], lang)
        code = find_code(" ".join(args))
        if code:
            return self._verify(code, lang)
        if args:
            return LearningReply([Reply(text=t("cert_invalid", lang))], "verify_certificate")
        return self._my_certificates(user, lang)

    def quiz_command(self, user: UserRef, args: Sequence[str], lang: str) -> LearningReply:
        """/quiz [stop | final <topic> | <topic> | <lesson id>]; bare /quiz resumes the open quiz or shows the menu."""
        words = [fold(a) for a in args]
        if words[:1] == ["stop"] or words[:1] == ["dung"]:
            session = self.store.open_session(user)
            if session is not None:
                self.store.abandon(user, session.id)
            return LearningReply([Reply(text=t("quiz_stopped", lang))], "stop_quiz")
        rest = " ".join(words)
        if not rest:
            return self._resume_or_menu(user, lang, resume_unstarted=False)
        if rest in self.lessons:
            return self.start(user, "lesson", rest, lang=lang)
        kind = "final" if _FINAL.search(rest) else "topic"
        return self.start(user, kind, find_topic(rest) or rest.replace("_", " ").strip(), lang=lang)

    def _resume_or_menu(self, user: UserRef, lang: str, *, resume_unstarted: bool) -> LearningReply:
        """The open quiz where it was, else the menu. Bare /quiz on a quiz with nothing answered yet is the menu:
        a quiz started from words on a topic the user did not choose says "type /quiz to choose another", and
        nothing is lost by choosing (the menu's quiz replaces it; a letter typed still answers it)."""
        session = self.store.open_session(user)
        if session is not None and session.current in self.quizzes and (resume_unstarted or session.position > 0):
            return LearningReply([Reply(text=t("quiz_resume", lang)), self._question(session, lang)], "start_quiz")
        return LearningReply([self._menu(lang)], "start_quiz")

    def _menu(self, lang: str) -> Reply:
        rows = tuple(
            (
                _quiz_button(topic.name(lang), "t", topic.id),
                _quiz_button(button_label("final_test", lang), "f", topic.id),
            )
            for topic in TOPICS
            if topic.id in self._by_topic
        )
        return Reply(text=t("quiz_menu", lang, percent=self.pass_percent), buttons=rows)

    def start(self, user: UserRef, kind: str, ref: str, *, lang: str) -> LearningReply:
        topic, lesson_id = ref, ""
        if kind == "lesson":
            lesson = self.lessons.get(ref)
            if lesson is None:
                return LearningReply([Reply(text=t("quiz_unknown", lang)), self._menu(lang)], "start_quiz")
            topic, lesson_id = lesson.topic, lesson.id
            ids = tuple(q for q in lesson.quiz if q in self.quizzes)
        elif topic not in self._by_topic:
            return LearningReply([self._menu(lang)], "start_quiz")
        elif kind == "final":
            if not self.store.holder_name(user).answered:
                return self._ask_holder_name(user, topic, lang)
            ids = quiz.final_questions(self._by_topic[topic], self.final_size)
        else:
            ids = quiz.topic_questions(self._by_topic[topic], self.store.review_cards(user))
        if not ids:
            return LearningReply([Reply(text=t("quiz_unknown", lang)), self._menu(lang)], "start_quiz")
        session = self.store.start_session(user, kind, topic, lesson_id, ids, lang, self.clock())
        intro: list[Reply] = []
        if kind == "final":
            intro.append(Reply(text=t("final_intro", lang, n=len(ids), percent=self.pass_percent)))
        return LearningReply([*intro, self._question(session, lang)], "start_quiz")

    def review(self, user: UserRef, lang: str) -> LearningReply:
        due = quiz.due_questions(self.store.review_cards(user), self.quizzes, self.clock())
        if not due:
            return LearningReply([Reply(text=t("review_none", lang))], "review")
        session = self.store.start_session(user, "review", "", "", due, lang, self.clock())
        return LearningReply([Reply(text=t("review_intro", lang, n=len(due))), self._question(session, lang)], "review")

    def _current(self, session: QuizSession | None) -> QuizQuestion | None:
        return self.quizzes.get(session.current or "") if session is not None else None

    def _question(self, session: QuizSession, lang: str) -> Reply:
        assert session.current is not None
        return quiz.question_reply(session, self.quizzes[session.current], lang)

    def _stale(self, user: UserRef, lang: str, key: str = "quiz_stale") -> LearningReply:
        replies = [Reply(text=t(key, lang))]
        session = self.store.open_session(user)
        if session is not None and session.current in self.quizzes:
            replies.append(self._question(session, lang))
        return LearningReply(replies, "quiz_answer")

    def _answer(self, user: UserRef, event: quiz.AnswerEvent, lang: str, session: QuizSession | None) -> LearningReply:
        session = session or self.store.get_session(user, event.session_id)
        outcome = quiz.classify(session, event)
        if outcome is quiz.Outcome.ALREADY_ANSWERED:
            return self._stale(user, lang, "quiz_already")
        if session is None or outcome is quiz.Outcome.STALE:
            return self._stale(user, lang)
        question = self._current(session)
        if question is None:  # the content changed under a running quiz
            self.store.abandon(user, session.id)
            return LearningReply([Reply(text=t("quiz_changed", lang)), self._menu(lang)], "quiz_answer")
        if not 0 <= event.choice < len(question.text(lang).options):
            return self._stale(user, lang)
        correct = quiz.is_correct(question, event.choice)
        updated = self.store.record_answer(
            user, session.id, event.position, question.id, event.choice, correct, self.clock()
        )
        if updated is None:  # lost a race with the same answer sent twice
            return self._stale(user, lang, "quiz_already")
        article = self.kb.get(question.article, lang).title if question.article in self.kb else None
        feedback = quiz.feedback_reply(question, event.choice, article, lang)
        replies = [feedback]
        if updated.current is not None and updated.current in self.quizzes:
            # The article button goes under the next question, after its options: channels that number
            # buttons (the terminal) then show A, B, C as 1, 2, 3, the same as for the first question.
            following = self._question(updated, lang)
            replies = [
                dataclasses.replace(feedback, buttons=()),
                dataclasses.replace(following, buttons=(*following.buttons, *feedback.buttons)),
            ]
        elif updated.finished:
            replies.extend(self._finish(user, updated, lang))
        return LearningReply(replies, "quiz_answer")

    def _finish(self, user: UserRef, session: QuizSession, lang: str) -> list[Reply]:
        replies = [quiz.result_reply(session, lang)]
        if session.kind == "lesson" and session.ref:
            self.store.lesson_done(user, session.ref, session.correct, session.total, self.clock())
        if session.kind == "final":
            if quiz.passed(session, self.pass_percent):
                issued = self._issue(user, session)
                record = issued.kept
                if not issued.issued:
                    text = t("final_passed_kept", lang, percent=session.percent, best=record.score_percent)
                elif issued.replaced is not None:
                    text = (
                        t("final_passed", lang)
                        + "\n"
                        + t("final_replaced", lang, percent=issued.replaced.score_percent)
                    )
                else:
                    text = t("final_passed", lang)
                replies.append(
                    Reply(text=text + "\n\n" + certificate_text(record, lang), image_png=self._image(record, lang))
                )
            else:
                replies.append(
                    Reply(
                        text=t("final_failed", lang, percent=self.pass_percent),
                        buttons=(
                            (
                                _quiz_button(button_label("retry_final", lang), "f", session.topic),
                                _quiz_button(button_label("practice", lang), "t", session.topic),
                            ),
                        ),
                    )
                )
            return replies
        if session.topic:
            replies[0] = Reply(
                title=replies[0].title,
                text=replies[0].text,
                buttons=(
                    (
                        _quiz_button(button_label("another_quiz", lang), "t", session.topic),
                        _quiz_button(button_label("final_test", lang), "f", session.topic),
                    ),
                ),
            )
        return replies

    # -- certificates ------------------------------------------------------------------------------

    def _issue(self, user: UserRef, session: QuizSession) -> Issued:
        now = self.clock()
        holder = self.store.holder_name(user).name
        for _ in range(1000):  # 65,536 serials per topic, score and day: a drawn code is seldom taken
            facts = CertificateFacts(session.topic, session.percent, now.date(), secrets.randbelow(2**16))
            code = make_code(facts, self.keys.current)
            if any(part.isdigit() for part in code.split("-")):
                continue  # an all-digit group would look like an OTP to the sensitive-data guard
            issued = self.store.add_certificate(
                user, CertificateRecord(code, session.topic, session.percent, holder, now)
            )
            if issued is not None:
                return issued
        raise RuntimeError("could not draw a free certificate code")

    def _image(self, record: CertificateRecord, lang: str) -> bytes:
        """The certificate's PNG, drawn once per language and what it shows, then read from the store."""
        fingerprint = image_fingerprint(record, lang)
        png = self.store.certificate_image(record.code, lang, fingerprint)
        if png is None:
            png = certificate_png(record, lang)
            self.store.save_certificate_image(record.code, lang, fingerprint, png)
        return png

    def _verify(self, code: str, lang: str) -> LearningReply:
        """A code is valid when our key signed it and the database still holds it: then it names its holder."""
        signed = verify_code(code, self.keys)
        found = self.store.find_certificate(signed.code) if signed is not None else None
        if signed is None or found is None:
            return LearningReply([Reply(text=t("cert_invalid", lang))], "verify_certificate")
        if found.record is None:
            key = "cert_revoked_deleted" if found.revoked == REVOKED_DELETED else "cert_revoked_replaced"
            return LearningReply([Reply(text=f"{t(key, lang)}\n{signed.code}")], "verify_certificate")
        text = t("cert_valid", lang, holder=holder_name(found.record, lang), facts=describe(signed.facts, lang))
        return LearningReply([Reply(text=f"{text}\n{signed.code}")], "verify_certificate")

    def _my_certificates(self, user: UserRef, lang: str) -> LearningReply:
        records = self.store.certificates(user)
        if not records:
            return LearningReply([Reply(text=t("cert_none", lang, percent=self.pass_percent))], "certificates")
        replies = [Reply(text=certificate_text(r, lang), image_png=self._image(r, lang)) for r in records]
        return LearningReply([*replies, self._name_shown(user, lang)], "certificates")

    # -- the name printed on certificates ----------------------------------------------------------

    def _ask_holder_name(self, user: UserRef, topic: str, lang: str) -> LearningReply:
        """Before the first final test: which name to print, and that anyone checking the code will see it."""
        self.store.ask_holder_name(user, topic)
        skip = Button(button_label("holder_skip", lang), actions.encode(actions.Verb.HOLDER_NAME, "skip", topic))
        text = t("cert_name_ask", lang, default=t("cert_default_holder", lang))
        return LearningReply([Reply(text=text, buttons=((skip,),))], "start_quiz")

    def _holder_answer(self, user: UserRef, topic: str, text: str, folded: str, lang: str) -> LearningReply | None:
        """The message after the name was asked: a name, "skip", or something else (asked again before the next test)."""
        name = None if folded in _SKIP_NAME else clean_name(text)
        if name is None and folded not in _SKIP_NAME:
            self.store.ask_holder_name(user, None)  # asked again before the next final test
            return None
        return self._set_name_and_start(user, name, topic, lang)

    def holder_button(self, user: UserRef, action: actions.Action, lang: str) -> LearningReply:
        """hn:skip:<topic>: print the default name, then start that topic's final test."""
        if action.arg(0) != "skip" or action.arg(1) not in self._by_topic:
            return self._stale(user, lang)
        if self.store.holder_name(user).answered:  # an old button: the name given since stays
            return self.start(user, "final", action.arg(1), lang=lang)
        return self._set_name_and_start(user, None, action.arg(1), lang)

    def _set_name_and_start(self, user: UserRef, name: str | None, topic: str, lang: str) -> LearningReply:
        self.store.set_holder_name(user, name)
        started = self.start(user, "final", topic, lang=lang)
        return LearningReply([self._name_set(name, lang), *started.replies], started.intent)

    def _name_command(self, user: UserRef, words: Sequence[str], lang: str) -> LearningReply:
        """/cert name: show it; /cert name <name>: change it; /cert name skip: print the default."""
        if not words:
            return LearningReply([self._name_shown(user, lang)], "certificate_name")
        folded = " ".join(fold(w) for w in words)
        name = None if folded in _SKIP_NAME else clean_name(" ".join(words))
        if name is None and folded not in _SKIP_NAME:
            return LearningReply([Reply(text=t("cert_name_invalid", lang, max=_NAME_MAX))], "certificate_name")
        self.store.set_holder_name(user, name)
        return LearningReply([self._name_set(name, lang)], "certificate_name")

    def _name_set(self, name: str | None, lang: str) -> Reply:
        if name is None:
            return Reply(text=t("cert_name_skipped", lang, default=t("cert_default_holder", lang)))
        return Reply(text=t("cert_name_set", lang, name=name))

    def _name_shown(self, user: UserRef, lang: str) -> Reply:
        name = self.store.holder_name(user).name or t("cert_default_holder", lang)
        return Reply(text=t("cert_name_current", lang, name=name))

    # -- progress ----------------------------------------------------------------------------------

    def progress(self, user: UserRef, lang: str) -> LearningReply:
        cards = self.store.review_cards(user)
        certified = {r.topic for r in self.store.certificates(user)}
        if not cards and not certified:
            return LearningReply([Reply(text=t("progress_empty", lang))], "progress")
        lines = []
        for topic in TOPIC_IDS:
            questions = self._by_topic.get(topic, [])
            if not questions:
                continue
            mastered = sum(1 for q in questions if q.id in cards and cards[q.id].box >= MASTERED_BOX)
            percent = round(100 * mastered / len(questions))
            line = t(
                "progress_line", lang, topic=topic_name(topic, lang), n=mastered, total=len(questions), percent=percent
            )
            if topic in certified:
                line += " · " + t("progress_certified", lang)
            lines.append(line)
        done = self.store.lessons_done(user) & set(self.lessons)
        if done:
            lines.append(t("progress_lessons", lang, n=len(done), total=len(self.lessons)))
        due = quiz.due_questions(cards, self.quizzes, self.clock(), size=100)
        text = t("progress_title", lang) + "\n" + "\n".join(lines)
        buttons: tuple[tuple[Button, ...], ...] = ()
        if due:
            text += "\n\n" + t("review_offer", lang, n=len(due))
            buttons = ((_quiz_button(button_label("review", lang), "r"),),)
        return LearningReply([Reply(text=text, buttons=buttons)], "progress")

    # -- deleting one's data -----------------------------------------------------------------------

    def ask_delete(self, user: UserRef, lang: str) -> LearningReply:
        stamp = int(self.clock().timestamp())
        signature = short_tag(self.keys.current, _DELETE_PURPOSE, user.channel, user.user_id, stamp)
        return LearningReply(
            [
                Reply(
                    text=t("delete_confirm", lang),
                    buttons=(
                        (
                            Button(
                                button_label("delete_yes", lang),
                                actions.encode(actions.Verb.DELETE, "y", stamp, signature),
                            ),
                            Button(button_label("delete_no", lang), actions.encode(actions.Verb.DELETE, "n", stamp)),
                        ),
                    ),
                )
            ],
            "delete_data",
        )

    def confirm_delete(self, user: UserRef, action: actions.Action, lang: str) -> LearningReply:
        """del:y:<time asked>:<signature>: deletes only when this user was asked, here, within DELETE_CONFIRM_SECONDS."""
        answer, stamp, signature = action.arg(0), action.arg(1), action.arg(2)
        if answer != "y":
            return LearningReply([Reply(text=t("delete_cancelled", lang))], "delete_data")
        try:
            fresh = 0 <= self.clock().timestamp() - int(stamp) <= DELETE_CONFIRM_SECONDS
        except ValueError:
            fresh = False
        signed = check_short_tag(signature, self.keys.current, _DELETE_PURPOSE, user.channel, user.user_id, stamp)
        if not (fresh and signed):
            return LearningReply([Reply(text=t("delete_expired", lang))], "delete_data")
        self.store.delete_user(user)
        return LearningReply([Reply(text=t("delete_done", lang))], "delete_data", forget_user=True)


# Folded words of questions and requests that are in no Vietnamese or English name: a message right after the
# name question that holds one is a question, answered as such, not a name to print.
_NOT_IN_NAMES = frozenset(
    [
        "nao",
        "sao",
        "gi",
        "j",
        "ko",
        "k",
        "chua",
        "cach",
        "giup",
        "muon",
        "toi",
        "em",
        "oi",
        "nhe",
        "vay",
        "dc",
        "duoc",
        "nhieu",
        "vneid",
        "otp",
        "app",
        "quiz",
        "how",
        "what",
        "why",
        "where",
        "when",
        "who",
        "help",
        "please",
        "my",
        "i",
        "you",
    ]
)  # never "thi", "minh", "bao", "dang", "the", "tra", "ha": those fold from names (Thị, Minh, Bảo, Đặng...)


def says_done(folded: str) -> bool:
    """ "con kiểm tra rồi", "thi xong rồi": what was done, not a quiz asked for (folded)."""
    return _DONE.search(" ".join(re.sub(r"[^\w\s]", " ", folded).split())) is not None


def _quiz_button(label: str, kind: str, topic: str = "") -> Button:
    """qs:<kind>[:<topic>]: t a topic quiz, f its final test, r review, c continue the open quiz."""
    return Button(label, actions.encode(actions.Verb.QUIZ_START, kind, *([topic] if topic else [])))


def clean_name(text: str) -> str | None:
    """`text` as a name to print on certificates, or None when it does not look like one.

    Names typed all in lower case ("nguyen thi lan") are capitalised the way they are written.
    """
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not 2 <= len(name) <= _NAME_MAX or len(name.split()) > 7 or sum(ch.isalpha() for ch in name) < 2:
        return None
    if any(not ch.isalpha() and ch not in _NAME_MARKS for ch in name):
        return None
    if set(fold(name).split()) & _NOT_IN_NAMES:  # "cai vneid the nao", typed instead of a name
        return None
    return name.title() if name == name.lower() else name

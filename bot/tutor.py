"""Learning in the chat: quizzes, spaced review, progress, certificates and deleting one's data.

The commands, buttons and intents that reach it are listed in bot/routes.py. Before the NLU, the core also
offers it every text (`on_text`): a typed quiz answer, a certificate code and a typed quiz request
("lam bai kiem tra ve vneid"). Quiz logic is in bot.quiz (pure); what must survive a restart is in the LearningStore.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import time
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
    make_code,
    verify_code,
)
from bot.learning import CertificateRecord, LearningStore, QuizSession, UserRef
from bot.messages import Button, Reply
from bot.review import MASTERED_BOX
from bot.texts import button_label, t
from knowledge_base.articles import KnowledgeBase
from knowledge_base.learning import Lesson, QuizQuestion
from knowledge_base.topics import TOPIC_IDS, TOPICS, find_topic, get_topic, topic_name
from language.normalize import core_phrase, fold
from nlu.engine import IntentResult

DELETE_CONFIRM_SECONDS = 15 * 60

_QUIZ = re.compile(
    r"^(?:(?:toi|minh|em|cho (?:toi|minh|em)) )?(?:muon |can )?"
    r"(?:(?:lam|thu|bat dau|choi|start|take|do)\s+(?:(?:mot|a|the)\s+)?(?:bai\s+)?|bai\s+)?(?:final\s+)?"
    r"(?P<kind>kiem tra|trac nghiem|thi|quiz|test)\b(?P<rest>.*)$"
)
_FINAL = re.compile(r"\b(?:cuoi khoa|cuoi ky|final|chung chi|certificate)\b")
_FILLER = re.compile(r"\b(?:ve|chu de|mon|about|on|me|the|topic|cuoi khoa|cuoi ky|final|lay chung chi|de|of)\b")


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
    secret: bytes = field(repr=False)
    pass_percent: int  # certificates.pass_percent in config.yml
    final_size: int  # certificates.final_test_questions
    clock: Callable[[], datetime] = _now

    def __post_init__(self) -> None:
        self._by_topic: dict[str, list[QuizQuestion]] = {}
        for question in self.quizzes.values():
            self._by_topic.setdefault(question.topic, []).append(question)

    # -- entry points ------------------------------------------------------------------------------

    def on_text(self, user: UserRef, text: str, lang: str) -> LearningReply | None:
        stripped = text.strip()
        folded = " ".join(re.sub(r"[^\w\s\-]", " ", fold(stripped)).split())
        short = core_phrase(folded)
        code = find_code(stripped)
        if code and (
            re.search(r"chung chi|chung nhan|certificate|verify|xac minh|kiem tra", folded) or folded == fold(code)
        ):
            return self._verify(code, lang)
        request = self._quiz_request(short)
        if request is not None:
            return self.start(user, *request, lang=lang)
        session = self.store.open_session(user)
        question = self._current(session)
        if session is not None and question is not None:
            choice = quiz.parse_answer(stripped, question.text(lang).options)
            if choice is not None:
                return self._answer(user, quiz.AnswerEvent(session.id, session.position, choice), lang, session)
        return None

    def start_quiz_intent(self, user: UserRef, intent: IntentResult, text: str, lang: str) -> LearningReply:
        """The NLU's start_quiz: a lesson or a topic from its entities or the words, else the menu."""
        lesson = intent.entity("lesson")
        if lesson is not None and lesson in self.lessons:
            return self.start(user, "lesson", lesson, lang=lang)
        folded = fold(text)
        topic = intent.entity("topic") or find_topic(folded)
        kind = "final" if _FINAL.search(folded) else "topic"
        return self.start(user, kind, topic or "", lang=lang)

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
            return self.quiz_command(user, (), lang)
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
                buttons=((Button(button_label("continue_quiz", lang), actions.encode(actions.Verb.QUIZ_START, "c")),),),
            )
        due = quiz.due_questions(self.store.review_cards(user), self.quizzes, self.clock(), size=100)
        if not due:
            return None
        return Reply(
            text=t("review_offer", lang, n=len(due)),
            buttons=((Button(button_label("review", lang), actions.encode(actions.Verb.QUIZ_START, "r")),),),
        )

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
        """/cert: my certificates; /cert <code>: check a code."""
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
            session = self.store.open_session(user)
            if session is not None and session.current in self.quizzes:
                return LearningReply([Reply(text=t("quiz_resume", lang)), self._question(session, lang)], "start_quiz")
            return LearningReply([self._menu(lang)], "start_quiz")
        if rest in self.lessons:
            return self.start(user, "lesson", rest, lang=lang)
        kind = "final" if _FINAL.search(rest) else "topic"
        return self.start(user, kind, find_topic(rest) or rest.replace("_", " ").strip(), lang=lang)

    def _menu(self, lang: str) -> Reply:
        rows = tuple(
            (
                Button(topic.name(lang), actions.encode(actions.Verb.QUIZ_START, "t", topic.id)),
                Button(button_label("final_test", lang), actions.encode(actions.Verb.QUIZ_START, "f", topic.id)),
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
                record = self._issue(user, session, lang)
                replies.append(
                    Reply(
                        text=t("final_passed", lang) + "\n\n" + certificate_text(record, lang),
                        image_png=certificate_png(record, lang),
                    )
                )
            else:
                replies.append(
                    Reply(
                        text=t("final_failed", lang, percent=self.pass_percent),
                        buttons=(
                            (
                                Button(
                                    button_label("retry_final", lang),
                                    actions.encode(actions.Verb.QUIZ_START, "f", session.topic),
                                ),
                                Button(
                                    button_label("practice", lang),
                                    actions.encode(actions.Verb.QUIZ_START, "t", session.topic),
                                ),
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
                        Button(
                            button_label("another_quiz", lang),
                            actions.encode(actions.Verb.QUIZ_START, "t", session.topic),
                        ),
                        Button(
                            button_label("final_test", lang),
                            actions.encode(actions.Verb.QUIZ_START, "f", session.topic),
                        ),
                    ),
                ),
            )
        return replies

    # -- certificates ------------------------------------------------------------------------------

    def _issue(self, user: UserRef, session: QuizSession, lang: str) -> CertificateRecord:
        now = self.clock()
        holder = user.display_name or t("cert_default_holder", lang)
        while True:
            facts = CertificateFacts(session.topic, session.percent, now.date(), secrets.randbelow(2**16))
            code = make_code(facts, self.secret)
            if any(part.isdigit() for part in code.split("-")):
                continue  # an all-digit group would look like an OTP to the sensitive-data guard
            record = CertificateRecord(code, session.topic, session.percent, holder, now)
            if self.store.add_certificate(user, record):
                return record

    def _verify(self, code: str, lang: str) -> LearningReply:
        facts = verify_code(code, self.secret)
        if facts is None:
            return LearningReply([Reply(text=t("cert_invalid", lang))], "verify_certificate")
        return LearningReply([Reply(text=f"{describe(facts, lang)}\n{code}")], "verify_certificate")

    def _my_certificates(self, user: UserRef, lang: str) -> LearningReply:
        records = self.store.certificates(user)
        if not records:
            return LearningReply([Reply(text=t("cert_none", lang, percent=self.pass_percent))], "certificates")
        return LearningReply(
            [Reply(text=certificate_text(r, lang), image_png=certificate_png(r, lang)) for r in records],
            "certificates",
        )

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
            buttons = ((Button(button_label("review", lang), actions.encode(actions.Verb.QUIZ_START, "r")),),)
        return LearningReply([Reply(text=text, buttons=buttons)], "progress")

    # -- deleting one's data -----------------------------------------------------------------------

    def ask_delete(self, lang: str) -> LearningReply:
        stamp = int(time.time())
        return LearningReply(
            [
                Reply(
                    text=t("delete_confirm", lang),
                    buttons=(
                        (
                            Button(button_label("delete_yes", lang), actions.encode(actions.Verb.DELETE, "y", stamp)),
                            Button(button_label("delete_no", lang), actions.encode(actions.Verb.DELETE, "n", stamp)),
                        ),
                    ),
                )
            ],
            "delete_data",
        )

    def confirm_delete(self, user: UserRef, action: actions.Action, lang: str) -> LearningReply:
        """del:<y|n>:<time asked>: deletes only when confirmed within DELETE_CONFIRM_SECONDS."""
        answer, stamp = action.arg(0), action.arg(1)
        if answer != "y":
            return LearningReply([Reply(text=t("delete_cancelled", lang))], "delete_data")
        try:
            fresh = 0 <= time.time() - int(stamp) <= DELETE_CONFIRM_SECONDS
        except ValueError:
            fresh = False
        if not fresh:
            return LearningReply([Reply(text=t("delete_expired", lang))], "delete_data")
        self.store.delete_user(user)
        return LearningReply([Reply(text=t("delete_done", lang))], "delete_data", forget_user=True)

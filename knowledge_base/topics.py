"""The topics the assistant teaches: the one registry content, quizzes, certificates, menus and texts read.

The order is the menus' order, and a topic's position is stored in every certificate code
(bot/certificates.py): add new topics at the end, never reorder or remove one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from language.normalize import fold


@dataclass(frozen=True)
class Topic:
    id: str  # the folder name under knowledge_base/articles/<lang>/ and the `topic:` of quizzes and lessons
    vi: str
    en: str
    keywords: tuple[str, ...]  # folded words that name it in a request ("lam bai kiem tra ve dich vu cong")

    def name(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi

    def words(self) -> tuple[str, ...]:
        """Every folded word or phrase that names the topic, longest first ("scams" before "scam")."""
        return tuple(sorted({*self.keywords, fold(self.vi), fold(self.en)}, key=len, reverse=True))


TOPICS: tuple[Topic, ...] = (
    Topic("vneid", "Ứng dụng VNeID", "The VNeID app", ("vneid", "dinh danh", "can cuoc dien tu", "e-id", "eid")),
    Topic(
        "public_services",
        "Dịch vụ công trực tuyến",
        "Online public services",
        ("dich vu cong", "dvc", "thu tuc truc tuyen", "public service", "public services"),
    ),
    Topic(
        "digital_payments",
        "Thanh toán số",
        "Digital payments",
        ("thanh toan", "chuyen khoan", "vi dien tu", "ngan hang", "payment", "payments"),
    ),
    Topic(
        "online_safety",
        "An toàn trên mạng",
        "Online safety",
        ("lua dao", "an toan", "bao mat", "scam", "scams", "safety"),
    ),
    Topic(
        "digital_skills",
        "Kỹ năng dùng điện thoại",
        "Smartphone skills",
        ("dien thoai", "ky nang", "smartphone", "phone", "skills"),
    ),
)

TOPIC_IDS: tuple[str, ...] = tuple(topic.id for topic in TOPICS)
_BY_ID = {topic.id: topic for topic in TOPICS}


def get_topic(topic_id: str) -> Topic | None:
    return _BY_ID.get(topic_id)


def topic_name(topic_id: str, lang: str) -> str:
    """The topic's name in `lang`; an unknown id (from an old record) is shown as it is."""
    topic = _BY_ID.get(topic_id)
    return topic.name(lang) if topic is not None else topic_id


def find_topic(folded: str) -> str | None:
    """The topic a folded text names, by the earliest word naming one in it."""
    best: tuple[int, str] | None = None
    for topic in TOPICS:
        for word in topic.words():
            match = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", folded)
            if match and (best is None or match.start() < best[0]):
                best = (match.start(), topic.id)
    return best[1] if best else None

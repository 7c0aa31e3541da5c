"""A small rule engine: exact conversational phrases, matched on folded text.

It only recognises short, unambiguous messages ("tiếp", "cảm ơn", "hello"); anything longer is a
question for the knowledge base. The trained engines replace it where they are configured.
"""

from __future__ import annotations

import re

from language.normalize import core_phrase
from language.query import Query
from nlu.engine import Entity, IntentResult

# Whole-message patterns on folded, abbreviation-expanded text.
_RULES: tuple[tuple[str, str], ...] = (
    (
        "next_step",
        r"(tiep|tiep theo|tiep di|tiep tuc|buoc tiep|buoc tiep theo|ok tiep|xong roi|roi|next|next step|continue|done)",
    ),
    ("previous_step", r"(quay lai|lui lai|buoc truoc|tro lai|back|previous|go back)"),
    ("repeat_step", r"(nhac lai|lap lai|noi lai|doc lai|nhac lai buoc (nay|vua roi)|repeat|again|say again)"),
    (
        "show_all_steps",
        r"(xem tat ca|tat ca cac buoc|xem het|xem (tat ca|het) cac buoc|show all|all steps|show all steps)",
    ),
    ("greet", r"(xin chao|chao|chao ban|chao bot|alo|hello|hi|hey|good morning)( (ban|ad|admin|bot|em|a|nhe))?"),
    ("goodbye", r"(tam biet|bye|goodbye|hen gap lai|chao nhe)"),
    ("thanks", r"(cam on|cam on ban|cam on nhieu|thank you|thanks|thank|tks|thanks a lot)( (ban|nhe|nhieu|a|nha))*"),
    ("help", r"(giup|giup toi|huong dan|tro giup|help|menu|ban lam duoc gi|ban giup duoc gi)"),
    ("change_language", r"(tieng viet|english|tieng anh|doi ngon ngu|change language)"),
    (
        "progress",
        r"(?:(?:toi|minh|em|tao) )?(?:da )?hoc (?:den|toi|duoc) (?:dau|bao nhieu)(?: roi)?"
        r"|(?:xem )?(?:tien do(?: hoc(?: tap)?)?|ket qua hoc(?: tap)?)(?: cua (?:toi|minh|em))?"
        r"|(?:show )?(?:my )?progress|how am i doing",
    ),
    ("review", r"(?:(?:toi|minh|em) )?(?:muon )?(?:on tap|on lai|on bai|lam bai on tap|review)"),
    (
        "delete_data",
        r"(?:hay |xin |vui long )?xoa (?:het |toan bo |tat ca )?(?:du lieu|thong tin)(?: ca nhan)?"
        r"(?: cua (?:toi|minh|em))?|(?:please )?delete (?:all )?my data",
    ),
)
_COMPILED = tuple((intent, re.compile(rf"^(?:{pattern})$")) for intent, pattern in _RULES)


class RuleEngine:
    name = "rules"

    def warm_up(self) -> None:
        return None

    def parse(self, query: Query) -> IntentResult:
        text = core_phrase(query.text.folded)
        for intent, pattern in _COMPILED:
            if pattern.match(text) or pattern.match(query.text.folded):
                entities: tuple[Entity, ...] = ()
                if intent == "change_language":
                    lang = "en" if re.search(r"english|tieng anh", text) else "vi" if "tieng viet" in text else None
                    entities = (Entity("language", lang),) if lang else ()
                return IntentResult(intent, 1.0, entities, self.name)
        return IntentResult("ask_question", 0.5, (), self.name)

"""Vietnamese-first text normalisation shared by indexing and queries.

Citizens type with and without diacritics, in NFD from some keyboards, in chat abbreviations and with
stray control characters. Every text that is indexed or searched goes through the same functions here,
so a change to them changes `NORMALIZER_VERSION`, which invalidates persisted indexes.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

NORMALIZER_VERSION = "7"

_CONTROL = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\ufeff]")
_SPACE = re.compile(r"\s+")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_VIETNAMESE_MARKED = re.compile("[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]")

# Chat abbreviations and teen code, keyed by their diacritic-folded form, expanded to proper Vietnamese.
# Only forms that are unambiguous in this product's domain belong here ("mk" is "mật khẩu" in questions
# about accounts far more often than "mình", except after "của": expand_abbreviations reads that one).
ABBREVIATIONS: dict[str, str] = {
    "ko": "không",
    "hiu": "hiểu",
    "k": "không",
    "kh": "không",
    "khg": "không",
    "hok": "không",
    "hem": "không",
    "kg": "không",
    "kp": "không phải",
    "dc": "được",
    "duoc": "được",
    "dk": "đăng ký",
    "dki": "đăng ký",
    "dky": "đăng ký",
    "j": "gì",
    "ji": "gì",
    "gi": "gì",
    "ntn": "như thế nào",
    "tnao": "thế nào",
    "mk": "mật khẩu",
    "pass": "mật khẩu",
    "pw": "mật khẩu",
    "tk": "tài khoản",
    "stk": "số tài khoản",
    "tknh": "tài khoản ngân hàng",
    "ck": "chuyển khoản",
    "nh": "ngân hàng",
    "sdt": "số điện thoại",
    "dt": "điện thoại",
    "dthoai": "điện thoại",
    "cccd": "căn cước công dân",
    "cmnd": "chứng minh nhân dân",
    "cc": "căn cước",
    "gplx": "giấy phép lái xe",
    "bhyt": "bảo hiểm y tế",
    "bhxh": "bảo hiểm xã hội",
    "lltp": "lý lịch tư pháp",
    "dvc": "dịch vụ công",
    "vs": "với",
    "r": "rồi",
    "ng": "người",
    "lm": "làm",
    "mun": "muốn",
    "mik": "mình",
    "trc": "trước",
    "ms": "mới",
    "cx": "cũng",
    "bt": "biết",
    "bik": "biết",
    "bjo": "bây giờ",
    "bh": "bao giờ",
    "thik": "thích",
    "ntin": "nhắn tin",
    "nt": "nhắn tin",
    "app": "ứng dụng",
    "hs": "hồ sơ",
    "onl": "online",
    "hd": "hướng dẫn",
    "hdan": "hướng dẫn",
    "ctv": "cộng tác viên",
    "gg": "google",
    "fb": "facebook",
    "ib": "nhắn tin",
    "tgian": "thời gian",
    "vn": "việt nam",
    "hk": "không",
    "khum": "không",
    "ns": "nói",
    "nv": "nhân viên",
    "tbao": "thông báo",
    "mst": "mã số thuế",
    "dv": "dịch vụ",
    "lsao": "làm sao",
    "ntnao": "như thế nào",
    "sd": "sử dụng",
    "sdung": "sử dụng",
    "ngta": "người ta",
    "nta": "người ta",
    "mn": "mọi người",
    "mng": "mọi người",
    "tl": "trả lời",
    "trl": "trả lời",
    "tn": "tin nhắn",
    "dag": "đang",
    "thui": "thôi",
    "oy": "rồi",
    "bg": "bây giờ",
    "cty": "công ty",
    "zl": "zalo",
    "qc": "quảng cáo",
}

# Spoken and teen-code forms typed with their own marks ("hông" for "không", "dzậy" for "vậy"): these are
# told apart from real words by the marks, so the unmarked spelling ("hong": "hỏng", "hồng") is not expanded.
MARKED_FORMS: dict[str, str] = {
    "hông": "không",
    "hổng": "không",
    "dzậy": "vậy",
    "zậy": "vậy",
    "dzô": "vô",
    "dô": "vô",
    "dìa": "về",
    "dzìa": "về",
    "bít": "biết",
    "ròi": "rồi",
    "đag": "đang",
    "nhìu": "nhiều",
    "đc": "được",
    "đk": "đăng ký",
    "đki": "đăng ký",
    "đky": "đăng ký",
    "sđt": "số điện thoại",
    "đt": "điện thoại",
}
# "bn" is "bao nhiêu" before what is counted ("bn tiền", "bn lâu"), otherwise "bạn"; "nc" is "nước" after
# what water is paid or drunk as ("tiền nc", "hoá đơn nc"), otherwise "nói chuyện" ("nc với ad").
_COUNTED = frozenset(["tien", "lau", "ngay", "phut", "gio", "thang", "nam", "lan", "tuoi", "k", "nghin", "trieu"])
_COUNTED |= {"so", "bai", "cau", "cai"}
_WATER = frozenset(["tien", "don", "may", "cap", "uong", "sach", "ngot"])

# Folded syllables that only occur in Vietnamese, used with diacritics and abbreviations to tell
# Vietnamese typed without marks from English.
_VI_COMMON = frozenset(
    [
        "toi",
        "ban",
        "bac",
        "minh",
        "cho",
        "hoi",
        "cach",
        "lam",
        "sao",
        "the",
        "nao",
        "khong",
        "duoc",
        "gi",
        "nhu",
        "la",
        "co",
        "cua",
        "va",
        "voi",
        "vao",
        "ra",
        "roi",
        "dang",
        "ky",
        "tai",
        "khoan",
        "mat",
        "khau",
        "so",
        "dien",
        "thoai",
        "ung",
        "dung",
        "chuyen",
        "tien",
        "ngan",
        "hang",
        "muon",
        "can",
        "phai",
        "bi",
        "nhan",
        "ma",
        "xac",
        "thuc",
        "quen",
        "doi",
        "moi",
        "cu",
        "giay",
        "to",
        "dich",
        "vu",
        "cong",
        "nop",
        "ho",
        "thu",
        "tuc",
        "o",
        "dau",
        "bao",
        "nhieu",
        "khi",
        "nao",
        "nhung",
        "cac",
        "nay",
        "kia",
        "thi",
        "ma",
        "nen",
        "chua",
        "da",
        "se",
        "dung",
        "xem",
        "tim",
        "kiem",
        "lay",
        "tra",
        "cuu",
        "hay",
        "giup",
        "em",
        "anh",
        "chi",
        "ong",
        "ba",
        "oi",
        "a",
        "nhe",
        "vay",
        "ak",
        "a",
        "nha",
        "thoi",
        "tiep",
        "buoc",
        "lai",
        "truoc",
        "tat",
        "ca",
        "kiem",
        "tra",
        "bai",
        "hoc",
        "tro",
        "chuyen",
        "nguoi",
        "ho",
        "tro",
        "cam",
        "on",
        "chao",
        "xin",
        "di",
        "den",
        "nhieu",
        "it",
        "mot",
        "hai",
        "ba",
        "bon",
        "nam",
        "muc",
        "dinh",
        "danh",
        "dien",
        "tu",
        "can",
        "cuoc",
        "cong",
        "dan",
        "lua",
        "dao",
    ]
)
_EN_COMMON = frozenset(
    [
        "the",
        "a",
        "an",
        "is",
        "are",
        "was",
        "how",
        "what",
        "why",
        "where",
        "when",
        "who",
        "which",
        "do",
        "does",
        "did",
        "can",
        "could",
        "should",
        "would",
        "i",
        "my",
        "me",
        "you",
        "your",
        "to",
        "of",
        "in",
        "on",
        "for",
        "with",
        "from",
        "and",
        "or",
        "not",
        "it",
        "this",
        "that",
        "my",
        "how's",
        "what's",
        "i'm",
        "don't",
        "can't",
        "please",
        "help",
        "get",
        "use",
        "using",
        "make",
        "change",
        "forgot",
        "forget",
        "lost",
        "reset",
        "account",
        "password",
        "money",
        "bank",
        "app",
        "phone",
        "card",
        "transfer",
        "pay",
        "paying",
        "payment",
        "register",
        "registration",
        "level",
        "scam",
        "code",
        "send",
        "receive",
    ]
)


def to_nfc(text: str) -> str:
    """NFC, control characters removed, whitespace collapsed."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def strip_marks(text: str) -> str:
    """Diacritics stripped (đ→d, Đ→D), case kept: "Chắc là B" → "Chac la B"."""
    text = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lower-case and strip diacritics (đ→d) so 'Đăng ký' and 'dang ky' compare equal."""
    return strip_marks(text.casefold())


def has_diacritics(text: str) -> bool:
    """Whether any Vietnamese mark (or đ) was typed: "dang ky" has none, "đăng ký" and "dang kí" do."""
    return _VIETNAMESE_MARKED.search(text.casefold()) is not None


def tokens(text: str) -> list[str]:
    """Word/syllable tokens of an already lower-cased text."""
    return _TOKEN.findall(text)


_PARTICLES = re.compile(r"(?:\s+(?:a|nhe|nha|di|voi|ad|nao|khong|ko|vay|the|roi|please))+$")


def core_phrase(folded: str) -> str:
    """A short folded message as a phrase to match: punctuation out, and the polite particles people end it
    with ("xoa du lieu cua toi nhe!", "on tap di a") dropped; a message of particles alone is kept."""
    words = " ".join(re.sub(r"[^\w\s\-]", " ", folded).split())
    return _PARTICLES.sub("", words) or words


# How voice typing writes the letters of an acronym, folded: Vietnamese letter names ("vê", "ô", "pê", "gờ")
# and English ones as a Vietnamese ear hears them ("ai" for I, "đi" for D, "oai" for Y). Several names fold
# together and one name may stand for two letters ("i" is I, or E said the English way), so a run of names
# only becomes a word when it spells one of `SPELLED_TERMS`.
_LETTER_NAMES: dict[str, tuple[str, ...]] = {
    "a": ("a", "r"),
    "ay": ("a",),
    "be": ("b",),
    "bo": ("b",),
    "bi": ("b",),
    "xe": ("c",),
    "xi": ("c",),
    "de": ("d",),
    "di": ("d",),
    "e": ("e", "a"),  # "ê" is also how A said the English way sounds ("ê pê ca" for APK)
    "ep": ("f",),
    "go": ("g",),
    "gi": ("g",),
    "hat": ("h",),
    "ai": ("i",),
    "i": ("i", "e"),
    "ca": ("k",),
    "ka": ("k",),
    "ke": ("k",),
    "lo": ("l",),
    "mo": ("m",),
    "em": ("m",),
    "en": ("n",),
    "ne": ("n", "ne"),
    "nho": ("n",),
    "o": ("o",),
    "pe": ("p",),
    "po": ("p",),
    "pi": ("p",),
    "cu": ("q",),
    "kiu": ("q",),
    "quy": ("q",),
    "qui": ("q",),
    "ro": ("r",),
    "et": ("s",),
    "ech": ("s",),
    "te": ("t",),
    "ti": ("t",),
    "u": ("u",),
    "ve": ("v",),
    "vi": ("v",),
    "ich": ("x",),
    "oai": ("y",),
}
# The acronyms the articles use that people say letter by letter; short ones that are also common syllable
# pairs ("ai đi" = "who goes" for ID) are left out.
_TERMS = ("vneid", "otp", "qr", "apk", "cvv", "sms", "atm", "vssid", "ekyc", "nfc", "pdf", "cccd")
# Spelling → the term; VNeID is often said without its E ("vi en ai đi").
SPELLED_TERMS: dict[str, str] = {term: term for term in _TERMS} | {"vnid": "vneid"}
_SPELLED_LONGEST = 6  # letter names in the longest term ("vê en ê ai đi" is five, "vê ét ét i đi" five)
# Names of apps and brands as voice typing writes them, with the spelling the articles use. Matched with their
# marks, as voice typing always writes them: folded, "da lo" could be "dạ lo" and "ba go" "bà gõ".
SPOKEN_WORDS: dict[tuple[str, ...], str] = {
    ("da", "lô"): "zalo",
    ("gia", "lô"): "zalo",
    ("quai", "phai"): "wifi",
    ("wai", "phai"): "wifi",
    ("gu", "gồ"): "google",
    ("gu", "gơ"): "google",
    ("phây", "búc"): "facebook",
    ("pờ", "lây"): "play",
    ("ai", "phôn"): "iphone",
    ("mô", "mô"): "momo",
    ("i", "meo"): "email",
    ("du", "túp"): "youtube",
    ("tích", "tóc"): "tiktok",
    ("cờ", "rét", "đít"): "credit",
    ("pát", "cốt"): "passcode",
    ("xờ", "mát"): "smart",
    ("sờ", "mát"): "smart",
    ("đê", "bít"): "debit",
    ("ba", "gờ"): "3g",
    ("bốn", "gờ"): "4g",
    ("năm", "gờ"): "5g",
}


def _spelled(words: Sequence[str], folded: Sequence[str], start: int) -> tuple[int, str] | None:
    """The longest run of letter names (or spoken brand names) from `start` that spells a known term."""
    for size in (3, 2):
        if len(words) >= start + size and tuple(words[start : start + size]) in SPOKEN_WORDS:
            return size, SPOKEN_WORDS[tuple(words[start : start + size])]
    spellings: list[str] = [""]
    found: tuple[int, str] | None = None
    for size in range(1, min(_SPELLED_LONGEST, len(folded) - start) + 1):
        letters = _LETTER_NAMES.get(folded[start + size - 1])
        if letters is None:
            break
        spellings = [s + letter for s in spellings for letter in letters]
        found = next(((size, SPELLED_TERMS[s]) for s in spellings if s in SPELLED_TERMS and size >= 2), found)
    return found


def spoken_terms(words: Sequence[str]) -> list[str]:
    """Acronyms and app names written the way voice typing hears them, put back as the articles write them:
    "vê en ê ai đi" → "vneid", "ô tê pê" → "otp", "cu a" → "qr", "da lô" → "zalo", "quai phai" → "wifi"."""
    folded = [fold(w) for w in words]
    out: list[str] = []
    i = 0
    while i < len(words):
        match = _spelled(words, folded, i)
        if match is None:
            out.append(words[i])
            i += 1
        else:
            out.append(match[1])
            i += match[0]
    return out


def expand_abbreviations(text: str) -> str:
    """Replace chat abbreviations by their full form, keeping every other token as typed."""
    out: list[str] = []
    words = spoken_terms(tokens(text.casefold()))
    for i, token in enumerate(words):
        key = fold(token)
        if token in MARKED_FORMS:
            out.append(MARKED_FORMS[token])
        elif token == "bn":
            following = fold(words[i + 1]) if i + 1 < len(words) else ""
            out.append("bao nhiêu" if following in _COUNTED or not following else "bạn")
        elif token == "nc":
            out.append("nước" if i and fold(words[i - 1]) in _WATER else "nói chuyện")
        elif token == "mk" and i and fold(words[i - 1]) == "cua":  # "chứng chỉ của mk": mine, not a password
            out.append("mình")
        # A token typed with its own diacritics (e.g. "gì") is already a word, not an abbreviation.
        elif key in ABBREVIATIONS and token == key:
            out.append(ABBREVIATIONS[key])
        else:
            out.append(token)
    return " ".join(out)


@dataclass(frozen=True)
class NormalizedText:
    """The forms of one text that retrieval and NLU need."""

    original: str
    clean: str  # NFC, lower-case, abbreviations expanded, diacritics kept where typed
    folded: str  # `clean` without diacritics
    lang: str  # "vi" or "en": the language the text is written in, best guess

    @property
    def folded_tokens(self) -> list[str]:
        return self.folded.split()

    @property
    def is_empty(self) -> bool:
        return not self.folded


def detect_lang(text: str, default: str = "vi") -> str:
    """Guess whether a short chat message is Vietnamese or English."""
    lowered = text.casefold()
    if _VIETNAMESE_MARKED.search(lowered):
        return "vi"
    words = tokens(lowered)
    if not words:
        return default
    vi = sum(1 for w in words if w in _VI_COMMON or w in ABBREVIATIONS)
    en = sum(1 for w in words if w in _EN_COMMON)
    if en > vi:
        return "en"
    if vi > en:
        return "vi"
    return default


_ID_LIKE = re.compile(r"\S*(?:\d|[-_/.@:]\w)\S*")  # lesson-safe-01, HV-..., 0912..., links: not words of a language


def sentence_lang(text: str) -> str | None:
    """The language a message is unmistakably written in, or None when it is too short or mixed to say.

    A sentence is at least three words (ids, codes and numbers are not words) of which at least two are
    evidence for one language and more than for the other: Vietnamese words carry diacritics or are common
    unmarked Vietnamese words, English ones are common English words found in neither Vietnamese list.
    "ok", "help", "B", "/help", "lesson-safe-01", "cảm ơn" are not sentences; "how do I reset my password",
    "cach dang ky vneid muc 2" and "tôi chọn B" are.
    """
    words = tokens(_ID_LIKE.sub(" ", to_nfc(text).casefold()))
    if len(words) < 3:
        return None
    vi = en = 0
    for word in words:
        if _VIETNAMESE_MARKED.search(word):
            vi += 1
        elif word in _EN_COMMON and word not in _VI_COMMON:
            en += 1
        elif (word in _VI_COMMON or word in ABBREVIATIONS) and word not in _EN_COMMON:
            vi += 1
    if vi >= 2 and vi > en:
        return "vi"
    if en >= 2 and en > vi:
        return "en"
    return None


def normalize(text: str, default_lang: str = "vi") -> NormalizedText:
    nfc = to_nfc(text)
    lang = detect_lang(nfc, default_lang)
    clean = expand_abbreviations(nfc) if lang == "vi" else " ".join(tokens(nfc.casefold()))
    return NormalizedText(original=text, clean=clean, folded=fold(clean), lang=lang)


def lexical_terms(folded_tokens: Sequence[str]) -> list[str]:
    """Folded syllables plus syllable bigrams: Vietnamese words are mostly two syllables."""
    bigrams = [f"{a}_{b}" for a, b in itertools.pairwise(folded_tokens)]
    return [*folded_tokens, *bigrams]


def document_terms(texts: Iterable[str]) -> list[str]:
    """Lexical terms of a document made of several fields, without bigrams across field borders."""
    terms: list[str] = []
    for text in texts:
        terms.extend(lexical_terms(tokens(fold(to_nfc(text)))))
    return terms

"""Sensitive data guard: finds secrets citizens paste into the chat and redacts them.

Runs before anything else touches the text, so only the redacted form can reach logs, the database or
the NLU engines. It errs on the side of redacting: a false alarm costs a short warning, a miss leaks an
ID number or an OTP.

It finds secrets by what they are, not by how tidily they are typed:
- runs of digits, bounded by anything that is not a digit ("CCCD012345678901", "OTP123456") and joined by
  any one non-alphanumeric character ("0123/4567/8901", "4111_1111_1111_1111"), classified by their length,
  their checksum and the words before them (ID, card, account number, OTP) or kept (money, dates, times,
  phone numbers);
- the value after a label (mk, mật khẩu, pass, pin, cvv, otp, mã xác thực...) later in the same sentence:
  the token after a separator ("là", "is", ":", "=" or a word ending in one), else the first token in the
  label's clause that looks like that kind of secret, never a question or function word ("mật khẩu là gì");
- OTPs and PINs spelt in digit words, Vietnamese or English, with or without diacritics.

Every pattern is linear in the length of the text (no quantifier can backtrack through another), each
label reads only up to the next one, and the Assistant passes `limit`, so a huge message costs no more
than its first thousand characters.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from bot.certificates import CODE as CERTIFICATE_CODE  # meant to be shown and checked: its digits are no OTP
from language.normalize import fold, to_nfc

CITIZEN_ID = "citizen_id"
OTP = "otp"
PASSWORD = "password"
CARD = "card_number"
ACCOUNT = "account_number"


REDACTED = {
    CITIZEN_ID: "[số định danh đã ẩn]",
    OTP: "[mã OTP đã ẩn]",
    PASSWORD: "[mật khẩu đã ẩn]",
    CARD: "[số thẻ đã ẩn]",
    ACCOUNT: "[số tài khoản đã ẩn]",
}
_REDACTION_MARKS = re.compile("|".join(re.escape(mark) for mark in REDACTED.values()))
_FOLDED_MARKS = re.compile("|".join(re.escape(fold(mark)) for mark in REDACTED.values()))

# -- numbers -------------------------------------------------------------------------------------------

# At least four digits; one non-alphanumeric character may sit between two ("0123 4567", "0123/4567",
# "4111_1111"). Possessive, so a run cannot backtrack through its own length.
_DIGIT_RUN = re.compile(r"(?<![\d+])\d(?:(?:[^\w\n]|_)?\d){3,}+")
_NOT_DIGIT = re.compile(r"\D")
_DATE_OR_TIME = re.compile(
    r"\d{1,2}([/.\-])\d{1,2}\1\d{2,4}|\d{4}([/.\-])\d{1,2}\2\d{1,2}|\d{1,2}[/.\-]\d{4}|\d{1,2}/\d{1,2}"
    r"|\d{1,2}:\d{2}(?::\d{2})?"
)
_OTP_CONTEXT = re.compile(r"\b(?:otp|ma xac (?:thuc|nhan)|ma kich hoat|verification code|code|ma)\b")
_ACCOUNT_CONTEXT = re.compile(r"\b(?:stk|so tai khoan|so tk|tai khoan|tk|account|acc)\b")
_CARD_CONTEXT = re.compile(r"\b(?:the|card|visa|atm|mastercard)\b")
_MONEY_AFTER = re.compile(r"\s*(?:d|dong|vnd|k|nghin|ngan|trieu|ty|usd|\$)\b")
_YEAR_BEFORE = re.compile(r"\b(?:nam|year|in|since|tu|den|truoc|sau)\s*\Z")
_ID_CONTEXT = re.compile(r"\b(?:cccd|can cuoc|cmnd|chung minh|dinh danh|id)\b")

# -- labels and their values ---------------------------------------------------------------------------

# On the folded text, with the kind of secret their value is. A label glued to letters is another word
# ("passport", "pinterest"); glued to a digit or a separator it carries its value ("otp123456", "pw:x").
_LABELS: tuple[tuple[str, str], ...] = (
    (r"mat\s*khau", PASSWORD),
    (r"mat\s*ma", PASSWORD),
    (r"mk", PASSWORD),
    (r"pass(?:words?|code|wd|phrase)?", PASSWORD),
    (r"pwd?", PASSWORD),
    (r"pin", PASSWORD),
    (r"cvv(?:2(?!\d))?|cvc(?:2(?!\d))?", CARD),
    (r"otp", OTP),
    (r"ma\s+(?:xac\s+(?:thuc|nhan)|kich\s+hoat|bao\s+mat)", OTP),
    (r"(?:verification|security|login)\s+code", OTP),
)
_LABEL = re.compile(
    r"(?<![^\W_])(?:" + "|".join(f"(?P<l{i}>{pattern})" for i, (pattern, _) in enumerate(_LABELS)) + r")"
    r"(?![a-z])"
)
_LABEL_KIND = {f"l{i}": kind for i, (_, kind) in enumerate(_LABELS)}
_PIN_LABEL = re.compile(r"pin\Z")
_CVV_LABEL = re.compile(r"(?:cvv|cvc)2?\Z")
_GLUED = re.compile(r"([:=]*)(\S*)")
_TOKEN = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"[.!?;…]+(?=\s|$)|\n")
_CLAUSE_END = re.compile(r"[,;.!?…]\Z")
_SEPARATORS = frozenset({"la", "is", ":", "=", "-", "->", "=>", ":=", "are", "was"})
_EDGE_PUNCTUATION = "\"'“”‘’«»()[]{}<>.,!?;:…"
_SENTENCE_PUNCTUATION = ".,!?;:…"
_GLUED_VALUE = re.compile(r"[^\W_][:=]+(?=\S)")  # "fb:Hoa1990", "vneid=abc"
# Folded tokens that are never a label's value: question and function words, and the words people use to talk
# about passwords and codes ("mật khẩu là gì", "mã otp là sáu số", "my password is wrong").
_ORDINARY = """
    gi j ji nhu the nao sao bao nhieu may ai dau khi khong ko k kh hok hem co duoc dc phai dung sai gom
    mot nhung cac cai chu so ky ki tu mat khau ma pin otp thi roi chua vay z nhi nhe a oi ha ho day do
    nay kia vi tai de cho cua toi minh em anh chi bac ong ba con chau ban no se da dang moi cu lai
    loai kieu cach sau truoc bi quen doi lay dat tao nhap gui nhan manh yeu bat buoc can nen
    gia tri vneid zalo facebook fb gmail google icloud iphone ipad ekyc momo zalopay vnpay viettelpay
    smart smartotp etoken vietqr mbbank tpbank vpbank techcombank vietcombank bidv agribank
    what which how why when where who a an my your his her our their it its is are was not no yes
    to of for in on at and or too very required needed wrong correct incorrect invalid expired strong
    weak safe secure this that ok okay same different case sensitive mandatory made reset change forgot
    forget lost new old enter type send sent digits digit characters character letters number numbers
"""
ORDINARY_WORDS = frozenset(_ORDINARY.split())
_MEASURE = re.compile(
    r"\d+(?:[.,]\d+)*(?:mah|wh|w|v|gb|mb|kb|tb|g|kg|mm|cm|m|km|%|k|tr|trieu|d|dong|vnd|usd|h|gio|p|phut"
    r"|s|giay|ngay|thang|nam|lan|tuoi|x)"
)
_PHONE = re.compile(r"(?:\+?84|0)\d{9,10}")

# -- digit words ---------------------------------------------------------------------------------------

# Matched on the lower-cased text: the diacritic forms as written, the plain forms only where a word was
# typed without marks, so "làm", "từ" and "bà" never count as "lăm", "tư" and "ba".
_DIGIT_WORD = (
    r"không|một|mốt|hai|ba|bốn|tư|năm|lăm|sáu|bảy|bẩy|tám|chín|khong|mot|bon|tu|nam|lam|sau|bay|tam|chin"
    r"|zero|one|two|three|four|five|six|seven|eight|nine"
)
# Greedy, not possessive: a run glued to a letter at its end gives back one word, instead of failing and
# being retried from every later word.
_DIGIT_WORDS = re.compile(rf"(?<![^\W_])(?:{_DIGIT_WORD})(?:[\s,.\-–]+(?:{_DIGIT_WORD}))*(?![^\W_])")
_WORD = re.compile(r"[^\s,.\-–]+")
_DIGIT_WORD_CONTEXT = re.compile(r"\b(?:otp|ma|code|pin|mat khau|mk|pass\w*|pwd?|cvv|cvc)\b")

# -- cutting long texts --------------------------------------------------------------------------------

# When a text is cut, the guard reads this far past the cut, so a secret that straddles it is seen whole.
_LOOKAHEAD = 256
# A word that straddles the cut is kept whole when it ends within this many characters.
_WORD_SLACK = 48


def without_redactions(text: str) -> str:
    """Drop redaction marks, so they do not steer retrieval, NLU or language detection."""
    return _REDACTION_MARKS.sub(" ", text)


@dataclass(frozen=True)
class GuardResult:
    text: str  # the redacted text: the only form that may be stored, logged or sent to an NLU engine
    findings: tuple[str, ...]  # kinds of secret found, in order of first appearance
    cut: bool = False  # the text was longer than the limit: `text` is its beginning

    @property
    def found(self) -> bool:
        return bool(self.findings)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _classify(digits: str, raw: str, before: str, after: str) -> str | None:
    """What a run of digits is, given the folded text around it; None when it is harmless."""
    n = len(digits)
    if _MONEY_AFTER.match(after) or (n <= 8 and _DATE_OR_TIME.fullmatch(raw)):
        return None
    if n == 4 and digits[:2] in ("19", "20") and _YEAR_BEFORE.search(before):
        return None  # "năm 2023", "in 2024", "từ 1990"
    if 13 <= n <= 19 and (_luhn(digits) or _CARD_CONTEXT.search(before)):
        return CARD
    if n == 12 or (n == 9 and _ID_CONTEXT.search(before)):
        return CITIZEN_ID
    if 4 <= n <= 8 and _OTP_CONTEXT.search(before):
        return OTP
    if 6 <= n <= 19 and _ACCOUNT_CONTEXT.search(before):
        return ACCOUNT
    if n == 6:  # a bare 6-digit number in a chat about accounts is most likely an OTP or passcode
        return OTP
    if n >= 10 and not digits.startswith("0"):
        return ACCOUNT
    if n >= 13:
        return ACCOUNT
    return None


def _core(token: str) -> str:
    return token.strip(_EDGE_PUNCTUATION)


def _mixed_case(word: str) -> bool:
    """ "hUnter", "abcDEF": not lower, upper or capitalised."""
    return any(ch.isupper() for ch in word[1:]) and any(ch.islower() for ch in word)


def _looks_like(label: str, kind: str, core: str, original: str) -> bool:
    """Whether a token that follows a label without a separator is its value ("mk abc123", "cvv 123")."""
    if not core or core in ORDINARY_WORDS or _MEASURE.fullmatch(core) or _DATE_OR_TIME.fullmatch(core):
        return False
    digits = sum(ch.isdigit() for ch in core)
    if _CVV_LABEL.search(label):
        return core.isdigit() and 3 <= len(core) <= 4
    if kind == OTP or _PIN_LABEL.search(label):
        # Typed as one string of 4-8 digits: not "mã OTP không về số 0912345678", not "pin 10.000 mAh".
        return 4 <= digits <= 8 and len(core) <= 10 and core.isalnum()
    if core.isdigit() and len(core) >= 9:
        return False  # long numbers are the digit classifier's: ID, card, account or a harmless phone
    if len(core) < 4:
        return False  # "mật khẩu cấp 2", "mk 6 số"
    # A symbol anywhere but in the punctuation that ends a clause: "abc*" is one, "abc?" is not.
    typed = original.rstrip(_SENTENCE_PUNCTUATION).lstrip(_EDGE_PUNCTUATION)
    symbol = any(not ch.isalnum() and ch not in ".-'’/" for ch in typed)
    return digits > 0 or symbol or _mixed_case(_core(original))


def _is_value(core: str, far: bool) -> bool:
    """Whether the token right after a separator is the label's value ("là abc", not "là gì", "là 6 số")."""
    if not core or core in ORDINARY_WORDS or core in _SEPARATORS:
        return False
    if core.isdigit() and len(core) <= 2:
        return False
    # A phone number after "là" in a later clause is most likely what it says ("..., số của tôi là 09...").
    return not (far and _PHONE.fullmatch(core))


class _Spans:
    def __init__(self) -> None:
        self.items: list[tuple[int, int, int, str]] = []  # start, priority, end, kind

    def add(self, start: int, end: int, kind: str, priority: int) -> None:
        if end > start:
            self.items.append((start, priority, end, kind))

    def merged(self) -> list[tuple[int, int, str]]:
        """Overlapping spans as one, named by the first (at one start, the lowest priority number)."""
        out: list[tuple[int, int, str]] = []
        for start, _, end, kind in sorted(self.items):
            if out and start < out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], end), out[-1][2])
            else:
                out.append((start, end, kind))
        return out


class _Protected:
    """Spans the guard leaves alone (certificate codes, which are meant to be shared), found in O(log n)."""

    def __init__(self, text: str) -> None:
        self.spans = [m.span() for m in CERTIFICATE_CODE.finditer(text)]
        self.starts = [s for s, _ in self.spans]

    def __bool__(self) -> bool:
        return bool(self.spans)

    def __contains__(self, position: int) -> bool:
        i = bisect.bisect_right(self.starts, position) - 1
        return i >= 0 and position < self.spans[i][1]


def _label_values(folded: str, text: str, ends: list[int], spans: _Spans, protected: _Protected) -> list[int]:
    """Redact what follows each label in its sentence; each label reads only up to the next one (linear).
    Returns where the labels start."""
    labels = list(_LABEL.finditer(folded))
    sentence = 0  # index in `ends` of the end of the label's sentence; labels come in order
    for number, match in enumerate(labels):
        start = match.start()
        if protected and start in protected:
            continue
        stop = labels[number + 1].start() if number + 1 < len(labels) else len(folded)
        while sentence < len(ends) and ends[sentence] <= start:
            sentence += 1
        if sentence < len(ends) and ends[sentence] < stop:
            stop = ends[sentence]
        if stop - match.end() < 2:  # "mk mk mk": nothing between this label and the next
            continue
        kind = _LABEL_KIND[match.lastgroup or ""]
        label = match.group()
        glued = _GLUED.match(folded, match.end(), stop)
        assert glued is not None
        if glued.group(2)[:1].isdigit() and not glued.group(1):  # "otp123456", "cvv123": the value itself
            spans.add(glued.start(2), glued.end(2), kind, 1)
            continue
        after_separator = bool(glued.group(1))  # "pw:abc", "mật khẩu: abc"
        clause_open = True  # a value without a separator must come in the label's clause
        for token in _TOKEN.finditer(folded, glued.start(2), stop):
            raw = token.group()
            core = _core(raw)
            end = token.end() - 1 if raw.endswith((",", ";")) and len(raw) > 1 else token.end()
            if after_separator:
                if _is_value(core, far=not clause_open):
                    spans.add(token.start(), end, kind, 1)  # and read on: "mật khẩu cũ là X, mới là Y"
                    after_separator = False
                else:
                    after_separator = core in _SEPARATORS or raw in _SEPARATORS or raw.endswith((":", "="))
            elif core in _SEPARATORS or raw in _SEPARATORS or (core and raw.endswith((":", "="))):
                after_separator = True  # "là", ":", or a word with its separator ("vneid:", "fb=")
            elif (glued_value := _GLUED_VALUE.search(raw)) and _is_value(
                _core(raw[glued_value.end() :]), far=not clause_open
            ):  # "fb:Hoa1990": a word, its separator and the value in one token
                spans.add(token.start() + glued_value.end(), end, kind, 1)
            elif clause_open and _looks_like(label, kind, core, text[token.start() : token.end()]):
                spans.add(token.start(), end, kind, 1)
            if _CLAUSE_END.search(raw):
                clause_open = False
    return [m.start() for m in labels]


def _digit_words(lowered: str, folded: str, ends: list[int], labels: list[int], spans: _Spans) -> None:
    for match in _DIGIT_WORDS.finditer(lowered):
        count = len(_WORD.findall(match.group()))
        if count < 4:
            continue
        sentence = bisect.bisect_right(ends, match.start()) - 1
        sentence_start = ends[sentence] if sentence >= 0 else 0
        before = folded[max(sentence_start, match.start() - 60) : match.start()]
        label = bisect.bisect_left(labels, sentence_start)
        labelled = label < len(labels) and labels[label] < match.start()
        # Six or more is a code on its own; four or five ("ba bốn năm không dùng") only after a label.
        if count >= 6 or labelled or _DIGIT_WORD_CONTEXT.search(before):
            spans.add(match.start(), match.end(), OTP, 1)


def _same_length(transformed: str, text: str, per_char: str) -> str:
    """Folding and lower-casing keep the length of Vietnamese in NFC, so offsets found on the transformed
    text apply to the original; fall back to a per-character transform if another script breaks that."""
    if len(transformed) == len(text):
        return transformed
    one = fold if per_char == "fold" else str.lower
    return "".join(one(ch)[:1] or " " for ch in text)


def _find(text: str) -> list[tuple[int, int, str]]:
    """The secrets in `text` as merged (start, end, kind) spans, in order."""
    folded = _same_length(fold(text), text, "fold")
    # Text read again (`hocvu db purge --secrets`) has the placeholders of the first reading: "[mã OTP đã
    # ẩn]" is no label and no context for the numbers next to it.
    folded = _FOLDED_MARKS.sub(lambda mark: " " * len(mark.group()), folded)
    lowered = _same_length(text.lower(), text, "lower")
    protected = _Protected(text)
    ends = [m.end() for m in _SENTENCE_END.finditer(folded)]
    spans = _Spans()
    for match in _DIGIT_RUN.finditer(folded):
        start, end = match.span()
        if protected and start in protected:
            continue
        raw = match.group()
        kind = _classify(_NOT_DIGIT.sub("", raw), raw, folded[max(0, start - 40) : start], folded[end : end + 12])
        if kind is not None:
            # An ID or card number names the secret better than a label does; a guess from context does not.
            spans.add(start, end, kind, 0 if kind in (CITIZEN_ID, CARD) else 2)
    labels = _label_values(folded, text, ends, spans, protected)
    _digit_words(lowered, folded, ends, labels, spans)
    return spans.merged()


def _cut_point(text: str, limit: int, spans: list[tuple[int, int, str]]) -> int:
    """Where to cut: at the limit, moved past a word or a redaction that straddles it, never inside one."""
    cut = limit
    word_end = cut
    while word_end < len(text) and not text[word_end].isspace() and word_end - cut < _WORD_SLACK:
        word_end += 1
    if word_end == len(text) or text[word_end].isspace():
        cut = word_end
    for start, end, _ in spans:
        if start < cut < end:
            cut = end
    return min(cut, len(text))


def _window(text: str, size: int) -> tuple[str, bool]:
    """The normalised beginning of `text`, at least `size` characters long when the text has them, and
    whether it is all of the text. Normalising collapses whitespace, so the raw slice grows until it is
    long enough: a megabyte of text costs the guard its first few kilobytes."""
    raw = size
    while True:
        window = to_nfc(text[:raw])
        if raw >= len(text):
            return window, True
        if len(window) >= size:
            return window, False
        raw *= 4


def scan(text: str, limit: int | None = None) -> GuardResult:
    """Redact ID numbers, OTPs, passwords, card and account numbers from `text`.

    With `limit`, a longer text is cut to about that many characters (`cut` is set). The guard reads a
    little past the limit and never cuts through a secret, so no part of one survives unrecognised.
    """
    if limit is None:
        text, spans, cut = to_nfc(text), None, False
    else:
        text, whole = _window(text, limit + 2 * _LOOKAHEAD)
        cut = not whole or len(text) > limit
    if limit is not None and cut:
        # The window's last characters may be the head of something cut off by the window (and NFC of a
        # slice may differ there): the kept text ends at least _LOOKAHEAD before the window ends.
        window = text if whole else text[: len(text) - _LOOKAHEAD]
        spans = _find(window)
        end = _cut_point(window, limit, spans)
        text, cut = window[:end], not whole or end < len(text)
        spans = [span for span in spans if span[0] < end]
    else:
        spans = _find(text)
    out: list[str] = []
    position = 0
    findings: list[str] = []
    for start, end, kind in spans:
        out.append(text[position:start])
        out.append(REDACTED[kind])
        position = end
        if kind not in findings:
            findings.append(kind)
    out.append(text[position:])
    return GuardResult("".join(out), tuple(findings), cut)

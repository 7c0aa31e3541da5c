"""Sensitive data guard: finds secrets citizens paste into the chat and redacts them.

Runs before anything else touches the text, so only the redacted form can reach logs, the database or
the NLU engines. It errs on the side of redacting: a false alarm costs a short warning, a miss leaks an
ID number or an OTP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from language.normalize import fold, to_nfc

CITIZEN_ID = "citizen_id"
OTP = "otp"
PASSWORD = "password"
CARD = "card_number"
ACCOUNT = "account_number"

_DIGIT_RUN = re.compile(r"(?<![\w+])\d(?:[ .\-]?\d){3,22}(?!\w)")
_PASSWORD = re.compile(
    r"(?P<label>\b(?:mat khau|mk|pass(?:word)?|passcode|pin|ma pin)\b"
    r"(?:\s+(?:cua\s+)?(?:toi|minh|tao|em|bac|my|is|la|moi|cu|hien tai|vneid))*\s*(?:la|is|:|=)\s*)"
    r"(?P<secret>\S+)",
)
_OTP_CONTEXT = re.compile(r"\b(?:otp|ma xac (?:thuc|nhan)|ma kich hoat|verification code|code|ma)\b")
_ACCOUNT_CONTEXT = re.compile(r"\b(?:stk|so tai khoan|so tk|tai khoan|tk|account|acc)\b")
_CARD_CONTEXT = re.compile(r"\b(?:the|card|visa|atm|mastercard)\b")
_MONEY_AFTER = re.compile(r"\s*(?:d|dong|vnd|k|nghin|ngan|trieu|ty|usd|\$)\b")
_ID_CONTEXT = re.compile(r"\b(?:cccd|can cuoc|cmnd|chung minh|dinh danh|id)\b")

REDACTED = {
    CITIZEN_ID: "[số định danh đã ẩn]",
    OTP: "[mã OTP đã ẩn]",
    PASSWORD: "[mật khẩu đã ẩn]",
    CARD: "[số thẻ đã ẩn]",
    ACCOUNT: "[số tài khoản đã ẩn]",
}
_REDACTION_MARKS = re.compile("|".join(re.escape(mark) for mark in REDACTED.values()))


def without_redactions(text: str) -> str:
    """Drop redaction marks, so they do not steer retrieval, NLU or language detection."""
    return _REDACTION_MARKS.sub(" ", text)


@dataclass(frozen=True)
class GuardResult:
    text: str  # the redacted text: the only form that may be stored, logged or sent to an NLU engine
    findings: tuple[str, ...]  # kinds of secret found, in order of first appearance

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


def _classify(digits: str, before: str, after: str) -> str | None:
    """What a run of digits is, given the folded text around it; None when it is harmless."""
    n = len(digits)
    if _MONEY_AFTER.match(after):
        return None
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


def scan(text: str) -> GuardResult:
    """Redact ID numbers, OTPs, passwords, card and account numbers from `text`."""
    text = to_nfc(text)
    # Folding keeps string length for Vietnamese in NFC, so offsets found on the folded text apply to
    # the original; check and fall back to a per-character fold if a future Unicode change breaks that.
    folded = fold(text)
    if len(folded) != len(text):
        folded = "".join(fold(ch)[:1] or " " for ch in text)
    spans: list[tuple[int, int, str]] = []
    for match in _PASSWORD.finditer(folded):
        spans.append((match.start("secret"), match.end("secret"), PASSWORD))
    for match in _DIGIT_RUN.finditer(folded):
        if any(s <= match.start() < e for s, e, _ in spans):
            continue
        digits = re.sub(r"\D", "", match.group())
        before = folded[max(0, match.start() - 40) : match.start()]
        kind = _classify(digits, before, folded[match.end() : match.end() + 12])
        if kind is not None:
            spans.append((match.start(), match.end(), kind))
    if not spans:
        return GuardResult(text, ())
    spans.sort()
    out: list[str] = []
    position = 0
    findings: list[str] = []
    for start, end, kind in spans:
        if start < position:
            continue
        out.append(text[position:start])
        out.append(REDACTED[kind])
        position = end
        if kind not in findings:
            findings.append(kind)
    out.append(text[position:])
    return GuardResult("".join(out), tuple(findings))

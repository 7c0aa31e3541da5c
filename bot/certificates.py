"""Certificates: a short signed code anyone can check, and a PNG to share.

A code is `HV-XXXXXXXX-XXXXXXXX-XXXXXXXX`: 24 base32 characters holding 15 bytes: the format (4 bits), the
id of the key that signed it (8 bits, bot/signing.py), topic, score, day of issue and a random serial (56 bits
in all), then a 64-bit HMAC-SHA256 tag over everything before it. The key alone proves a code was issued
with it; who holds it, and whether it still stands, only the database knows (bot/tutor.py asks it).
Typing mistakes between look-alike characters (0/O, 1/I, 8/B) are forgiven, since base32 has no 0, 1 or 8.

Codes of the first format, `HV-XXXXXXXX-XXXXXXXX` (topic, score, day and serial in 40 bits, a 40-bit tag
and no key id), were issued until format 2 and still verify: they are tried against every key.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from bot.learning import CertificateRecord
from bot.signing import SigningKeys, key_id, tag
from bot.texts import t
from knowledge_base.topics import TOPIC_IDS, topic_name

# Fixed forever: codes already issued encode days since EPOCH and the topic's position in TOPIC_IDS.
EPOCH = date(2025, 1, 1)
FORMAT = 2
_CONTEXT_V1 = b"hocvu-certificate-v1:"
_CONTEXT = b"hocvu-certificate-v2"
_TAG_BYTES = 8
_GROUP = r"[\s\-]*([A-Z2-7018]{8})"
# Both formats; the sensitive-data guard keeps text matching it readable (bot/guard.py).
CODE = re.compile(rf"\bHV{_GROUP}{_GROUP}(?:{_GROUP})?\b", re.IGNORECASE)
_LOOKALIKE = str.maketrans({"0": "O", "1": "I", "8": "B"})
# Bump when the drawing changes, so cached images (bot/tutor.py) are drawn again.
IMAGE_VERSION = 1


@dataclass(frozen=True)
class CertificateFacts:
    topic: str
    score_percent: int
    issued_on: date
    serial: int


@dataclass(frozen=True)
class SignedCode:
    """What the signature of a code proves, without the database."""

    code: str  # canonical: upper case, look-alikes fixed, dashes
    facts: CertificateFacts
    key_id: str  # two hex digits; "" for first-format codes, which name no key
    current_key: bool  # signed by the key that signs today (else by a retired one kept for verification)
    proven: bool  # signed by a strong key: the signature alone shows this server issued it


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode()


def make_code(facts: CertificateFacts, key: bytes) -> str:
    days = (facts.issued_on - EPOCH).days
    if not 0 <= days < 2**16 or not 0 <= facts.score_percent <= 100 or not 0 <= facts.serial < 2**16:
        raise ValueError(f"certificate facts out of range: {facts}")
    bits = FORMAT
    for value, width in ((key_id(key), 8), (TOPIC_IDS.index(facts.topic), 5), (facts.score_percent, 7)):
        bits = bits << width | value
    bits = (bits << 16 | days) << 16 | facts.serial
    header = bits.to_bytes(7, "big")
    text = _b32(header + tag(key, _CONTEXT, header.hex())[:_TAG_BYTES])
    return f"HV-{text[:8]}-{text[8:16]}-{text[16:]}"


def find_code(text: str) -> str | None:
    """The certificate code in a message, in canonical form (upper case, look-alikes fixed)."""
    match = CODE.search(text)
    if match is None:
        return None
    groups = [part.upper().translate(_LOOKALIKE) for part in match.groups() if part]
    return "HV-" + "-".join(groups)


def verify_code(code: str, keys: SigningKeys) -> SignedCode | None:
    """What a code's signature proves, or None when it is malformed or no key of ours signed it."""
    canonical = find_code(code)
    if canonical is None:
        return None
    try:
        raw = base64.b32decode("".join(canonical.split("-")[1:]))
    except ValueError:
        return None
    if len(raw) == 10:
        return _verify_first_format(canonical, raw, keys)
    header, given = raw[:7], raw[7:]
    bits = int.from_bytes(header, "big")
    if bits >> 52 != FORMAT:
        return None
    kid = (bits >> 44) & 0xFF
    signer = next(
        (k for k in keys.with_id(kid) if hmac.compare_digest(given, tag(k, _CONTEXT, header.hex())[:_TAG_BYTES])),
        None,
    )
    if signer is None:
        return None
    facts = _facts((bits >> 39) & 0x1F, (bits >> 32) & 0x7F, (bits >> 16) & 0xFFFF, bits & 0xFFFF)
    if facts is None:
        return None
    return SignedCode(canonical, facts, f"{kid:02x}", signer == keys.current, keys.strong(signer))


def _verify_first_format(canonical: str, raw: bytes, keys: SigningKeys) -> SignedCode | None:
    payload, given = raw[:5], raw[5:]
    signer = next(
        (
            k
            for k in keys.all()
            if hmac.compare_digest(given, hmac.new(k, _CONTEXT_V1 + payload, hashlib.sha256).digest()[:5])
        ),
        None,
    )
    if signer is None:
        return None
    bits = int.from_bytes(payload, "big")
    facts = _facts(bits >> 37, (bits >> 30) & 0x7F, (bits >> 16) & 0x3FFF, bits & 0xFFFF)
    if facts is None:
        return None
    return SignedCode(canonical, facts, "", signer == keys.current, keys.strong(signer))


def _facts(topic_index: int, score: int, days: int, serial: int) -> CertificateFacts | None:
    if topic_index >= len(TOPIC_IDS) or score > 100:
        return None
    return CertificateFacts(TOPIC_IDS[topic_index], score, EPOCH + timedelta(days=days), serial)


def describe(facts: CertificateFacts, lang: str) -> str:
    """Topic, score and date, as a code's signature states them."""
    return t(
        "cert_facts",
        lang,
        topic=topic_name(facts.topic, lang),
        percent=facts.score_percent,
        date=facts.issued_on.strftime("%d/%m/%Y"),
    )


def holder_name(record: CertificateRecord, lang: str) -> str:
    """The name printed on a certificate: the one its holder gave, else the default learner's."""
    return record.holder or t("cert_default_holder", lang)


def certificate_text(record: CertificateRecord, lang: str) -> str:
    return t(
        "cert_text",
        lang,
        holder=holder_name(record, lang),
        topic=topic_name(record.topic, lang),
        percent=record.score_percent,
        date=record.issued_at.strftime("%d/%m/%Y"),
        code=record.code,
    )


def image_fingerprint(record: CertificateRecord, lang: str) -> str:
    """Everything the image shows: a cached image with another fingerprint is out of date."""
    shown = (IMAGE_VERSION, record.code, holder_name(record, lang), record.topic, record.score_percent, lang)
    day = record.issued_at.strftime("%Y-%m-%d")
    return hashlib.sha256(repr((*shown, day)).encode()).hexdigest()[:32]


# -- image -----------------------------------------------------------------------------------------


def _font_file() -> Path | None:
    """An OFL font with Vietnamese glyphs: the bundled Noto Sans, else DejaVu from the system."""
    try:
        import fontpkg_noto_sans

        path = Path(fontpkg_noto_sans.ROOT) / "files" / "NotoSans[wdth,wght].ttf"
        if path.exists():
            return path
    except ImportError:
        pass
    for candidate in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf"):
        if Path(candidate).exists():
            return Path(candidate)
    return None


@cache
def _font(size: int, bold: bool) -> Any:
    from PIL import ImageFont

    path = _font_file()
    if path is None:  # no Vietnamese glyphs, but still a certificate
        return ImageFont.load_default(size=size)
    font = ImageFont.truetype(str(path), size)
    if bold:
        with contextlib.suppress(OSError, ValueError):  # not a variable font: regular weight
            font.set_variation_by_name("Bold")
    return font


def certificate_png(record: CertificateRecord, lang: str) -> bytes:
    from PIL import Image, ImageDraw

    width, height = 1200, 800
    image = Image.new("RGB", (width, height), "#fffdf6")
    draw = ImageDraw.Draw(image)
    red, ink = "#b71c1c", "#1f2933"
    draw.rectangle((24, 24, width - 25, height - 25), outline=red, width=8)
    draw.rectangle((44, 44, width - 45, height - 45), outline="#d4a017", width=3)

    def centred(y: int, text: str, size: int, bold: bool = False, fill: str = ink) -> None:
        font = _font(size, bold)
        while size > 16 and draw.textlength(text, font=font) > width - 160:  # long names still fit
            size -= 2
            font = _font(size, bold)
        draw.text((width / 2, y), text, font=font, fill=fill, anchor="ma")

    centred(90, t("cert_image_movement", lang), 34, True, red)
    centred(170, t("cert_image_title", lang), 64, True, red)
    centred(280, t("cert_image_certifies", lang), 30)
    centred(335, holder_name(record, lang), 52, True)
    centred(425, t("cert_image_completed", lang), 30)
    centred(475, topic_name(record.topic, lang), 46, True)
    centred(560, t("cert_image_score", lang, percent=record.score_percent), 30)
    centred(610, t("cert_image_date", lang, date=record.issued_at.strftime("%d/%m/%Y")), 30)
    centred(680, t("cert_image_code", lang, code=record.code), 28, True)
    out = io.BytesIO()
    # 32 colours keep anti-aliased text crisp at well under half the full-colour file (23 vs 60 KB): this is
    # what every /cert sends. (optimize=True would save 3 KB more for 80 ms more.)
    image.quantize(colors=32).save(out, format="PNG")
    return out.getvalue()

"""Certificates: a short signed code anyone can check offline, and a PNG to share.

The code is `HV-<payload>-<mac>`: 8 base32 characters of payload (topic, score, day of issue, a random
serial) and 8 of HMAC-SHA256 over it with the server secret. Typing mistakes between look-alike
characters (0/O, 1/I, 8/B) are forgiven, since base32 has no 0, 1 or 8.
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
from bot.texts import t
from knowledge_base.topics import TOPIC_IDS, topic_name

# Fixed forever: codes already issued encode the topic's position here.
EPOCH = date(2025, 1, 1)
_CONTEXT = b"hocvu-certificate-v1:"
_CODE = re.compile(r"\bHV[\s\-]*([A-Z2-7018]{8})[\s\-]*([A-Z2-7018]{8})\b", re.IGNORECASE)
_LOOKALIKE = str.maketrans({"0": "O", "1": "I", "8": "B"})


@dataclass(frozen=True)
class CertificateFacts:
    topic: str
    score_percent: int
    issued_on: date
    serial: int


def _mac(payload: bytes, secret: bytes) -> bytes:
    return hmac.new(secret, _CONTEXT + payload, hashlib.sha256).digest()[:5]


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode()


def make_code(facts: CertificateFacts, secret: bytes) -> str:
    days = (facts.issued_on - EPOCH).days
    if not 0 <= days < 2**14 or not 0 <= facts.score_percent <= 100 or not 0 <= facts.serial < 2**16:
        raise ValueError(f"certificate facts out of range: {facts}")
    bits = (TOPIC_IDS.index(facts.topic) << 37) | (facts.score_percent << 30) | (days << 16) | facts.serial
    payload = bits.to_bytes(5, "big")
    return f"HV-{_b32(payload)}-{_b32(_mac(payload, secret))}"


def find_code(text: str) -> str | None:
    """The certificate code in a message, in canonical form (upper case, look-alikes fixed)."""
    match = _CODE.search(text)
    if match is None:
        return None
    payload, mac = (part.upper().translate(_LOOKALIKE) for part in match.groups())
    return f"HV-{payload}-{mac}"


def verify_code(code: str, secret: bytes) -> CertificateFacts | None:
    """The facts a code certifies, or None when it is malformed or its signature is wrong."""
    canonical = find_code(code)
    if canonical is None:
        return None
    _, payload_text, mac_text = canonical.split("-")
    try:
        payload, mac = base64.b32decode(payload_text), base64.b32decode(mac_text)
    except ValueError:
        return None
    if not hmac.compare_digest(mac, _mac(payload, secret)):
        return None
    bits = int.from_bytes(payload, "big")
    topic_index, score = bits >> 37, (bits >> 30) & 0x7F
    if topic_index >= len(TOPIC_IDS) or score > 100:
        return None
    return CertificateFacts(TOPIC_IDS[topic_index], score, EPOCH + timedelta(days=(bits >> 16) & 0x3FFF), bits & 0xFFFF)


def describe(facts: CertificateFacts, lang: str) -> str:
    return t(
        "cert_valid",
        lang,
        topic=topic_name(facts.topic, lang),
        percent=facts.score_percent,
        date=facts.issued_on.strftime("%d/%m/%Y"),
    )


def certificate_text(record: CertificateRecord, lang: str) -> str:
    return t(
        "cert_text",
        lang,
        holder=record.holder,
        topic=topic_name(record.topic, lang),
        percent=record.score_percent,
        date=record.issued_at.strftime("%d/%m/%Y"),
        code=record.code,
    )


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
    centred(335, record.holder, 52, True)
    centred(425, t("cert_image_completed", lang), 30)
    centred(475, topic_name(record.topic, lang), 46, True)
    centred(560, t("cert_image_score", lang, percent=record.score_percent), 30)
    centred(610, t("cert_image_date", lang, date=record.issued_at.strftime("%d/%m/%Y")), 30)
    centred(680, t("cert_image_code", lang, code=record.code), 28, True)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()

"""Time and bytes of one `/cert` for a holder with a certificate in every topic (five), on SQLite.

    .venv/bin/python -m bench.cert_listing [--runs 10]

Each run is a full Assistant.handle of "/cert". The certificates are added straight to the store, so the
first /cert finds no cached image and draws them all (as every /cert did before images were cached); the
others read them back. The knowledge base index comes from the data dir (built on first use); the signing
key is a fresh one, so the developer's <data_dir>/secret_key is never read or created.
"""

from __future__ import annotations

import argparse
import dataclasses
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.certificates import CertificateFacts, make_code
from bot.learning import CertificateRecord, UserRef
from bot.messages import UserMessage
from hocvu.app import build_app
from hocvu.config import DatabaseSettings, load_settings
from knowledge_base.topics import TOPIC_IDS

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    settings = load_settings(REPO / "config.yml", environ={"HOCVU_SECRET_KEY": secrets.token_urlsafe(32)})
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        app = build_app(dataclasses.replace(settings, database=DatabaseSettings(url=url)))
        tutor = app.assistant.tutor
        assert tutor is not None
        user, now = UserRef("bench", "holder"), datetime.now(UTC)
        tutor.store.set_holder_name(user, "Nguyễn Thị Hồng Nhung")
        for serial, topic in enumerate(TOPIC_IDS):
            code = make_code(CertificateFacts(topic, 90, now.date(), serial), tutor.keys.current)
            tutor.store.add_certificate(user, CertificateRecord(code, topic, 90, "Nguyễn Thị Hồng Nhung", now))
        samples, sizes = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            response = app.assistant.handle(UserMessage("bench", "holder", text="/cert"))
            samples.append((time.perf_counter() - started) * 1000)
            sizes.append(sum(len(r.image_png or b"") for r in response.replies))
        images = sum(r.image_png is not None for r in response.replies)
        print(
            f"/cert with {images} certificates: first (draws every image) {samples[0]:.0f} ms, {sizes[0] / 1000:.0f} KB"
        )
        warm = samples[1:]
        print(
            f"/cert afterwards (cached): median {statistics.median(warm):.1f} ms, max {max(warm):.1f} ms, "
            f"{sizes[-1] / 1000:.0f} KB"
        )
        if app.database is not None:
            app.database.dispose()


if __name__ == "__main__":
    main()

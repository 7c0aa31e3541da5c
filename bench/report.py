"""`hocvu report` over 100,000 users and 1,000,000 logged messages, on PostgreSQL and SQLite.

    .venv/bin/python -m bench.report [--users 100000] [--messages 1000000] [--runs 5] [--only postgresql|sqlite]

Generates a year (2026) of data with a fixed seed: users spread over every commune of the 34 provinces (one in
ten with no place), the conversation log, finished and open quizzes, certificates, feedback, broadcasts and
their deliveries; loads it with COPY (PostgreSQL, a scratch schema of HOCVU_TEST_POSTGRES's database, dropped
afterwards) or executemany in one transaction (SQLite, a temporary file), after `upgrade` made the schema and
its indexes (migration 0011). PostgreSQL gets an ANALYZE, as autovacuum would after such a load. Then it times,
`--runs` times each, the report for a month (2026-11) and a quarter (2026-Q4): the figures alone
(SqlReports.report) for the whole country and for one province, and the whole command for the country
(`hocvu report`, a new process, table format, to /dev/null); it prints median, min and max.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot import regions
from bot.people import Region
from bot.reports import Definition, parse_period
from storage.database import Database
from storage.report_store import SqlReports

REPO = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("HOCVU_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
YEAR_START = datetime(2025, 12, 31, 17)  # 2026-01-01 00:00 in Viet Nam, in UTC
YEAR_SECONDS = 365 * 24 * 3600
TOPICS = ("vneid", "public_services", "digital_payments", "online_safety", "digital_skills")
HANOI = 1

Rows = dict[str, tuple[list[str], list[tuple[Any, ...]]]]


def generate(users: int, messages: int, seed: int = 16) -> Rows:
    rng = random.Random(seed)
    places = [(p.code, c.code) for p in regions.provinces() for c in regions.communes_of(p.code)]

    def when() -> datetime:
        return YEAR_START + timedelta(seconds=rng.randrange(YEAR_SECONDS))

    user_rows, created = [], []
    for uid in range(1, users + 1):
        province, commune = rng.choice(places) if rng.random() > 0.1 else (None, None)
        at = when()
        created.append(at)
        user_rows.append(
            (
                uid,
                "telegram",
                str(10_000_000 + uid),
                "citizen",
                False,
                at,
                at,
                province,
                commune,
                rng.choice((None, "u40", "40_59", "60p")),
                False,
            )
        )
    log = []
    for number in range(1, messages + 1):
        uid = rng.randrange(1, users + 1)
        kind = rng.random()
        intent, article, fallback, text = "greet", None, False, "xin chào"
        if kind < 0.5:
            intent, article, text = "ask_question", f"article-{rng.randrange(80)}", "cach dang ky vneid muc 2"
        elif kind < 0.65:
            intent, fallback, text = None, True, "gia vang hom nay"
        at = max(when(), created[uid - 1])
        log.append((number, uid, "telegram", at, text, "vi", intent, article, fallback, 0.9, 4.0, ""))
    quizzes, certificates, feedback = [], [], []
    for number in range(1, users * 2 + 1):
        uid = rng.randrange(1, users + 1)
        total = rng.choice((5, 10))
        done = rng.random() < 0.8
        at = max(when(), created[uid - 1])
        quizzes.append(
            (
                number,
                uid,
                rng.choice(("topic", "final", "lesson", "review")),
                rng.choice(TOPICS),
                "",
                "[]",
                total if done else 0,
                rng.randrange(total + 1),
                "finished" if done else "open",
                "vi",
                at,
                at if done else None,
            )
        )
    serial = 0
    for uid in range(1, users + 1):
        for topic in TOPICS:
            if rng.random() < 0.3:
                serial += 1
                certificates.append((serial, uid, f"HV-{serial:010d}", topic, 90, max(when(), created[uid - 1])))
    for number in range(1, users // 2 + 1):
        uid = rng.randrange(1, users + 1)
        feedback.append(
            (number, uid, f"article-{rng.randrange(80)}", rng.random() < 0.7, max(when(), created[uid - 1]))
        )
    broadcasts, deliveries = [], []
    for number in range(1, 61):
        broadcasts.append((number, "Lịch học", "cli:bench", when(), "done"))
        for uid in rng.sample(range(1, users + 1), users // 20):
            deliveries.append(
                (
                    len(deliveries) + 1,
                    number,
                    "telegram",
                    str(10_000_000 + uid),
                    rng.choice(("sent", "sent", "failed")),
                    1,
                    YEAR_START,
                )
            )
    return {
        "users": (
            [
                "id",
                "channel",
                "external_id",
                "role",
                "consent",
                "created_at",
                "updated_at",
                "province_code",
                "commune_code",
                "age_band",
                "certificate_name_answered",
            ],
            user_rows,
        ),
        "conversation_log": (
            [
                "id",
                "user_id",
                "channel",
                "created_at",
                "redacted_text",
                "lang",
                "intent",
                "article_id",
                "fallback",
                "score",
                "latency_ms",
                "warnings",
            ],
            log,
        ),
        "quiz_sessions": (
            [
                "id",
                "user_id",
                "kind",
                "topic",
                "ref",
                "question_ids",
                "position",
                "correct",
                "status",
                "lang",
                "started_at",
                "finished_at",
            ],
            quizzes,
        ),
        "certificates": (["id", "user_id", "code", "topic", "score_percent", "issued_at"], certificates),
        "answer_feedback": (["id", "user_id", "article_id", "positive", "created_at"], feedback),
        "broadcasts": (["id", "text", "created_by", "created_at", "status"], broadcasts),
        "deliveries": (
            ["id", "broadcast_id", "channel", "user_id", "status", "attempts", "next_attempt_at"],
            deliveries,
        ),
    }


@contextmanager
def postgres_database() -> Iterator[tuple[str, Callable[[Rows], None]]]:
    import psycopg

    dsn = POSTGRES.replace("postgresql+psycopg://", "postgresql://")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def load(rows: Rows) -> None:
        with psycopg.connect(dsn, options=f"-csearch_path={schema}") as conn:
            for table, (columns, values) in rows.items():
                with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
            conn.commit()
            conn.autocommit = True
            conn.execute("ANALYZE")

    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}", load
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def sqlite_database() -> Iterator[tuple[str, Callable[[Rows], None]]]:
    import sqlite3

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"

        def load(rows: Rows) -> None:
            conn = sqlite3.connect(path)
            with conn:
                for table, (columns, values) in rows.items():
                    marks = ", ".join("?" * len(columns))
                    conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values)
            conn.execute("ANALYZE")
            conn.close()

        yield f"sqlite:///{path}", load


def timed(runs: int, work: Callable[[], object]) -> str:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return f"median {statistics.median(samples):.2f} s (min {min(samples):.2f}, max {max(samples):.2f}, {runs} runs)"


def command(url: str, period: str, province: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.yml"
        config.write_text(f'data_dir: {folder}\ndatabase:\n  url: "{url}"\n', encoding="utf-8")
        args = [sys.executable, "-m", "hocvu.cli", "--config", str(config), "report", "--period", period]
        if province:
            args += ["--province", province]
        subprocess.run(
            args, check=True, stdout=subprocess.DEVNULL, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=("postgresql", "sqlite"))
    args = parser.parse_args()
    started = time.perf_counter()
    rows = generate(args.users, args.messages)
    print(
        f"generated {sum(len(v) for _, v in rows.values()):,} rows in {time.perf_counter() - started:.1f} s "
        f"({args.users:,} users, {args.messages:,} messages)",
        flush=True,
    )
    kinds = [args.only] if args.only else ["postgresql", "sqlite"]
    for kind in kinds:
        with postgres_database() if kind == "postgresql" else sqlite_database() as (url, load):
            db = Database(url)
            db.upgrade(quiet=True)
            started = time.perf_counter()
            load(rows)
            print(f"{kind}: loaded in {time.perf_counter() - started:.1f} s", flush=True)
            reports = SqlReports(db, Definition())
            for period in ("2026-11", "2026-Q4"):
                for region, name in ((None, None), (Region(province_code=HANOI), "Ha Noi")):
                    where = name or "whole country"
                    figures = timed(args.runs, lambda p=period, r=region, s=reports: s.report(parse_period(p), r))
                    print(f"{kind} {period} {where}: figures {figures}", flush=True)
                whole = timed(args.runs, lambda p=period: command(url, p, None))
                print(f"{kind} {period} whole country: `hocvu report` {whole}", flush=True)
            db.dispose()


if __name__ == "__main__":
    main()

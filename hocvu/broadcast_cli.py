"""`hocvu broadcast ...` (an operator's, an admin's or a volunteer's commands) and `hocvu worker`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.broadcasts import AWAITING_APPROVAL, ZONE
from errors import ConfigError, InputError
from hocvu.config import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.broadcasts import BroadcastDesk, BroadcastReport, Created, Draft, Preview
    from channels.broadcast import Sender
    from channels.broadcast_store import BroadcastStore, Recipient
    from channels.broadcast_worker import WorkerConfig
    from knowledge_base.learning import Lesson
    from storage.database import Database


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    broadcast = sub.add_parser(
        "broadcast", help="send a lesson or a message to a segment of the subscribers, and follow it"
    ).add_subparsers(dest="broadcast_command", required=True)
    for name, summary in (
        ("create", "create a broadcast: it goes at its time, once approved (free text by a volunteer)"),
        ("preview", "show the exact audience and the message, creating nothing"),
    ):
        command = broadcast.add_parser(name, help=summary)
        what = command.add_mutually_exclusive_group()
        what.add_argument("--lesson", help="a lesson of the knowledge base (its messages, then its quiz), by id")
        what.add_argument("--text", help="a free text (plain text); --text-file reads it from a file")
        what.add_argument("--text-file", help="a UTF-8 file holding the free text")
        command.add_argument(
            "--topic", action="append", help="subscribers of this topic (repeatable; a lesson: its own)"
        )
        command.add_argument("--province", help="users of this province")
        command.add_argument("--commune", action="append", help='users of this commune, "NAME, PROVINCE" (repeatable)')
        command.add_argument("--lang", action="append", help="users of this language: vi, en (repeatable)")
        command.add_argument("--channel", action="append", help="users of this channel: telegram, zalo_oa (repeatable)")
        command.add_argument("--age-band", action="append", help="users of this age band: u40, 40_59, 60p (repeatable)")
        when = command.add_mutually_exclusive_group()
        when.add_argument("--at", help='send at this time, Asia/Ho_Chi_Minh: "2026-12-08 08:00" (default: now)')
        when.add_argument("--weekly", help='send every week: "mon 08:00" (a run each week, its audience then)')
        command.add_argument(
            "--by",
            help="the volunteer or admin it is sent for (user key): their region limits it (default: you, an admin)",
        )
        to = command.add_mutually_exclusive_group()
        to.add_argument("--to", help="an explicit list instead of a segment: channel:id, comma-separated (admins)")
        to.add_argument("--to-file", help="a file of channel:id recipients, one or more a line; # starts a comment")
        if name == "create":
            command.add_argument("--follow", action="store_true", help="show a progress bar while it is sent")
    approve = broadcast.add_parser("approve", help="an admin lets a free text go out")
    approve.add_argument("id", type=int)
    approve.add_argument("--by", help="the approving admin's user key (default: you)")
    reject = broadcast.add_parser("reject", help="an admin refuses a free text, saying why")
    reject.add_argument("id", type=int)
    reject.add_argument("--reason", required=True, help="why: its author reads it")
    reject.add_argument("--by", help="the rejecting admin's user key (default: you)")
    broadcast.add_parser("list", help="the latest broadcasts and their counts")
    status = broadcast.add_parser(
        "status",
        help="a broadcast's report: sent, pending, failed by reason, blocked, uncertain, offered and pulled, quiz answered",
    )
    status.add_argument("id", type=int)
    status.add_argument("--follow", action="store_true", help="show a progress bar until it is finished")
    status.add_argument(
        "--list", choices=("uncertain", "failed", "blocked", "pending", "offered"), help="also list these recipients"
    )
    for name, summary in (
        ("pause", "stop sending a broadcast for now"),
        ("resume", "go on sending a paused broadcast"),
        ("cancel", "never send what was not sent yet (a weekly plan: no more runs)"),
        ("resend-uncertain", "send again to the recipients whose delivery is uncertain (they may get it twice)"),
    ):
        broadcast.add_parser(name, help=summary).add_argument("id", type=int)
    sub.add_parser("worker", help="deliver broadcasts: procrastinate jobs on PostgreSQL (REDIS_URL), a loop on SQLite")


def _text(args: argparse.Namespace) -> str:
    if args.text_file:
        try:
            return Path(args.text_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"--text-file {args.text_file}: {exc}") from None
    if args.text is None:
        raise InputError("the message is missing: give --lesson, --text or --text-file")
    return str(args.text)


def _recipients(args: argparse.Namespace) -> list[Recipient]:
    from channels.broadcast_store import parse_recipients

    if args.to_file:
        try:
            lines = Path(args.to_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"--to-file {args.to_file}: {exc}") from None
        return parse_recipients(lines, where=f"--to-file {args.to_file}")
    return parse_recipients([args.to], where="--to")


_SEGMENT_OPTIONS = ("lesson", "topic", "province", "commune", "lang", "channel", "age_band", "at", "weekly")


def _desk(settings: Settings, db: Database, *, content: bool = True) -> BroadcastDesk:
    """The core's desk; `content`: with the knowledge base's lessons and official sites (a new broadcast)."""
    from bot.broadcasts import BroadcastDesk
    from channels.broadcast_plans import SqlBroadcasts
    from hocvu.app import make_people
    from knowledge_base.articles import load_articles, official_hosts
    from knowledge_base.learning import load_lessons
    from storage.people_store import SqlPeopleStore

    lessons: dict[str, Lesson] = {}
    hosts = frozenset[str]()
    if content:
        lessons, _ = load_lessons(settings.content_dir / "lessons")
        hosts = official_hosts(load_articles(settings.articles_dir))
    return BroadcastDesk(SqlBroadcasts(db), make_people(settings, SqlPeopleStore(db)), lessons, hosts)


def _draft(args: argparse.Namespace, operator: str) -> Draft:
    from datetime import UTC, datetime

    from bot.broadcasts import Draft, Schedule, Segment, parse_at, parse_place, parse_weekly

    province, communes = parse_place(args.province, args.commune or [])
    segment = Segment(
        topics=tuple(args.topic or ()),
        province_code=province,
        commune_codes=communes,
        langs=tuple(args.lang or ()),
        channels=tuple(args.channel or ()),
        age_bands=tuple(args.age_band or ()),
    )
    schedule = Schedule()
    if args.at:
        schedule = parse_at(args.at, datetime.now(UTC))
    elif args.weekly:
        schedule = parse_weekly(args.weekly)
    text = None if args.lesson else _text(args)
    return Draft(args.by or operator, segment, schedule, lesson_id=args.lesson, text=text)


def run(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    from channels.broadcast_store import BroadcastStore
    from channels.broadcast_worker import open_database

    operator = f"cli:{getpass.getuser()}"
    command = args.broadcast_command
    explicit = command in ("create", "preview") and (args.to or args.to_file)
    if explicit:
        used = [f"--{o.replace('_', '-')}" for o in _SEGMENT_OPTIONS if getattr(args, o)]
        if used:
            raise InputError(f"--to lists the recipients itself: {', '.join(used)} cannot go with it")
        return _explicit(settings, args, stdout, operator)
    db = open_database(settings.database_url)
    try:
        store = BroadcastStore(db)
        if command in ("create", "preview"):
            desk = _desk(settings, db)
            draft = _draft(args, operator)
            if command == "preview":
                _preview(desk.preview(draft), stdout)
                return 0
            created = desk.create(draft)
            _created(created, stdout)
            if args.follow and created.runs:
                _follow(store, created.runs[0], stdout)
        elif command in ("approve", "reject"):
            desk = _desk(settings, db, content=False)
            if command == "approve":
                runs = desk.approve(args.id, args.by or operator)
                went = f"; it started: {desk.report(runs[0]).pending:,} deliveries pending" if runs else ""
                stdout.write(f"broadcast {args.id} approved by {args.by or operator}{went}\n")
            else:
                desk.reject(args.id, args.by or operator, args.reason)
                stdout.write(f"broadcast {args.id} rejected by {args.by or operator}: nothing will be sent\n")
        elif command == "list":
            from channels.broadcast_plans import SqlBroadcasts

            for report in SqlBroadcasts(db).recent():
                first_line = (report.text.strip().splitlines() or [""])[0][:50]
                what = report.lesson_id if report.kind == "lesson" else "text"
                stdout.write(
                    f"{report.id:>5}  {report.status:<17} {report.created_at:%Y-%m-%d %H:%M}  {what:<16} "
                    f"{report.counts['sent']}/{report.total} sent  {first_line}\n"
                )
        elif command == "status":
            if args.follow:
                _follow(store, args.id, stdout)
            _status(_desk(settings, db, content=False).report(args.id), store, stdout, args.list)
        elif command == "pause":
            store.pause(args.id)
            stdout.write(f"broadcast {args.id} paused; sends already under way finish\n")
        elif command == "resume":
            store.resume(args.id)
            stdout.write(f"broadcast {args.id} resumed\n")
        elif command == "cancel":
            store.cancel(args.id)
            stdout.write(f"broadcast {args.id} cancelled: {store.report(args.id).counts['cancelled']} not sent\n")
        elif command == "resend-uncertain":
            count = store.resend_uncertain(args.id)
            stdout.write(f"broadcast {args.id}: {count} uncertain deliveries will be sent again\n")
    finally:
        db.dispose()
    return 0


def _explicit(settings: Settings, args: argparse.Namespace, stdout: TextIO, operator: str) -> int:
    """An explicit list of recipients: an operator's (or an admin's, --by) message, sent as it is."""
    from bot.broadcasts import text_problem
    from channels.broadcast_store import BroadcastStore
    from channels.broadcast_worker import open_database

    text = _text(args)
    recipients = _recipients(args)
    problem = text_problem(text, (r.channel for r in recipients))
    if problem:
        raise InputError(f"{problem}; nothing was {'created' if args.broadcast_command == 'create' else 'previewed'}")
    if args.broadcast_command == "preview":
        channels = sorted({r.channel for r in recipients})
        stdout.write(
            f"{len(recipients)} recipient(s) on {', '.join(channels)}; the message ({len(text)} characters):\n"
        )
        stdout.write(text.rstrip("\n") + "\n")
        return 0
    db = open_database(settings.database_url)
    try:
        if args.by:
            desk = _desk(settings, db, content=False)
            if desk.role(args.by).role != "admin":
                raise InputError(f"{args.by} is a volunteer: an explicit list (--to) is for admins; use a segment")
        broadcast_id = BroadcastStore(db).create(text, recipients, created_by=args.by or operator)
        stdout.write(
            f"broadcast {broadcast_id} created for {len(recipients)} recipient(s); the delivery worker sends it\n"
        )
        if getattr(args, "follow", False):
            _follow(BroadcastStore(db), broadcast_id, stdout)
    finally:
        db.dispose()
    return 0


def _what(kind: str, lesson_id: str | None) -> str:
    return f"lesson {lesson_id}" if kind == "lesson" else "a free text"


def _approval(status: str, kind: str, approved_by: str | None) -> str:
    if status == AWAITING_APPROVAL:
        return "awaiting an admin's approval"
    if approved_by:
        return f"approved by {approved_by}"
    return "no approval needed (a lesson of the knowledge base)" if kind == "lesson" else "not approved"


def _preview(preview: Preview, stdout: TextIO) -> None:
    plan = preview.plan
    stdout.write(
        f"{preview.audience.describe()}: {plan.segment.describe()}; {plan.schedule.describe()}\n"
        f"{_what(plan.kind, plan.lesson_id)}, {_approval(plan.status, plan.kind, plan.approved_by)}; "
        f"the message ({len(plan.text):,} characters):\n{plan.text.rstrip()}\n"
    )


def _created(created: Created, stdout: TextIO) -> None:
    plan = created.plan
    stdout.write(
        f"broadcast {created.id} created: {_what(plan.kind, plan.lesson_id)} to {created.audience.describe()}, "
        f"{plan.segment.describe()}, {plan.schedule.describe()}; {_approval(plan.status, plan.kind, plan.approved_by)}\n"
    )
    if plan.status == AWAITING_APPROVAL:
        stdout.write(f"  nothing is sent before an admin runs `hocvu broadcast approve {created.id} --by KEY`\n")
    elif created.runs:
        stdout.write(f"  started; the delivery worker sends it (`hocvu broadcast status {created.runs[0]} --follow`)\n")
    else:
        stdout.write(
            f"  scheduled: the delivery worker starts it at {plan.send_at.astimezone(ZONE):%Y-%m-%d %H:%M} (Asia/Ho_Chi_Minh)\n"
        )


def _status(report: BroadcastReport, store: BroadcastStore, stdout: TextIO, listing: str | None) -> None:
    c = report.counts
    run_of = f", a run of weekly plan {report.plan_id}" if report.plan_id else ""
    where = report.segment.describe() if report.segment else "an explicit list"
    stdout.write(
        f"broadcast {report.id}: {report.status}, {_what(report.kind, report.lesson_id)}{run_of}; {where}; "
        f"{report.schedule.describe()}\n"
        f"  created {report.created_at:%Y-%m-%d %H:%M} UTC by {report.created_by}; "
        f"{_approval(report.status, report.kind, report.approved_by)}"
        + (f" {report.approved_at:%Y-%m-%d %H:%M} UTC" if report.approved_at else "")
        + (f"\n  rejected: {report.note}" if report.note else "")
        + "\n"
    )
    if report.runs or (report.schedule.kind == "weekly" and report.plan_id is None):
        if report.send_at and report.status == "scheduled":
            stdout.write(f"  next run {report.send_at.astimezone(ZONE):%Y-%m-%d %H:%M} (Asia/Ho_Chi_Minh)\n")
        for run in report.runs:
            stdout.write(
                f"  run {run.id}: {run.run_at.astimezone(ZONE):%Y-%m-%d %H:%M}, {run.status}, {run.sent}/{run.total} sent"
                + (f", {run.quiz_answered} answered the quiz" if report.kind == "lesson" else "")
                + "\n"
            )
        return
    stdout.write(
        f"  recipients {report.total}: sent {c['sent']}, pending {c['pending'] + c['sending']}, failed {c['failed']}, "
        f"blocked {c['blocked']}, uncertain {c['uncertain']}, cancelled {c['cancelled']}\n"
    )
    for reason, count in report.failed_by_reason.items():
        stdout.write(f"  failed {count}: {reason}\n")
    if c["offered"] or report.pulled:
        stdout.write(
            f"  offered {c['offered']}, waiting for the user to write (no free Zalo OA window; docs/broadcasts.md); "
            f"pulled {report.pulled} (counted in sent)\n"
        )
    if report.kind == "lesson":
        stdout.write(
            f"  quiz: {report.quiz_answered} of {c['sent']} sent then answered it, {report.quiz_finished} finished it\n"
        )
    if c["uncertain"]:
        stdout.write(
            f"  {c['uncertain']} uncertain: the request left but no answer came, so they may have it already; "
            f"`hocvu broadcast resend-uncertain {report.id}` sends to them again\n"
        )
    if listing:
        for recipient in store.recipients(report.id, listing):
            stdout.write(f"  {listing}: {recipient}\n")


def _follow(store: BroadcastStore, broadcast_id: int, stdout: TextIO) -> None:
    from tqdm import tqdm

    report = store.report(broadcast_id)
    with tqdm(total=report.total, unit="msg", file=stdout, desc=f"broadcast {broadcast_id}") as bar:
        while True:
            report = store.report(broadcast_id)
            bar.update(report.finished - bar.n)
            if report.finished >= report.total or report.status in ("paused", "cancelled", "done"):
                break
            time.sleep(0.5)


def run_worker(settings: Settings) -> int:
    from channels.broadcast_worker import run as run_delivery

    asyncio.run(run_delivery(worker_config(settings)))
    return 0


def can_deliver(settings: Settings) -> bool:
    """Whether a channel the engine sends to is configured."""
    return bool(settings.secrets.get("TELEGRAM_BOT_TOKEN")) or settings.zalo_oa_on or settings.zalo_bot_on


def worker_config(settings: Settings) -> WorkerConfig:
    """The delivery engine's configuration, for `hocvu worker` and for delivery inside `hocvu serve`."""
    from channels.broadcast import EngineSettings
    from channels.broadcast_worker import WorkerConfig

    b = settings.broadcast
    return WorkerConfig(
        database_url=settings.database_url,
        redis_url=settings.secrets.get("REDIS_URL"),
        telegram_token=settings.secrets.get("TELEGRAM_BOT_TOKEN", ""),
        telegram_base_url=settings.telegram.base_url,
        rate=b.telegram_rate,
        engine=EngineSettings(concurrency=b.concurrency, max_attempts=b.max_attempts, base_delay=b.retry_delay),
        request_timeout=b.request_timeout,
        recover_after=b.recover_after,
        zalo_oa=_zalo_oa_sender(settings) if settings.zalo_oa_on else None,
        zalo_bot=_zalo_bot_sender(settings) if settings.zalo_bot_on else None,
        quiet=settings.people.quiet_hours(),
    )


def _zalo_oa_sender(settings: Settings) -> Callable[[Database], Sender]:
    from channels.broadcast_zalo import ZaloOaBroadcastSender
    from channels.zalo_oa_api import ZaloOaApi
    from channels.zalo_oa_auth import ZaloTokens
    from channels.zalo_oa_store import ZaloOaStore

    z, secrets = settings.zalo_oa, settings.secrets
    if not secrets.get("ZALO_APP_SECRET"):
        raise ConfigError("the Zalo OA channel needs ZALO_APP_SECRET to refresh its tokens (docs/zalo.md)")

    def build(db: Database) -> Sender:
        app_id = secrets["ZALO_APP_ID"]
        tokens = ZaloTokens(
            db,
            app_id,
            secrets["ZALO_APP_SECRET"],
            z.oauth_base_url,
            margin=z.token_refresh_margin,
            timeout=z.request_timeout,
        )
        api = ZaloOaApi(z.api_base_url, tokens, timeout=z.request_timeout)
        return ZaloOaBroadcastSender(api, ZaloOaStore(db, app_id), monthly_allowance=z.monthly_allowance)

    return build


def _zalo_bot_sender(settings: Settings) -> Callable[[Database], Sender]:
    from channels.broadcast_zalo_bot import ZaloBotBroadcastSender
    from channels.zalo_bot_api import ZaloBotApi

    token = settings.secrets["ZALO_BOT_TOKEN"]
    timeout = settings.broadcast.request_timeout  # one send: after it the outcome is unknown, as for Telegram

    def build(db: Database) -> Sender:
        return ZaloBotBroadcastSender(ZaloBotApi(settings.zalo_bot.api_base_url, token, timeout=timeout))

    return build

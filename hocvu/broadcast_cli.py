"""`hocvu broadcast ...` (an operator's commands; admins only once roles exist) and `hocvu worker`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from errors import ConfigError, InputError
from hocvu.config import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from channels.broadcast import Sender
    from channels.broadcast_store import BroadcastStore, Recipient
    from channels.broadcast_worker import WorkerConfig
    from storage.database import Database


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    broadcast = sub.add_parser(
        "broadcast", help="send a message to a list of recipients, and follow it"
    ).add_subparsers(dest="broadcast_command", required=True)
    for name, summary in (
        ("create", "create a broadcast: it is sent at once"),
        ("preview", "show what create would send, sending nothing"),
    ):
        command = broadcast.add_parser(name, help=summary)
        command.add_argument("--text", help="the message (plain text); --text-file reads it from a file")
        command.add_argument("--text-file", help="a UTF-8 file holding the message")
        to = command.add_mutually_exclusive_group(required=True)
        to.add_argument("--to", help="recipients as channel:id, comma-separated (telegram:123456,telegram:789)")
        to.add_argument("--to-file", help="a file of channel:id recipients, one or more a line; # starts a comment")
    broadcast.add_parser("list", help="the latest broadcasts and their counts")
    status = broadcast.add_parser(
        "status", help="a broadcast's counts: sent, pending, failed by reason, blocked, uncertain"
    )
    status.add_argument("id", type=int)
    status.add_argument("--follow", action="store_true", help="show a progress bar until it is finished")
    status.add_argument(
        "--list", choices=("uncertain", "failed", "blocked", "pending"), help="also list these recipients"
    )
    for name, summary in (
        ("pause", "stop sending a broadcast for now"),
        ("resume", "go on sending a paused broadcast"),
        ("cancel", "never send what was not sent yet"),
        ("resend-uncertain", "send again to the recipients whose delivery is uncertain (they may get it twice)"),
    ):
        broadcast.add_parser(name, help=summary).add_argument("id", type=int)
    sub.add_parser("worker", help="deliver broadcasts: procrastinate jobs on PostgreSQL (REDIS_URL), a loop on SQLite")


def _text(args: argparse.Namespace) -> str:
    if args.text is not None and args.text_file:
        raise InputError("give the text once: --text or --text-file")
    if args.text_file:
        try:
            return Path(args.text_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"--text-file {args.text_file}: {exc}") from None
    if args.text is None:
        raise InputError("the message is missing: give --text or --text-file")
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


def run(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    from channels.broadcast_store import BroadcastStore, text_problem
    from channels.broadcast_worker import open_database

    if args.broadcast_command in ("create", "preview"):
        text = _text(args)
        recipients = _recipients(args)
        problem = text_problem(text, (r.channel for r in recipients))
        if problem:
            raise InputError(
                f"{problem}; nothing was {'created' if args.broadcast_command == 'create' else 'previewed'}"
            )
        if args.broadcast_command == "preview":
            channels = sorted({r.channel for r in recipients})
            stdout.write(
                f"{len(recipients)} recipient(s) on {', '.join(channels)}; the message ({len(text)} characters):\n"
            )
            stdout.write(text.rstrip("\n") + "\n")
            return 0
    db = open_database(settings.database_url)
    try:
        store = BroadcastStore(db)
        command = args.broadcast_command
        if command == "create":
            broadcast_id = store.create(text, recipients, created_by=f"cli:{getpass.getuser()}")
            stdout.write(
                f"broadcast {broadcast_id} created for {len(recipients)} recipient(s); `hocvu worker` sends it\n"
            )
        elif command == "list":
            for report in store.recent():
                first_line = report.text.strip().splitlines()[0][:50]
                stdout.write(
                    f"{report.broadcast_id:>5}  {report.status:<9} {report.created_at:%Y-%m-%d %H:%M}  "
                    f"{report.counts['sent']}/{report.total} sent  {first_line}\n"
                )
        elif command == "status":
            if args.follow:
                _follow(store, args.id, stdout)
            _status(store, args.id, stdout, args.list)
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


def _status(store: BroadcastStore, broadcast_id: int, stdout: TextIO, listing: str | None) -> None:
    report = store.report(broadcast_id)
    c = report.counts
    stdout.write(
        f"broadcast {broadcast_id}: {report.status}, created {report.created_at:%Y-%m-%d %H:%M} UTC by {report.created_by}\n"
        f"  recipients {report.total}: sent {c['sent']}, pending {c['pending'] + c['sending']}, failed {c['failed']}, "
        f"blocked {c['blocked']}, uncertain {c['uncertain']}, cancelled {c['cancelled']}\n"
    )
    for reason, count in report.failed_by_reason.items():
        stdout.write(f"  failed {count}: {reason}\n")
    if c["uncertain"]:
        stdout.write(
            f"  {c['uncertain']} uncertain: the request left but no answer came, so they may have it already; "
            f"`hocvu broadcast resend-uncertain {broadcast_id}` sends to them again\n"
        )
    if listing:
        for recipient in store.recipients(broadcast_id, listing):
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

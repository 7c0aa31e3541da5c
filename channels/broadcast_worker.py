"""`hocvu worker`: the delivery engine as a long-running process.

- On PostgreSQL (the scale path): procrastinate jobs over the same database. A periodic job, deferred once a
  second by whichever worker's scheduler gets there first (procrastinate deduplicates periodic jobs across
  workers) and held to one waiting copy by its queueing lock, runs the engine until nothing is due or for
  JOB_BUDGET seconds; a worker busy with one leaves the next to another, so N workers send together. A job
  that ends in time is never cancelled mid-send at a stop, so a restart makes no delivery uncertain. Jobs are only wake-ups: the
  `deliveries` rows are the truth and each send claims its row, so a job run twice, retried after a crash
  (stalled jobs are retried by another periodic job) or run by two workers at once never sends a row twice.
  The global rate and the 429 pause are shared in Redis (REDIS_URL) through `limits`.
  procrastinate's own schema is applied by `hocvu db upgrade` (its schema manager), on PostgreSQL only.
- On SQLite (the embedded default, one process): the same engine in an in-process loop, the rate in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import procrastinate

from bot.people import QuietHours
from channels.broadcast import DeliveryEngine, EngineSettings, Gate, MemoryGate, RedisGate, Sender
from channels.broadcast_plans import SqlBroadcasts
from channels.broadcast_store import BroadcastStore
from channels.broadcast_telegram import TelegramBroadcastSender
from channels.telegram_store import SqlTelegramStore
from errors import ConfigError
from storage.database import Database

log = logging.getLogger(__name__)

STALLED_AFTER = 30.0  # seconds without a heartbeat after which procrastinate calls a job stalled
JOB_BUDGET = 5.0  # seconds a delivery job starts new sends for; the next job (a second later) goes on


@dataclass
class WorkerConfig:
    database_url: str
    redis_url: str | None
    telegram_token: str  # empty: no Telegram deliveries
    telegram_base_url: str
    rate: int
    engine: EngineSettings
    request_timeout: float
    recover_after: float
    zalo_oa: Callable[[Database], Sender] | None = None  # the Zalo OA's sender, when the OA is configured
    zalo_bot: Callable[[Database], Sender] | None = None  # the Zalo Bot's sender, when ZALO_BOT_TOKEN is set
    quiet: QuietHours | None = None  # no delivery inside them, and plans' runs held until they end; None: at any hour


def conninfo(database_url: str) -> str:
    """libpq's form of the SQLAlchemy URL (`postgresql+psycopg://` → `postgresql://`), options kept."""
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def open_database(url: str) -> Database:
    """The database with the broadcast tables; SQLite is migrated, a server database must be already."""
    db = Database(url)
    if db.current_revision() != db.head_revision():
        if not db.is_sqlite:
            db.dispose()
            raise ConfigError(f"the database schema is not up to date: run `hocvu db upgrade` ({db.safe_url})")
        db.upgrade(quiet=True)
    return db


# -- procrastinate ---------------------------------------------------------------------------------------

tasks = procrastinate.Blueprint()
_runtime: _Runtime | None = None


@dataclass
class _Runtime:
    engine: DeliveryEngine
    recover_after: float
    running: asyncio.Lock
    plans: SqlBroadcasts
    quiet: QuietHours | None


async def _work() -> int:
    """The engine until nothing is due; a job that finds this process's engine already running ends at once
    (the process's concurrency is the engine's, whatever procrastinate's)."""
    assert _runtime is not None, "the worker's engine is not set up"
    if _runtime.running.locked():
        return 0
    async with _runtime.running:
        store = _runtime.engine.store
        await asyncio.to_thread(_runtime.plans.materialise_due, datetime.now(UTC), _runtime.quiet)
        await asyncio.to_thread(store.recover, _runtime.recover_after, _runtime.engine.clock())
        worked = await _runtime.engine.run_until_idle(budget=JOB_BUDGET)
        await asyncio.to_thread(store.close_finished)
    return worked


@tasks.periodic(cron="* * * * * *", periodic_id="deliver")
@tasks.task(name="hocvu.broadcast.deliver", queueing_lock="hocvu.broadcast.deliver")
async def deliver(timestamp: int) -> None:
    worked = await _work()
    if worked:
        log.info("broadcast: %d deliveries worked on", worked)


@tasks.periodic(cron="*/10 * * * * *", periodic_id="stalled")
@tasks.task(name="hocvu.broadcast.retry_stalled", queueing_lock="hocvu.broadcast.retry_stalled", pass_context=True)
async def retry_stalled(context: procrastinate.JobContext, timestamp: int) -> None:
    """The jobs of a worker that died (kill -9, power cut) are retried: the recipe of procrastinate's docs."""
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER):
        log.warning("broadcast: retrying job %s of a worker that stopped answering", job.id)
        await manager.retry_job(job)


def make_app(database_url: str) -> procrastinate.App:
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(database_url)))
    app.add_tasks_from(tasks, namespace="")
    return app


async def _schema_present(app: procrastinate.App) -> bool:
    row = await app.connector.execute_query_one_async("SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present")
    return bool(row["present"])


async def apply_schema(database_url: str) -> bool:
    """procrastinate's tables, through its schema manager, when they are not there yet; True when applied."""
    app = make_app(database_url)
    async with app.open_async():
        if await _schema_present(app):
            return False
        await app.schema_manager.apply_schema_async()
        return True


# -- running ---------------------------------------------------------------------------------------------


async def _engine(config: WorkerConfig, db: Database, gate: Gate, stack: contextlib.AsyncExitStack) -> DeliveryEngine:
    """The engine with a sender per configured channel, their clients open until `stack` closes."""
    senders: list[Sender] = []
    if config.telegram_token:
        bot_id = config.telegram_token.split(":", 1)[0]
        if not bot_id.isdigit():
            raise ConfigError("TELEGRAM_BOT_TOKEN does not look like a bot token (<bot id>:<secret>)")
        blocked = SqlTelegramStore(db, int(bot_id))
        senders.append(
            TelegramBroadcastSender(
                config.telegram_token,
                config.telegram_base_url,
                blocked=blocked,
                timeout=config.request_timeout,
                connections=config.engine.concurrency,  # one connection per send in flight
            )
        )
    for build in (config.zalo_oa, config.zalo_bot):
        if build is not None:
            senders.append(build(db))
    if not senders:
        raise ConfigError(
            "no channel to deliver to: set TELEGRAM_BOT_TOKEN, the Zalo OA's variables or ZALO_BOT_TOKEN (docs/zalo.md)"
        )
    engine = DeliveryEngine(BroadcastStore(db), senders, gate, config.engine, quiet=config.quiet)
    return await stack.enter_async_context(engine)


async def run(config: WorkerConfig, *, stop: asyncio.Event | None = None) -> None:
    db = open_database(config.database_url)
    try:
        if db.is_sqlite:
            await run_embedded(config, db, stop or _stop_on_signals())
        else:
            await _run_procrastinate(config, db)
    finally:
        db.dispose()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def run_embedded(config: WorkerConfig, db: Database, stop: asyncio.Event) -> None:
    """The in-process loop on SQLite (`hocvu worker`, or inside `hocvu serve` on the app's database) until
    `stop` is set: then no new row is claimed and the sends under way finish, so none is left sending."""
    async with contextlib.AsyncExitStack() as stack:
        engine = await _engine(config, db, MemoryGate(config.rate), stack)
        log.info("broadcast: delivering in this process (SQLite), at most %d messages/s", config.rate)
        plans = asyncio.create_task(_materialise_until(stop, SqlBroadcasts(db), config.quiet))
        try:
            await engine.run(stop, recover_after=config.recover_after)
        finally:
            plans.cancel()
            await asyncio.gather(plans, return_exceptions=True)


async def _materialise_until(stop: asyncio.Event, plans: SqlBroadcasts, quiet: QuietHours | None) -> None:
    """The runs of broadcast plans made when due (the engine's loop then sends them), once a second."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(plans.materialise_due, datetime.now(UTC), quiet)
        except Exception:
            log.exception("broadcast: making the runs that are due")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)


async def _run_procrastinate(config: WorkerConfig, db: Database) -> None:
    global _runtime
    if not config.redis_url:
        raise ConfigError("`hocvu worker` on PostgreSQL needs REDIS_URL: the workers share the send rate there")
    gate = RedisGate(config.redis_url, config.rate)
    app = make_app(config.database_url)
    try:
        async with contextlib.AsyncExitStack() as stack, app.open_async():
            engine = await _engine(config, db, gate, stack)
            if not await _schema_present(app):
                raise ConfigError("procrastinate's tables are missing: run `hocvu db upgrade`")
            _runtime = _Runtime(engine, config.recover_after, asyncio.Lock(), SqlBroadcasts(db), config.quiet)
            log.info("broadcast: worker started (procrastinate), at most %d messages/s in all", config.rate)
            # At SIGTERM the job under way stops starting sends within JOB_BUDGET and its sends finish within
            # two request timeouts (aiohttp's total), so a restart cancels none mid-send.
            grace = JOB_BUDGET + 2 * config.request_timeout + 5
            await app.run_worker_async(
                concurrency=2, install_signal_handlers=True, shutdown_graceful_timeout=grace, delete_jobs="successful"
            )
    finally:
        _runtime = None
        await gate.close()

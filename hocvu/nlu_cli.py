"""`hocvu nlu train | eval | serve`: the NLU engines from the command line."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from errors import ConfigError
from hocvu.config import Settings

ENGINES = ("embedded", "rasa", "rules")


def add_parser(sub: Any) -> None:
    nlu = sub.add_parser("nlu", help="intent recognition").add_subparsers(dest="nlu_command", required=True)
    train = nlu.add_parser("train", help="train an engine from the Rasa-format data (skipped when unchanged)")
    train.add_argument("--engine", choices=("embedded", "rasa"), default="embedded")
    train.add_argument("--force", action="store_true", help="train even when a model for this data exists")
    ev = nlu.add_parser("eval", help="accuracy, macro F1 and out-of-scope recall on the held-out file")
    ev.add_argument("--engine", choices=ENGINES, default=None, help="default: nlu.engine from config.yml")
    ev.add_argument("--file", help="held-out Rasa YAML (default: nlu.test_data)")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--check", action="store_true", help="exit 1 below the targets")
    serve = nlu.add_parser("serve", help="run the Rasa server on 127.0.0.1 until interrupted")
    serve.add_argument("--port", type=int, default=None, help="default: the port of nlu.rasa.url")


def run(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    if args.nlu_command == "train":
        return _train(settings, args, stdout)
    if args.nlu_command == "eval":
        return _eval(settings, args, stdout)
    if args.nlu_command == "serve":
        return _serve(settings, args, stdout)
    return 2


def _embedder(settings: Settings) -> Any:
    from hocvu.app import make_embedder

    embedder = make_embedder(settings)
    embedder.warm_up()
    return embedder


def _train(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    from hocvu.app import rasa_project
    from nlu.embedded import EmbeddedEngine
    from nlu.training_data import load_training_data

    data = load_training_data(settings.nlu.training_data)  # fail fast, with file:line, before any model loads
    started = time.perf_counter()
    if args.engine == "embedded":
        engine = EmbeddedEngine(_embedder(settings), data, settings.data_dir / "nlu")
        path = engine.cache_path(data)
        if args.force and path is not None:
            path.unlink(missing_ok=True)
        engine.warm_up()
        state = "trained" if engine.trained_from_scratch else "up to date"
        print(f"embedded NLU {state}: {path} ({time.perf_counter() - started:.1f} s)", file=stdout)
        return 0
    model, trained = rasa_project(settings).train(force=args.force)
    state = "trained" if trained else "up to date"
    print(f"Rasa NLU model {state}: {model} ({time.perf_counter() - started:.1f} s)", file=stdout)
    return 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _eval(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    from hocvu.app import rasa_project
    from nlu.embedded import EmbeddedEngine
    from nlu.engine import NLUUnavailable
    from nlu.evaluation import evaluate, format_report
    from nlu.rasa_engine import RasaEngine
    from nlu.rasa_server import RasaServer
    from nlu.rules import RuleEngine
    from nlu.training_data import load_training_data

    engine_name = args.engine or settings.nlu.engine
    held_out = load_training_data(Path(args.file) if args.file else settings.nlu.test_data)
    embedder = _embedder(settings)
    server: RasaServer | None = None
    engine: Any
    if engine_name == "embedded":
        engine = EmbeddedEngine(embedder, settings.nlu.training_data, settings.data_dir / "nlu")
    elif engine_name == "rules":
        engine = RuleEngine()
    else:
        # The bare Rasa client, no fallback: a Rasa failure must show in the figures. A server of our own is
        # started (and stopped) unless one is already answering at nlu.rasa.url.
        # A running server is only usable with its token.
        token = settings.secrets.get("RASA_AUTH_TOKEN")
        engine = RasaEngine(settings.nlu.rasa.url, token=token, timeout=5.0) if token else None
        try:
            if engine is None:
                raise NLUUnavailable("no RASA_AUTH_TOKEN for a running server")
            engine.status()
        except NLUUnavailable:
            server = RasaServer(rasa_project(settings), port=free_port(), token=secrets.token_urlsafe(32))
            server.start()
            engine = RasaEngine(server.url, token=server.token, timeout=5.0)
    try:
        engine.warm_up()
        report = evaluate(engine, held_out.examples, embedder, settings.nlu.intent_threshold)
    finally:
        if server is not None:
            server.stop()
    if args.json:
        stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        stdout.write(format_report(report) + "\n")
    failures = report.failures()
    if args.check and failures:
        print("NLU quality below target: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


def _serve(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    from urllib.parse import urlparse

    from hocvu.app import rasa_project
    from nlu.rasa_server import RasaServer

    token = settings.secrets.get("RASA_AUTH_TOKEN")
    if not token:
        raise ConfigError("RASA_AUTH_TOKEN is not set: the Rasa server is started with an auth token only")
    port = args.port or urlparse(settings.nlu.rasa.url).port or 5005
    project = rasa_project(settings)
    server = RasaServer(project, port=port, token=token, log_file=settings.data_dir / "rasa-server.log")
    stop = False

    def _on_signal(signum: int, frame: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _on_signal)
    server.start()
    try:
        print(
            f"Rasa NLU ready at {server.url} (model {project.model_path.name}, pid {os.getpid()}, "
            f"cold start {server.cold_start_seconds:.1f} s); Ctrl-C stops it",
            file=stdout,
            flush=True,
        )
        while not stop and server.process is not None and server.process.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        exited = server.process is not None and server.process.poll() is not None
        server.stop()
    if exited:
        print(f"hocvu: the Rasa server exited; see {server.log_file}", file=sys.stderr)
        return 1
    return 0

"""Training and serving Rasa Open Source in its own Python 3.10 environment (`.rasa-venv`, `make rasa`).

Models are named by a hash of everything that shapes them: the training data, the pipeline, the lock file,
the custom components' code and the e5 model they read (its format and folder). Training is skipped when
nothing changed, and a server never loads a model trained on other data or other features.

Rasa imports the custom components (nlu/rasa_components) from this repository: its processes get the
repository root on PYTHONPATH and the e5 model folder in HOCVU_E5_MODEL, which nlu/config.yml reads.

Rasa's processes get none of the app's secrets: their environment is the app's without the variables the
composition root names (hocvu.config.SECRET_VARIABLES), without anything named like a secret and without
URLs that hold a password. The server's own secret, the key its clients sign their JWTs with, reaches it
on a pipe (nlu/rasa_launcher.py), so it is on no command line and in no environment.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from embeddings.onnx_export import INFO_FILE, is_built
from errors import ConfigError, SetupError
from language.normalize import NORMALIZER_VERSION
from nlu.engine import NLUUnavailable
from nlu.rasa_components import APP_CODE
from nlu.rasa_engine import RasaEngine

CODE_ROOT = Path(__file__).resolve().parent.parent  # where Rasa finds the `nlu.rasa_components` package
COMPONENTS = Path(__file__).resolve().parent / "rasa_components"


# TensorFlow settings for `rasa train` and `rasa run`, so that a model depends as little on the machine as
# TensorFlow allows (docs/benchmarks.md, NLU: bench/rasa_kernels.py, bench/rasa_spread.py). oneDNN, which
# does TensorFlow's matrix products even with its other optimisations off, picks kernels by the CPU's
# instruction sets, and they round differently: with the same seed, AVX-512 and AVX2 kernels gave 163 and
# 160 of 169 right. Capped at AVX2, which every x86-64 server CPU of the last decade has, AVX-512 and AMX
# machines run the kernels an AVX2 machine runs. Fixed thread counts keep the work split the same on any
# number of cores (one thread and two train different weights). Weights are then the same from run to run
# on a machine, but not proven the same across machines, and the e5 features differ slightly between CPUs
# anyway: tests/test_nlu_rasa.py holds a training to floors set from the spread of correct trainings.
# The environment may override each setting.
REPRODUCIBLE = {
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "TF_DETERMINISTIC_OPS": "1",
    "TF_INTRA_OP_PARALLELISM_THREADS": "2",
    "TF_INTER_OP_PARALLELISM_THREADS": "2",
}


class RasaSetupError(SetupError):
    """The Rasa environment or model is missing; the message says how to get it."""


def model_name(
    training_data: Path, pipeline: Path, lock_file: Path | None = None, *, extra: Sequence[Path] = (), salt: str = ""
) -> str:
    digest = hashlib.sha256(salt.encode())
    for path in (training_data, pipeline, lock_file, *extra):
        if path is not None and path.exists():
            digest.update(path.read_bytes())
    return f"nlu-{digest.hexdigest()[:16]}"


# Names of variables that hold secrets, whoever set them (ours, a cloud's, a CI's).
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:TOKEN|SECRET|PASSWORD|PASSWD|PASS|CREDENTIALS?|API_?KEY|PRIVATE_KEY|KEY|DSN)(?:_|$)", re.IGNORECASE
)


def _holds_password(value: str) -> bool:
    try:
        return "://" in value and bool(urllib.parse.urlsplit(value).password)
    except ValueError:
        return False


def without_secrets(environ: Mapping[str, str], withheld: Collection[str] = ()) -> dict[str, str]:
    """`environ` without the `withheld` variables, anything named like a secret and URLs with a password."""
    return {
        name: value
        for name, value in environ.items()
        if name not in withheld and not _SECRET_NAME.search(name) and not _holds_password(value)
    }


def _environment(models_dir: Path, e5_model: Path, withheld: Collection[str]) -> dict[str, str]:
    env = without_secrets(os.environ, withheld)
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env["RASA_CACHE_DIRECTORY"] = str(models_dir / "cache")  # not .rasa/ in whatever the working directory is
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name, value in REPRODUCIBLE.items():
        env.setdefault(name, value)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(CODE_ROOT), env.get("PYTHONPATH", "")) if p)
    env["HOCVU_E5_MODEL"] = str(e5_model)
    return env


class RasaProject:
    """Where the Rasa environment, data and models are; knows how to train."""

    def __init__(
        self,
        venv: Path,
        training_data: Path,
        pipeline: Path,
        models_dir: Path,
        lock_file: Path,
        *,
        e5_model: Path,
        withheld: Collection[str] = (),
    ) -> None:
        self.withheld = frozenset(withheld)  # the app's secret variables, kept from Rasa's processes
        self.venv = venv
        self.training_data = training_data
        self.pipeline = pipeline
        self.models_dir = models_dir
        self.lock_file = lock_file
        self.e5_model = e5_model  # the int8 ONNX e5 folder the pipeline's E5SentenceFeaturizer reads

    @property
    def environment(self) -> dict[str, str]:
        return _environment(self.models_dir, self.e5_model, self.withheld)

    @property
    def rasa(self) -> Path:
        return self.venv / "bin" / "rasa"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def model_path(self) -> Path:
        # The model stores the e5 folder's path (Rasa resolves ${HOCVU_E5_MODEL} when training), and its
        # features depend on the components' code, the ONNX format and the normaliser.
        components = [*sorted(COMPONENTS.glob("*.py")), *APP_CODE]
        name = model_name(
            self.training_data,
            self.pipeline,
            self.lock_file,
            extra=[*components, self.e5_model / INFO_FILE],
            salt=f"{self.e5_model.resolve()}\0normalizer {NORMALIZER_VERSION}\0{sorted(REPRODUCIBLE.items())}",
        )
        return self.models_dir / f"{name}.tar.gz"

    def require_rasa(self) -> None:
        if not self.rasa.exists():
            raise RasaSetupError(f"Rasa is not installed at {self.venv}: run `make rasa` (needs Python 3.10)")

    def require_e5_model(self) -> None:
        """The pipeline reads the app's ONNX e5 model; building it is `hocvu model export-onnx`'s job."""
        if not is_built(self.e5_model):
            raise RasaSetupError(
                f"the Rasa pipeline needs the ONNX e5 model in {self.e5_model}: run `hocvu model export-onnx` "
                "(`make install` runs it)"
            )

    def train(self, *, force: bool = False) -> tuple[Path, bool]:
        """Train unless a model for the current data exists; returns (model, trained now).

        Concurrent callers (a test run and `make rasa`) take turns on a lock file; the model appears under
        its final name only when complete.
        """
        self.require_rasa()
        self.require_e5_model()
        model = self.model_path
        if model.exists() and not force:
            return model, False
        self.models_dir.mkdir(parents=True, exist_ok=True)
        with open(self.models_dir / ".train.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if model.exists() and not force:
                return model, False  # trained by whoever held the lock before us
            with tempfile.TemporaryDirectory(dir=self.models_dir, prefix=".training-") as out:
                command = [
                    str(self.rasa),
                    "train",
                    "nlu",
                    "--nlu",
                    str(self.training_data),
                    "--config",
                    str(self.pipeline),
                    "--out",
                    out,
                    "--fixed-model-name",
                    "model",
                ]
                result = subprocess.run(command, env=self.environment, capture_output=True, text=True, check=False)
                trained = Path(out) / "model.tar.gz"
                if result.returncode != 0 or not trained.exists():
                    tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
                    raise RasaSetupError(f"`rasa train nlu` failed (exit {result.returncode}):\n{tail}")
                os.replace(trained, model)
        return model, True


class RasaServer:
    """`rasa run --enable-api` on 127.0.0.1; stopped by its process id (process group) on exit.

    Clients authenticate with JWTs signed with `token` (Rasa's `--jwt-secret`, given on a pipe: see
    nlu/rasa_launcher.py); Rasa's `--auth-token` is not used, as it is accepted only in the URL.
    """

    def __init__(
        self, project: RasaProject, *, port: int, token: str, log_file: Path | None = None, host: str = "127.0.0.1"
    ) -> None:
        if not token or "\n" in token:
            raise ConfigError("RASA_AUTH_TOKEN must be one line of text")
        self.project = project
        self.port = port
        self.token = token
        self.host = host
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None
        self.cold_start_seconds: float | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self, model: Path) -> Sequence[str]:
        """`rasa run` by way of the launcher, which reads the JWT secret from standard input."""
        return [
            str(self.project.python),
            "-m",
            "nlu.rasa_launcher",
            "run",
            "--enable-api",
            "-i",
            self.host,
            "-p",
            str(self.port),
            "--model",
            str(model),
        ]

    def start(self, *, timeout: float = 180.0) -> None:
        """Start the server and wait until its model is loaded."""
        self.project.require_rasa()
        model = self.project.model_path
        if not model.exists():
            raise RasaSetupError(f"no Rasa model for the current training data at {model}: run `make rasa`")
        started = time.perf_counter()
        log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115 - lives with the process
        try:
            # A new session makes the server a process-group leader, so stop() reaches its children too.
            self.process = subprocess.Popen(
                self.command(model),
                env=self.project.environment,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            if self.log_file:
                log.close()  # type: ignore[union-attr]
        assert self.process.stdin is not None
        try:
            with self.process.stdin as secret:
                secret.write(self.token.encode() + b"\n")
        except BrokenPipeError:
            pass  # it exited before reading: wait_ready reports that
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        self.cold_start_seconds = time.perf_counter() - started

    def wait_ready(self, timeout: float) -> None:
        client = RasaEngine(self.url, token=self.token, timeout=2.0)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RasaSetupError(
                    f"Rasa exited with code {self.process.returncode} while starting"
                    + (f"; see {self.log_file}" if self.log_file else "")
                )
            try:
                if client.status().get("model_id"):
                    return
            except NLUUnavailable:
                pass
            time.sleep(0.5)
        self.stop()
        raise RasaSetupError(f"Rasa did not load its model within {timeout:.0f} s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        except ProcessLookupError:
            pass

    def __enter__(self) -> RasaServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

"""One error family: every error that ends a command is a HocvuError, and `hocvu` turns each into its message
and exit code in one place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import errors
from bot.people import PeopleError
from bot.reports import ReportError
from channels.telegram import TelegramConfigError
from channels.zalo_bot import ZaloBotConfigError
from channels.zalo_bot_api import ZaloBotError
from channels.zalo_oa_api import ZaloApiError
from channels.zalo_oa_auth import OAuthFailure
from embeddings.e5_export import E5ExportError
from embeddings.embedder import ModelMissing
from embeddings.onnx_e5 import OnnxE5Embedder
from embeddings.onnx_export import OnnxExportError
from hocvu import cli
from nlu.engine import NLUUnavailable
from nlu.rasa_server import RasaSetupError
from nlu.training_data import TrainingDataError
from storage.database import DatabaseUnreachable

REPO = Path(__file__).resolve().parent.parent
APP_PACKAGES = ("bot", "channels", "embeddings", "hocvu", "knowledge_base", "language", "nlu", "storage")
# Handled where they are raised, never shown to a person as the end of a command.
INTERNAL = {"StaleAction"}
FAMILY: dict[type[Exception], type[errors.HocvuError]] = {
    TelegramConfigError: errors.ConfigError,
    TrainingDataError: errors.ContentError,
    E5ExportError: errors.SetupError,
    OnnxExportError: errors.SetupError,
    RasaSetupError: errors.SetupError,
    ModelMissing: errors.SetupError,
    NLUUnavailable: errors.ServiceError,
    ZaloApiError: errors.ServiceError,
    ZaloBotConfigError: errors.ConfigError,
    ZaloBotError: errors.ServiceError,
    PeopleError: errors.InputError,
    ReportError: errors.InputError,
    OAuthFailure: errors.ServiceError,
    DatabaseUnreachable: errors.ServiceError,
}


def test_every_error_class_in_the_app_belongs_to_the_family() -> None:
    defined: dict[str, str] = {}  # class name -> file
    for package in APP_PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef) and any(
                    isinstance(base, ast.Name) and (base.id.endswith(("Error", "Exception")) or base.id in defined)
                    for base in node.bases
                ):
                    defined[node.name] = str(path.relative_to(REPO))
    unlisted = set(defined) - INTERNAL - {cls.__name__ for cls in FAMILY}
    assert not unlisted, f"new error classes: derive them from errors.HocvuError and list them in FAMILY: {unlisted}"
    assert {cls.__name__ for cls in FAMILY} <= set(defined)
    for cls, family in FAMILY.items():
        assert issubclass(cls, family), f"{cls.__name__} ({defined[cls.__name__]}) is not a {family.__name__}"


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (
            errors.ConfigError("config.yml: nlu.engine: 'x' is not one of ..."),
            2,
            "hocvu ask: configuration error: config.yml: nlu.engine",
        ),
        (
            errors.ContentError(["a.md:3: topic: unknown", "b.md: title: missing"]),
            2,
            "hocvu ask: the knowledge base has 2 problem(s):\na.md:3",
        ),
        (
            TrainingDataError(["nlu.yml:7: unknown intent 'x'"]),
            2,
            "hocvu ask: the NLU data has 1 problem(s):\nnlu.yml:7",
        ),
        (
            ModelMissing("the ONNX embedder is not built in /m: run `hocvu model export-onnx`"),
            2,
            "hocvu ask: the ONNX embedder",
        ),
        (errors.ServiceError("could not start against the Bot API"), 1, "hocvu ask: could not start"),
        (errors.InputError("--to: 1 malformed recipient(s)"), 2, "hocvu ask: --to: 1 malformed"),
    ],
)
def test_the_entry_point_turns_each_family_into_its_message_and_exit_code(
    error: errors.HocvuError,
    code: int,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def fail(*args: object) -> int:
        raise error

    monkeypatch.setattr(cli, "cmd_ask", fail)
    assert cli.main(["ask", "x"]) == code
    err = capsys.readouterr().err
    assert err.startswith(message), err
    assert "Traceback" not in err


def test_a_missing_onnx_model_names_the_command_that_builds_it_and_builds_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "e5-small-int8"
    with pytest.raises(ModelMissing, match=r"not built in .*e5-small-int8: run `hocvu model export-onnx`"):
        OnnxE5Embedder(folder).warm_up()
    assert not folder.exists(), "serving must never run an export"

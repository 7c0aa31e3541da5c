import dataclasses
import functools
import re
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from errors import ConfigError
from hocvu.config import Settings, load_settings

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "config.yml"

# Keys whose value in config.yml differs on purpose from their dataclass default, each with its reason.
# None: config.yml ships exactly the defaults, so leaving a key out never changes what the product does.
DELIBERATE_DIFFERENCES: frozenset[str] = frozenset()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(text, encoding="utf-8")
    return path


def settings_fields(cls: type[Any] = Settings, prefix: str = "") -> Iterator[tuple[str, dataclasses.Field[Any], Any]]:
    """(dotted key, field, type) of every setting config.yml can hold, sections flattened."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if not f.metadata.get("in_file", True):
            continue
        if dataclasses.is_dataclass(hints[f.name]):
            yield from settings_fields(hints[f.name], f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", f, hints[f.name]


def leaves(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """config.yml's settings as dotted key: value."""
    found: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            found |= leaves(value, f"{prefix}{key}.")
        else:
            found[f"{prefix}{key}"] = value
    return found


def as_loaded(kind: Any, value: Any, base: Path) -> Any:
    """What the settings hold for `value`: paths are relative to the config file's folder, lists are tuples."""
    if typing.get_origin(kind) is tuple and value is not None:
        return tuple(value)
    return (base / value).resolve() if kind is Path and value is not None else value


def loaded(settings: Settings, key: str) -> Any:
    return functools.reduce(getattr, key.split("."), settings)


def with_value(settings: Any, key: str, value: Any) -> Any:
    name, _, rest = key.partition(".")
    return dataclasses.replace(settings, **{name: with_value(getattr(settings, name), rest, value) if rest else value})


def shipped() -> dict[str, Any]:
    return leaves(yaml.safe_load(SHIPPED.read_text(encoding="utf-8")))


def test_config_yml_lists_every_setting_and_nothing_else() -> None:
    assert set(shipped()) == {key for key, _, _ in settings_fields()}


def test_every_setting_in_config_yml_has_a_comment() -> None:
    """A comment on the key's line, or comment lines right above it, so config.yml documents every setting."""
    documented: dict[str, bool] = {}
    sections: list[tuple[int, str]] = []
    previous = ""
    for line in SHIPPED.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"( *)(\w+):(.*)", line):
            indent, key, rest = len(match[1]), match[2], match[3]
            sections = [(i, k) for i, k in sections if i < indent]
            documented[".".join([k for _, k in sections] + [key])] = " #" in rest or previous.startswith("#")
            sections.append((indent, key))
        previous = line.strip()
    settings = shipped()
    assert set(settings) <= set(documented)
    assert [key for key in settings if not documented[key]] == []


def test_config_yml_values_are_the_dataclass_defaults() -> None:
    different = {
        key
        for key, f, kind in settings_fields()
        if as_loaded(kind, shipped()[key], REPO) != as_loaded(kind, f.default, REPO)
    }
    assert different == DELIBERATE_DIFFERENCES


def test_shipped_config_loads_as_it_reads() -> None:
    settings = load_settings(SHIPPED, environ={})
    kinds = {key: kind for key, _, kind in settings_fields()}
    assert {key: loaded(settings, key) for key in kinds} == {
        key: as_loaded(kinds[key], value, REPO) for key, value in shipped().items()
    }
    assert settings.embedder.backend == "onnx" and settings.embedder.threads == 1
    assert settings.data_dir == (REPO / "var").resolve()
    assert settings.articles_dir == (REPO / "knowledge_base" / "articles").resolve()


@pytest.mark.parametrize("text", ["", "{}\n", "embedder:\nnlu:\n  rasa:\n", "embedder:\n  threads:\nlogging: {}\n"])
def test_a_config_without_settings_gives_exactly_the_dataclass_defaults(tmp_path: Path, text: str) -> None:
    """Left-out and empty keys: the loader restates no default, it leaves them to the dataclasses."""
    path = write(tmp_path, text)
    expected = Settings(path=path.resolve())
    for key, f, kind in settings_fields():
        if kind is Path:  # the only defaults the loader touches: relative ones become the config file's
            expected = with_value(expected, key, as_loaded(kind, f.default, tmp_path.resolve()))
    assert load_settings(path, environ={}) == expected


def other_value(kind: Any, f: dataclasses.Field[Any]) -> Any:
    """A valid value for the setting that is not its default."""
    default = f.default
    if kind is str:
        choices = f.metadata.get("choices")
        if choices:
            return next(c for c in choices if c != default)
        return "https://bot.example.org/hook" if default == "" and f.name == "webhook_url" else f"{default}x"
    if kind is Path:
        return "elsewhere/file.yml"
    if typing.get_origin(kind) is tuple:  # logger names, or the volunteers' Telegram user ids
        return ["telegram", "aiohttp"] if typing.get_args(kind)[0] is str else [123456789, 987654321]
    if kind is float:
        return default * 1.01
    return default + 1 if isinstance(default, int) else -100123  # the volunteer chat id, None by default


# Settings whose values have a shape of their own: a URL must stay one, a user key, a time of day, a time zone.
VALID_OTHER: dict[str, Any] = {
    "nlu.rasa.url": "https://rasa.example.org",
    "people.admins": ["telegram:123456789", "zalo_oa:8461"],
    "people.quiet_hours_start": "22:30",
    "people.quiet_hours_end": "06:00",
    "people.timezone": "Asia/Bangkok",
    "reports.basic_skills_certificates": ["vneid", "digital_skills"],
    "reports.basic_skills_at_least": 3,
    "reports.elderly_age_bands": ["40_59", "60p"],
    "reports.timezone": "Asia/Bangkok",
}


@pytest.mark.parametrize(("key", "f", "kind"), [pytest.param(*s, id=s[0]) for s in settings_fields()])
def test_every_setting_is_read_from_its_key(tmp_path: Path, key: str, f: dataclasses.Field[Any], kind: Any) -> None:
    value = VALID_OTHER[key] if key in VALID_OTHER else other_value(kind, f)
    *sections, name = key.split(".")
    data: dict[str, Any] = {name: value}
    for section in reversed(sections):
        data = {section: data}
    if key == "embedder.backend":
        data["embedder"]["model"] = "some-model"  # the other backend (sentence-transformers) needs one
    settings = load_settings(write(tmp_path, yaml.safe_dump(data)), environ={})
    assert loaded(settings, key) == as_loaded(kind, value, tmp_path.resolve()) != as_loaded(kind, f.default, tmp_path)


def test_secrets_come_only_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "{}\n"), environ={"TELEGRAM_BOT_TOKEN": "123:abc", "UNRELATED": "x"})
    assert settings.secrets["TELEGRAM_BOT_TOKEN"] == "123:abc"
    assert "UNRELATED" not in settings.secrets
    assert "123:abc" not in repr(settings)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("embedder: [1, 2]\n", "'embedder' must be a section"),
        ("nlu:\n  rasa: fast\n", "nlu: 'rasa' must be a section"),
        ("embedder:\n  threads: 0\n", "embedder: 'threads' must be a whole number ≥ 1, got 0"),
        ("embedder:\n  threads: true\n", "embedder: 'threads' must be a whole number ≥ 1, got True"),
        ("embedder:\n  backend: sentence-transformers\n", "'embedder.model' is required"),
        ("retrieval:\n  answer_threshold: high\n", "retrieval: 'answer_threshold' must be a number between 0 and 2"),
        ("retrieval:\n  dense_candidates: 0\n", "retrieval: 'dense_candidates' must be a whole number ≥ 1"),
        ("retrieval:\n  answer_threshold: 0.5\n  suggest_threshold: 0.9\n", "must not exceed"),
        ("default_language: fr\n", "'default_language' is 'fr'; expected one of vi, en"),
        ("logging:\n  level: LOUD\n", "logging: 'level' is 'LOUD'; expected one of DEBUG, INFO, WARNING, ERROR"),
        ("logging:\n  libraries: telegram\n", "logging: 'libraries' must be a list of logger names, got 'telegram'"),
        ("logging:\n  libraries: [telegram, 3]\n", "logging: 'libraries' must be a list of logger names"),
        ("server:\n  port: 70000\n", "server: 'port' must be a whole number between 1 and 65535"),
        ("telegram:\n  volunteer_chat_id: abc\n", "telegram: 'volunteer_chat_id' must be a chat id (a whole number)"),
        ("telegram:\n  webhook_path: hook\n", "'telegram.webhook_path' must start with '/'"),
        ("server:\n  host: 8080\n", "server: 'host' must be text, got 8080"),
        (
            "telegram:\n  webhook_url: http://bot.example.org/hook\n",
            "'telegram.webhook_url' (or TELEGRAM_WEBHOOK_URL) must be an https:// URL",
        ),
        (
            "zalo_bot:\n  webhook_url: http://bot.example.org/hook\n",
            "'zalo_bot.webhook_url' (or ZALO_BOT_WEBHOOK_URL) must be an https:// URL",
        ),
        ("zalo_bot:\n  webhook_path: /telegram/webhook\n", "'zalo_bot.webhook_path' must differ"),
        ("zalo_bot:\n  poll_wait: 0\n", "zalo_bot: 'poll_wait' must be seconds between 1 and 300, got 0"),
        ("nlu:\n  rasa:\n    retry_after: -1\n", "nlu.rasa: 'retry_after' must be seconds ≥ 0, got -1"),
        ("data_dir: 5\n", "'data_dir' must be a path, got 5"),
        ("data_dir: [\n", "invalid YAML"),
        # A typo must not quietly leave the setting at its default.
        ("embedder:\n  thread: 2\n", "embedder: unknown key 'thread'; did you mean 'threads'?"),
        ("nlu:\n  rasa:\n    adress: x\n", "nlu.rasa: unknown key 'adress'; expected one of url, timeout"),
        ("log_level: DEBUG\n", "unknown key 'log_level'; expected one of data_dir, content_dir"),
        ("secrets:\n  HOCVU_SECRET_KEY: x\n", "unknown key 'secrets'"),  # secrets come only from the environment
    ],
)
def test_invalid_settings_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    assert str(path) in str(error.value) and message in str(error.value)


def test_every_problem_in_the_file_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "embedder:\n  threads: 0\n  colour: red\ntelegram:\n  webhook_path: hook\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    lines = str(error.value).splitlines()
    assert len(lines) == 3 and all(line.startswith(f"{path}: ") for line in lines)
    assert "'threads'" in str(error.value) and "'colour'" in str(error.value) and "webhook_path" in str(error.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "nope.yml", environ={})


def test_without_hocvu_secret_key_one_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, f"data_dir: {tmp_path / 'data'}\n"), environ={})
    key = settings.signing_keys().current
    path = tmp_path / "data" / "secret_key"
    assert len(key) >= 43 and (path.stat().st_mode & 0o777) == 0o600  # 32 random bytes, base64-encoded
    assert settings.signing_keys().current == key  # a later start signs with the same key
    path.write_text("")
    with pytest.raises(ConfigError, match="signing key file is empty; restore it from a backup"):
        settings.signing_keys()


LONG_KEY = "Zk3v9Qx2LmP8rT5wY7bN1cD4fG6hJ0sA-_uE2iO9pR3"  # 43 base64url characters: 32 bytes


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("from-env", "is 8 characters long; a signing key needs 32 random bytes (43 characters)"),
        ("tests-only-signing-key", "is 22 characters long"),
        ("0123456789abcdef" * 3, "is 48 characters long; a signing key needs 32 random bytes (64 characters)"),
        ("a" * 64, "has only 1 different characters: it is not random"),
    ],
)
def test_a_signing_key_shorter_than_32_random_bytes_is_refused_naming_the_variable(key: str, message: str) -> None:
    # A short key was recovered from one issued certificate offline in milliseconds, then forged others.
    settings = load_settings(SHIPPED, environ={"HOCVU_SECRET_KEY": key})
    with pytest.raises(ConfigError) as error:
        settings.signing_keys()
    text = str(error.value)
    assert text.startswith("HOCVU_SECRET_KEY ") and message in text
    assert "token_urlsafe(32)" in text and "HOCVU_OLD_SECRET_KEYS" in text  # how to fix it without losing codes
    assert key not in text or len(key) < 4  # the message never repeats the secret


def test_a_short_key_in_the_key_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret_key").write_text("short\n")
    settings = load_settings(write(tmp_path, f"data_dir: {tmp_path / 'data'}\n"), environ={})
    with pytest.raises(ConfigError, match=r"secret_key \(its first line\) is 5 characters long"):
        settings.signing_keys()


def test_old_keys_are_kept_for_verification_and_the_short_ones_marked_weak(tmp_path: Path) -> None:
    new, old = LONG_KEY, "Qw8eR7tY6uI5oP4aS3dF2gH1jK0lZ9xC-_vB8nM7q6W"
    environ = {"HOCVU_SECRET_KEY": new, "HOCVU_OLD_SECRET_KEYS": f"{old}, tests-only-signing-key"}
    keys = load_settings(SHIPPED, environ=environ).signing_keys()
    assert keys.current == new.encode()
    assert keys.old == (old.encode(), b"tests-only-signing-key")
    assert keys.weak == {b"tests-only-signing-key"}  # verifies what it signed, proves nothing without the database
    # The key file rotates the same way: the first line signs, the lines below it only verify.
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret_key").write_text(f"{new}\n{old}\n")
    from_file = load_settings(write(tmp_path, f"data_dir: {tmp_path / 'data'}\n"), environ={}).signing_keys()
    assert (from_file.current, from_file.old, from_file.weak) == (new.encode(), (old.encode(),), frozenset())

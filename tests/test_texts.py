"""The UI text catalog (bot/texts.py) cannot drift: both languages, the same placeholders, no unused key, no
user-facing text written elsewhere, and English plurals that agree with their number."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from bot import texts

REPO = Path(__file__).resolve().parent.parent
APP_PACKAGES = ("bot", "channels", "embeddings", "hocvu", "knowledge_base", "language", "nlu", "storage")
CATALOGS = {"texts": texts._TEXTS, "buttons": texts.BUTTONS, "secret names": texts.SECRET_NAMES}
VIETNAMESE = re.compile(r"[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]", re.IGNORECASE)
# Vietnamese text that is not UI text, each with the reason it lives where it does.
NOT_UI = {
    "bot/texts.py": "the catalog itself",
    "bot/routes.py": "the command table carries each command's menu text in both languages",
    "knowledge_base/topics.py": "the topic registry carries each topic's name in both languages",
    "language/normalize.py": "abbreviations and the characters normalisation matches",
    "bot/guard.py": "the placeholders that replace secrets are stored text, read by Vietnamese volunteers",
    "hocvu/cli.py": "the command line is for operators, in English; the movement's name is a proper noun",
    "knowledge_base/checks.py": "the content checks match Vietnamese wording in articles (retired authorities' names)",
    "knowledge_base/gaps.py": "article skeletons for content authors, with the section headings articles are written with",
}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _app_files() -> list[Path]:
    return [path for package in APP_PACKAGES for path in (REPO / package).rglob("*.py")]


def _strings(path: Path) -> list[ast.Constant]:
    """String constants in a module, docstrings left out (they are for readers of the code)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


@pytest.mark.parametrize("catalog", CATALOGS, ids=str)
def test_every_entry_has_both_languages_with_the_same_placeholders(catalog: str) -> None:
    for key, entry in CATALOGS[catalog].items():
        assert set(entry) - {"en_one"} == {"vi", "en"}, f"{catalog}[{key!r}] has {sorted(entry)}"
        assert entry["vi"].strip() and entry["en"].strip(), f"{catalog}[{key!r}] is empty in one language"
        forms = [entry["en"], *([entry["en_one"]] if "en_one" in entry else [])]
        for form in forms:
            assert _placeholders(form) == _placeholders(entry["vi"]), f"{catalog}[{key!r}]: placeholders differ"


def test_every_key_is_used() -> None:
    used = {node.value for path in _app_files() if path.name != "texts.py" for node in _strings(path)}
    for catalog, entries in CATALOGS.items():
        unused = sorted(set(entries) - used)
        assert not unused, f"unused {catalog} keys (remove them, or use them): {unused}"


def test_no_user_facing_text_is_written_outside_the_catalog() -> None:
    outside = []
    for path in _app_files():
        name = str(path.relative_to(REPO))
        for node in _strings(path):
            if VIETNAMESE.search(node.value) and name not in NOT_UI:
                outside.append(f"{name}:{node.lineno}: {node.value[:60]!r}")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in ("Reply", "Button"):
                literal = [
                    a
                    for a in (*call.args[:1], *(k.value for k in call.keywords if k.arg in ("text", "label", "title")))
                    if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.strip()
                ]
                outside.extend(f"{name}:{call.lineno}: {a.value[:60]!r}" for a in literal)
    assert not outside, "user-facing text belongs in bot/texts.py:\n" + "\n".join(outside)


def test_english_nouns_agree_with_their_number() -> None:
    counted = re.compile(r"\{(n|total)\} (?:of \{total\} )?([a-z]+s)\b")
    for key, entry in texts._TEXTS.items():
        match = counted.search(entry["en"])
        if match is None:
            continue
        assert "en_one" in entry, f"{key!r} says '{match.group(0)}': give it an en_one form for a count of one"
        filler = {name: "x" for name in _placeholders(entry["en"])}
        one = texts.t(key, "en", **{**filler, "n": 1, "total": 1})
        many = texts.t(key, "en", **{**filler, "n": 3, "total": 3})
        assert f"1 {match.group(2)}" not in one and "1 of 1 " + match.group(2) not in one, one
        assert match.group(2) in many, many

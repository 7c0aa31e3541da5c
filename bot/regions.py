"""Where a user lives: Viet Nam's administrative units since 1 July 2025 (34 provinces and cities, about 3,300
communes, wards and special zones, no district level), from the `vietnam-provinces` package's data, read offline.

Names are matched as people type them: without diacritics, with or without "xã", "phường", "tỉnh", "tp",
abbreviated ("hcm", "hn") and with small typos. Every unit is stored by its code (the General Statistics
Office's), which stays when a name is spelt differently.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from functools import cache

from language.normalize import fold

MAX_CHOICES = 5  # buttons offered for one answer (and numbered lines on text-only channels)
MAX_NAME_CHARS = 100  # longer answers are not a place name


@dataclass(frozen=True)
class Province:
    code: int
    name: str  # as the law writes it, e.g. "Thành phố Hà Nội", "Tỉnh Nghệ An"
    short: str  # without its kind, e.g. "Hà Nội", "Nghệ An"


@dataclass(frozen=True)
class Commune:
    code: int
    name: str  # e.g. "Phường Hoàn Kiếm", "Xã Thượng Lâm", "Đặc khu Phú Quốc"
    province_code: int


# Folded words that say what kind of unit follows: dropped before matching, so "xa tan lap" finds "Xã Tân Lập".
_KINDS = re.compile(r"^(?:(?:thanh pho|tp|t p|tinh|t|xa|x|phuong|p|dac khu|dk|thi tran|tt|quan|q|huyen|h)\b[\s.]*)+")
_NOT_NAME = re.compile(r"[^\w\s]")
# Short names people use for the biggest cities.
_PROVINCE_NICKNAMES = {
    "hn": "ha noi",
    "hcm": "ho chi minh",
    "tphcm": "ho chi minh",
    "sai gon": "ho chi minh",
    "saigon": "ho chi minh",
    "sg": "ho chi minh",
    "hp": "hai phong",
    "dn": "da nang",
    "hue": "hue",
}


def key(text: str) -> str:
    """A name as it is compared: folded, punctuation out, the kind of unit dropped."""
    folded = " ".join(_NOT_NAME.sub(" ", fold(text)).split())
    stripped = _KINDS.sub("", folded).strip()
    return stripped or folded


@dataclass(frozen=True)
class _Data:
    provinces: dict[int, Province]
    communes: dict[int, Commune]
    by_province: dict[int, tuple[Commune, ...]]


@cache
def _data() -> _Data:
    from vietnam_provinces import NESTED_DIVISIONS_JSON_PATH  # pure data, no network: the JSON shipped in the wheel

    raw = json.loads(NESTED_DIVISIONS_JSON_PATH.read_text(encoding="utf-8"))
    provinces: dict[int, Province] = {}
    communes: dict[int, Commune] = {}
    by_province: dict[int, tuple[Commune, ...]] = {}
    for entry in raw:
        code = int(entry["code"])
        name = " ".join(entry["name"].split())
        short = name
        for kind in ("thanh pho ", "tinh "):  # folded: "Thành phố Hà Nội" is "Hà Nội" for short
            if fold(short).startswith(kind):
                short = short[len(kind) :]
        provinces[code] = Province(code, name, short)
        units = tuple(Commune(int(w["code"]), " ".join(w["name"].split()), code) for w in entry["wards"])
        by_province[code] = units
        communes.update((u.code, u) for u in units)
    return _Data(provinces, communes, by_province)


def provinces() -> list[Province]:
    return sorted(_data().provinces.values(), key=lambda p: p.code)


def province(code: int) -> Province | None:
    return _data().provinces.get(code)


def commune(code: int) -> Commune | None:
    return _data().communes.get(code)


def communes_of(province_code: int) -> tuple[Commune, ...]:
    return _data().by_province.get(province_code, ())


def _ranked(query: str, named: list[tuple[str, int]]) -> list[int]:
    """Codes whose keys match `query`: exact, then starting with it, then containing it, then close typos."""
    if not query:
        return []
    exact = [code for name, code in named if name == query]
    if exact:
        return exact[:MAX_CHOICES]
    found: list[int] = []
    for name, code in named:
        if name.startswith(query + " ") or name.startswith(query):
            found.append(code)
    for name, code in named:
        if code not in found and re.search(rf"(?<!\w){re.escape(query)}(?!\w)", name):
            found.append(code)
    if found:
        return found[:MAX_CHOICES]
    keys = {name: code for name, code in reversed(named)}
    close = difflib.get_close_matches(query, list(keys), n=MAX_CHOICES, cutoff=0.75)
    return [keys[name] for name in close]


def find_provinces(text: str) -> list[Province]:
    """The provinces `text` may name, best first, at most MAX_CHOICES."""
    query = key(text[:MAX_NAME_CHARS])
    query = _PROVINCE_NICKNAMES.get(query.replace(" ", "")) or _PROVINCE_NICKNAMES.get(query) or query
    data = _data()
    named = [(key(p.short), p.code) for p in data.provinces.values()]
    return [data.provinces[c] for c in _ranked(query, named)]


def find_communes(text: str, province_code: int) -> list[Commune]:
    """The communes, wards or special zones of a province `text` may name, best first, at most MAX_CHOICES.

    A name shared by several units ("Xã Tân Lập" and "Phường Tân Lập") offers each of them.
    """
    query = key(text[:MAX_NAME_CHARS])
    named = [(key(c.name), c.code) for c in communes_of(province_code)]
    data = _data()
    return [data.communes[c] for c in _ranked(query, named)]


def find_commune_anywhere(text: str) -> list[Commune]:
    """Communes named `text` in any province (a volunteer's region typed on the command line)."""
    query = key(text[:MAX_NAME_CHARS])
    data = _data()
    named = [(key(c.name), c.code) for c in data.communes.values()]
    exact = [data.communes[code] for name, code in named if name == query]
    return exact or [data.communes[c] for c in _ranked(query, named)]

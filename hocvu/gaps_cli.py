"""`hocvu kb gaps`: the questions of a period nobody answered well, grouped, as article skeletons or a CSV."""

from __future__ import annotations

import argparse
import difflib
import os
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.people import PeopleError, Region, parse_region
from bot.reports import Period, parse_period
from errors import ConfigError, InputError
from hocvu.config import Settings

if TYPE_CHECKING:
    from knowledge_base.gaps import Gap
    from storage.database import Database
    from storage.gaps_store import GapCandidate

FORMATS = ("md", "csv")


def add_parser(kb: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gaps = kb.add_parser(
        "gaps",
        help="what citizens asked that the assistant could not answer well, grouped by topic (docs/gaps.md)",
    )
    gaps.add_argument("--period", required=True, help="a month (2026-11), a quarter (2026-Q4) or a year (2026)")
    gaps.add_argument("--province", help="only users of this province (e.g. 'Nghe An')")
    gaps.add_argument("--commune", help="only users of this commune or ward (with --province, within it)")
    gaps.add_argument(
        "--format",
        choices=FORMATS,
        default="md",
        help="md: article skeletons to fill in (default); csv: one row a group",
    )
    gaps.add_argument("--output", help="the file to write (default: standard output)")
    gaps.add_argument(
        "--below",
        type=float,
        help="answers scored below this count as low-confidence (default: retrieval.answer_threshold + 0.03)",
    )


def run(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    from knowledge_base import gaps
    from storage.gaps_store import gap_candidates

    period = parse_period(args.period)
    region = _region(args.province, args.commune)
    output = Path(args.output) if args.output else None
    if output is not None:
        _check_writable(output)
    below = args.below if args.below is not None else settings.retrieval.answer_threshold + gaps.LOW_CONFIDENCE_MARGIN
    where = f" in {region.describe()}" if region else ""
    title = f"Content gaps {period}{where}"
    empty = (
        f"No question of {period}{where} went unanswered, got 👎 or was answered with a score below "
        f"{below:.3f}: there is nothing to write."
    )
    start, end = period.bounds()
    db = _database(settings)
    try:
        candidates: list[GapCandidate] = (
            gap_candidates(
                db,
                start,
                end,
                below=below,
                province_code=region.province_code if region else None,
                commune_codes=region.commune_codes if region else (),
            )
            if db is not None
            else []
        )
    finally:
        if db is not None:
            db.dispose()
    found = _group(settings, candidates) if candidates else []
    text = gaps.markdown(found, title, empty) if args.format == "md" else gaps.csv_text(found, empty)
    if output is None:
        stdout.write(text)
        return 0
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--output {output}: cannot write it: {exc.strerror or exc}") from None
    stdout.write(_summary(period, where, found, output))
    return 0


def _summary(period: Period, where: str, found: list[Gap], output: Path) -> str:
    if not found:
        return f"{output}: no gaps in {period}{where}\n"
    questions = sum(len(g.questions) for g in found)
    return f"{output}: {len(found)} group(s) of {questions} question(s) from {period}{where}\n"


def _group(settings: Settings, candidates: list[GapCandidate]) -> list[Gap]:
    from bot.guard import without_redactions
    from hocvu.app import make_embedder
    from knowledge_base.articles import load_articles
    from knowledge_base.gaps import find_gaps
    from knowledge_base.index import load_or_build
    from knowledge_base.retriever import Retriever

    kb = load_articles(settings.articles_dir)
    embedder = make_embedder(settings)
    embedder.warm_up()
    index = load_or_build(kb, embedder, settings.data_dir, progress=True)
    return find_gaps(candidates, embedder, Retriever(index, settings.retrieval), kb, matching_text=without_redactions)


def _region(province: str | None, commune: str | None) -> Region | None:
    """The region the options name; InputError naming the closest names when one does not exist."""
    if province is None and commune is None:
        return None
    try:
        if commune is not None:
            return parse_region(None, [f"{commune}, {province}" if province else commune])
        return parse_region(province, [])
    except PeopleError as exc:
        raise InputError(f"{exc}{_suggestion(province, commune)}") from None


def _suggestion(province: str | None, commune: str | None) -> str:
    from bot import regions

    if commune is None or (province is not None and not regions.find_provinces(province)):
        names = {regions.key(p.short): p.short for p in regions.provinces()}
        typed = province or ""
    else:
        pool = regions.communes_of(regions.find_provinces(province)[0].code) if province else ()
        units = pool or tuple(c for p in regions.provinces() for c in regions.communes_of(p.code))
        names = {regions.key(c.name): c.name for c in units}
        typed = commune
    close = difflib.get_close_matches(regions.key(typed), list(names), n=5, cutoff=0.6)
    return f"; the closest names: {', '.join(names[k] for k in close)}" if close else ""


def _check_writable(output: Path) -> None:
    """Before any work: a report computed for a file that cannot be written is time lost."""
    folder = output.parent if str(output.parent) else Path(".")
    if output.is_dir():
        raise InputError(f"--output {output} is a folder: name a file")
    if not folder.is_dir():
        raise InputError(f"--output {output}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (output.exists() and not os.access(output, os.W_OK)):
        raise InputError(f"--output {output}: not writable by this user")


def _database(settings: Settings) -> Database | None:
    """The conversation log's database; None when there is none yet (the SQLite file not made)."""
    from storage.database import Database

    url = settings.database_url
    if url.startswith("sqlite") and not Path(url.split("///", 1)[-1]).exists():
        return None  # connecting would create it
    db = Database(url)
    if not db.is_current():
        db.dispose()
        raise ConfigError(f"the database schema is not up to date: run `hocvu db upgrade` ({db.safe_url})")
    return db

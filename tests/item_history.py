"""A generated item history: a spider folder with many runs, as scheduled crawls leave it.

Items are built from :class:`newsarchive.items.ArticleItem` (so they carry every field of the
schema, new ones included); run ``r`` writes the new articles of that run and, from the second
run on, new versions of some earlier ones, as the dedupe pipeline numbers them. Shared by
``tests/test_dataset.py`` and ``bench/dataset_memory.py``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newsarchive.items import ArticleItem, Extractor, LegalNotice, WarcRef

SITES = ("www.rferl.org", "www.svoboda.org", "www.radiofarda.com")
#: Every how many articles one carries a legal notice; every how many lines is a new version.
NOTICE_EVERY = 7
CHANGED_EVERY = 5
START = datetime(2024, 1, 1, 6, 0, tzinfo=UTC)


@dataclass
class History:
    """What was written: per article key, its latest version and that version's run."""

    lines: int = 0
    latest: dict[str, tuple[int, str]] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def article(number: int, version: int, run_id: str, text_size: int) -> dict:
    site = SITES[number % len(SITES)]
    published = START + timedelta(hours=number)
    notice = (
        LegalNotice("foreign-agent", "Это сообщение создано иностранным агентом.", "ru", "footer")
        if number % NOTICE_EVERY == 0
        else None
    )
    words = f"Paragraph of article {number}, version {version}. " * (text_size // 40 + 1)
    item = ArticleItem(
        url=f"https://{site}/a/{number}.html",
        site=site,
        article_id=str(30_000_000 + number),
        article_key=str(30_000_000 + number),
        canonical_url=f"https://{site}/a/{number}.html",
        language="en",
        title=f"Article {number}",
        authors=[f"Author {number % 13}"],
        published=iso(published),
        modified=iso(published + timedelta(hours=version)) if version > 1 else None,
        tags=["news"],
        text=words[:text_size],
        legal_notice=notice,
        legal_notices=[notice] if notice else [],
        accessible_for_free=None,  # as on most pages: the column must still be boolean
        fetched_at=iso(published + timedelta(hours=version, minutes=5)),
        http_status=200,
        warc=WarcRef(
            f"newsarchive-{run_id}-00001.warc.gz", number * 1000, 900, "<urn:x>", "sha1:X"
        ),
        extractor=Extractor("newsarchive", "newsarchive/test"),
        run_id=run_id,
        version=version,
        previous_digest=f"sha256:{number}-{version - 1}" if version > 1 else None,
    )
    return asdict(item)


def write_history(spider: Path, items: int, runs: int = 10, text_size: int = 1500) -> History:
    """``items`` item lines spread over ``runs`` run folders (plus a ``latest`` symlink and an
    empty run, as a scheduled run that found nothing leaves)."""
    history = History()
    per_run = max(1, items // runs)
    number = 0
    for r in range(runs):
        run_id = f"2026010{r // 10}T{r % 10:02d}0000000Z"
        folder = spider / run_id
        folder.mkdir(parents=True)
        history.runs.append(run_id)
        count = per_run if r < runs - 1 else items - history.lines
        with open(folder / "items.jsonl", "w", encoding="utf-8") as fh:
            for i in range(count):
                changed = r > 0 and i % CHANGED_EVERY == 0 and number > 0
                if changed:  # a new version of an article an earlier run wrote
                    key_number = (i * 7919 + r) % number
                    key = str(30_000_000 + key_number)
                    version = history.latest[key][0] + 1
                else:
                    key_number, version = number, 1
                    key = str(30_000_000 + number)
                    number += 1
                fh.write(json.dumps(article(key_number, version, run_id, text_size)) + "\n")
                history.latest[key] = (version, run_id)
                history.lines += 1
    empty = spider / "20260200T000000000Z"
    empty.mkdir()
    (empty / "items.jsonl").write_bytes(b"")
    (spider / "latest").symlink_to(empty.name, target_is_directory=True)
    return history

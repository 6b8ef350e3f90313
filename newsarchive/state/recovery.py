"""Recover the runs a kill left behind, before a new run starts.

Every run that began and never ended (or left ``.open`` WARC files) is repaired
(:mod:`newsarchive.archive.repair`), folded back into the state (:mod:`newsarchive.state.fold`:
its archived payloads become revisit targets, its item lines count as emitted), ended as
``killed`` and its manifest rewritten. That is what makes "killed run + next run" hold every
article exactly once. The caller must hold the run lock, so no live run's files are touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsarchive.archive.manifest import mark_killed
from newsarchive.archive.repair import RunRepair, open_warcs, repair_run_folder
from newsarchive.state.fold import fold_in_run
from newsarchive.state.store import StateStore


@dataclass(frozen=True)
class RecoveredRun:
    """One killed run: what was repaired in its folder and what the state learnt from it."""

    run_id: str
    repair: RunRepair
    folded: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        """The manifests' ``repair`` / ``recovered_runs`` entry."""
        return {"run_id": self.run_id, **self.repair.as_dict(), **self.folded}


def recover_runs(store: StateStore, spider_folder: Path) -> list[RecoveredRun]:
    """Repair and fold in every run of ``spider_folder`` that began and never ended."""
    folders = {folder.resolve(): run_id for run_id, folder in store.unfinished_runs()}
    if spider_folder.is_dir():
        for child in spider_folder.iterdir():
            if child.is_dir() and not child.is_symlink() and open_warcs(child):
                folders.setdefault(child.resolve(), child.name)
    recovered = []
    for folder, run_id in sorted(folders.items(), key=lambda kv: kv[1]):
        if not folder.is_dir():
            store.end_run(run_id, datetime.now(UTC), "missing")
            continue
        repair = repair_run_folder(folder)
        folded = fold_in_run(store, folder, run_id)
        store.end_run(run_id, datetime.now(UTC), "killed")
        run = RecoveredRun(run_id, repair, folded)
        mark_killed(folder, run.as_dict())
        recovered.append(run)
    return recovered

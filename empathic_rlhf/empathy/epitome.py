"""EPITOME (Sharma et al., EMNLP 2020): the three mechanism CSVs joined into one table, and the fixed split.

The three files annotate the same 3,084 (seeker post, response) rows, one file per mechanism, in the same row
order. We join them row by row (checking that ``(sp_id, rp_id)`` agree on every row) so each pair carries all
three levels. Row order is the key, not ``(sp_id, rp_id)``: 61 rows repeat an earlier (sp_id, rp_id) in every
file (re-annotated, sometimes with different levels), and we keep them all, as the paper's 3,084 do. Then we
split by SEEKER POST: every response to a post lands in the same split, so no post is seen on both sides
(several posts have more than one response). The split is decided by a hash of ``sp_id`` (not by a random
generator), so it is the same on every machine and for every version of numpy: ``sha256(salt + sp_id)`` mapped
to [0, 1) -> train < 0.7 <= valid < 0.8 <= test.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import EmpathicError, located
from ..splits import stable_fraction

MECHANISMS = ("er", "ip", "ex")
MECHANISM_FILES = {"er": "emotional-reactions-reddit.csv", "ip": "interpretations-reddit.csv",
                   "ex": "explorations-reddit.csv"}
MECHANISM_NAMES = {"er": "Emotional Reactions", "ip": "Interpretations", "ex": "Explorations"}
COLUMNS = ("sp_id", "rp_id", "seeker_post", "response_post", "level")
EPITOME_DIR_ENV = "EMPATHIC_EPITOME_DIR"
SPLIT_SALT = "epitome-split-v1:"
SPLIT_BOUNDS = (0.7, 0.8)  # train < 0.7 <= valid < 0.8 <= test: 70 / 10 / 20, test as large as the floor's


@dataclass(frozen=True)
class EpitomeExample:
    """One annotated (seeker post, response) pair with its three levels (0 none, 1 weak, 2 strong)."""

    sp_id: str
    rp_id: str
    post: str
    response: str
    levels: tuple[int, int, int]  # in MECHANISMS order


def default_epitome_dir() -> Path:
    """``$EMPATHIC_EPITOME_DIR``, else ``shared/data/epitome`` beside the repository (where the project keeps it)."""
    explicit = os.environ.get(EPITOME_DIR_ENV)
    if explicit:
        return Path(explicit)
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "epitome"


def load_examples(folder: str | os.PathLike | None = None) -> list[EpitomeExample]:
    """Read and join the three CSVs; a missing file or column, a bad level or misaligned rows is an error naming
    the file and line."""
    folder = Path(folder) if folder else default_epitome_dir()
    tables = {m: _read_rows(folder / MECHANISM_FILES[m]) for m in MECHANISMS}
    first = tables[MECHANISMS[0]]
    for m in MECHANISMS[1:]:
        if len(tables[m]) != len(first):
            raise EmpathicError(f"{folder / MECHANISM_FILES[m]}: {len(tables[m])} rows, but "
                                f"{MECHANISM_FILES[MECHANISMS[0]]} has {len(first)}")
    pairs = []
    for i, (sp_id, rp_id, post, response, _, line) in enumerate(first):
        for m in MECHANISMS[1:]:
            if tables[m][i][:2] != (sp_id, rp_id):
                raise located(folder / MECHANISM_FILES[m], tables[m][i][5],
                              f"pair {tables[m][i][:2]} where {MECHANISM_FILES[MECHANISMS[0]]}:{line} has "
                              f"{(sp_id, rp_id)} (the files must list the same pairs in the same order)")
        levels = tuple(tables[m][i][4] for m in MECHANISMS)
        pairs.append(EpitomeExample(sp_id, rp_id, post, response, levels))
    return pairs


def _read_rows(path: Path) -> list[tuple[str, str, str, str, int, int]]:
    """``(sp_id, rp_id, post, response, level, line)`` of every row of one mechanism file."""
    if not path.is_file():
        raise EmpathicError(f"{path}: EPITOME file not found (set ${EPITOME_DIR_ENV} or pass the folder; "
                            "see shared/data/epitome/SOURCE.md)")
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        absent = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if absent:
            raise located(path, 1, f"missing column {absent[0]!r}")
        for row in reader:
            line = reader.line_num
            if row["level"] not in ("0", "1", "2"):
                raise located(path, line, f"level must be 0, 1 or 2, got {row['level']!r}")
            if not row["response_post"].strip():
                raise located(path, line, "empty response_post")
            rows.append((row["sp_id"], row["rp_id"], row["seeker_post"], row["response_post"], int(row["level"]),
                         line))
    if not rows:
        raise EmpathicError(f"{path}: no rows")
    return rows


def split_of(sp_id: str) -> str:
    """``train`` / ``valid`` / ``test`` of a seeker post, from a hash of its id (stable everywhere)."""
    u = stable_fraction(sp_id, SPLIT_SALT)
    return "train" if u < SPLIT_BOUNDS[0] else "valid" if u < SPLIT_BOUNDS[1] else "test"


def split_examples(pairs: list[EpitomeExample]) -> dict[str, list[EpitomeExample]]:
    """Pairs grouped by the split of their seeker post, each list in input order."""
    groups: dict[str, list[EpitomeExample]] = {"train": [], "valid": [], "test": []}
    for pair in pairs:
        groups[split_of(pair.sp_id)].append(pair)
    return groups

"""Fetch the official EmpatheticDialogues archive (when the network allows) into the cache, checksum-verified."""

from __future__ import annotations

import os
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import EmpathicError
from ..io import atomic_path, sha256_file
from ..paths import DATA_DIR_ENV, cache_dir

OFFICIAL_URL = "https://dl.fbaipublicfiles.com/parlai/empatheticdialogues/empatheticdialogues.tar.gz"
# sha256 of the official archive, as ParlAI's build script pins it.
OFFICIAL_SHA256 = "56f234d77b7dd1f005fd365bb17769cfe346c3c84295b69bc069c8ccb83be03d"
ARCHIVE_NAME = "empatheticdialogues.tar.gz"


def official_release_dir(url: str = OFFICIAL_URL, timeout: float = 15.0) -> Path:
    """Return a cached folder holding ``train.csv``/``valid.csv``/``test.csv``, downloading it once if needed."""
    root = cache_dir() / "data"
    extracted = root / "empatheticdialogues"
    if (extracted / "train.csv").is_file():
        return extracted
    archive = root / ARCHIVE_NAME
    if not archive.is_file():
        _download(url, archive, timeout)
    return extract_archive(archive, root)


def extract_archive(archive: Path, into: Path) -> Path:
    """Verify and unpack the release archive; returns the folder with the three CSV files."""
    digest = sha256_file(archive)
    if digest != OFFICIAL_SHA256:
        raise EmpathicError(f"{archive}: checksum {digest[:12]}... does not match the official release "
                            f"({OFFICIAL_SHA256[:12]}...); delete it and retry")
    target = into / "empatheticdialogues"
    if (target / "train.csv").is_file():
        return target
    into.mkdir(parents=True, exist_ok=True)
    # Unpack beside the target, then rename: a crash never leaves a half-unpacked release in the cache.
    with tempfile.TemporaryDirectory(dir=into) as tmp:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        unpacked = Path(tmp) / "empatheticdialogues"
        if not (unpacked / "train.csv").is_file():
            raise EmpathicError(f"{archive}: archive holds no empatheticdialogues/train.csv")
        os.replace(unpacked, target)
    return target


def _download(url: str, archive: Path, timeout: float) -> None:
    print(f"downloading {url} ...")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_path(archive) as tmp:
            with open(tmp, "wb") as f:
                while block := response.read(1 << 20):
                    f.write(block)
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        raise EmpathicError(
            f"cannot download EmpatheticDialogues from {url} ({getattr(e, 'reason', e)}). Offline? Point at a "
            f"local copy with --data-dir DIR or ${DATA_DIR_ENV}=DIR: a folder with train/valid/test .csv "
            f"(official release) or .jsonl (conversation JSONL), or the {ARCHIVE_NAME} archive"
        ) from None

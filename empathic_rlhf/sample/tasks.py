"""``empathic sample``: k candidate replies per held-out context -> comparison tasks (``<run>/sample/tasks.jsonl``).

One :class:`~empathic_rlhf.records.Task` per context (one JSON line), the input of the labelling app and of the
reward-model stage: the prompt exactly as π saw it, the display history with ED roles, the gold reply, the
candidates (``source``: the model's name, or ``gold`` when the gold reply is mixed in) and the sampling settings.

Contexts are processed in batches of similar prompt lengths; each finished batch is appended to
``tasks.partial.jsonl``, so an interrupted run resumes where it stopped, and -- since every batch has its own seed --
ends with the same file as an uninterrupted one. The final file, in the order of the samples, is renamed into place
when every batch is done.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from tqdm import tqdm

from .. import config as cfg
from ..errors import EmpathicError
from ..io import atomic_path, read_jsonl
from ..records import GOLD_SOURCE, Sample, Task, as_dicts, display_history, read_records
from .config import SampleConfig
from ..generation.sampler import Sampler, derive_seed, length_order

CAND_IDS = "ABCD"


def read_samples(path: str | Path, limit: int | None = None) -> list[Sample]:
    """Sample records from a JSONL file (the first ``limit`` of them), validated line by line."""
    return read_records(path, Sample, limit)


def make_task(sample: Sample, replies: list[str], *, source: str, include_gold: bool, settings: dict,
              seed: int, task_prefix: str, round_number: int = 0) -> Task:
    """One Task from a sample and its model replies (the gold reply added and all shuffled when asked);
    ``round_number``: the round of ``--rounds N`` it belongs to (0: the run itself), which travels with it."""
    candidates = [{"text": text, "source": source} for text in replies]
    if include_gold:
        candidates.append({"text": sample.reply, "source": GOLD_SOURCE})
        # a seeded shuffle, so the gold reply is not always last (the app shuffles the display order as well)
        random.Random(derive_seed(seed, sample.sample_id)).shuffle(candidates)
    return Task(
        task_id=f"{task_prefix}:{sample.sample_id}", kind="policy-samples", conv_id=sample.conv_id,
        emotion=sample.emotion, situation=sample.situation, prompt=sample.prompt,
        history=display_history(sample.prompt, sample.reply_role), gold=sample.reply,
        candidates=[{"cand_id": CAND_IDS[i], **c} for i, c in enumerate(candidates)],
        sampling={**settings, "sample_id": sample.sample_id}, round=round_number)


def sample_tasks(config: SampleConfig, sampler: Sampler, samples: list[dict], out_path: Path, *, seed: int,
                 source: str, model: str, task_prefix: str, round_number: int = 0) -> dict:
    """Write the tasks of ``samples`` to ``out_path`` (resuming a partial file); returns a summary."""
    out_path = Path(out_path)
    partial = out_path.with_name(out_path.stem + ".partial.jsonl")
    stamp = out_path.with_name(out_path.stem + ".partial.json")
    n_model = config.k - int(config.include_gold)
    settings = {**sampler.settings(), "seed": seed, "k": config.k, "include_gold": config.include_gold,
                "model": model}
    identity = {"settings": settings, "config": cfg.config_hash(config), "n": len(samples),
                "first": samples[0].sample_id if samples else None}
    done = _resume(partial, stamp, identity)
    position = {s.sample_id: i for i, s in enumerate(samples)}
    samples = [samples[i] for i in length_order([as_dicts(s.prompt) for s in samples])]  # similar lengths together
    size = config.batch_size
    batches = range(0, len(samples), size)
    with open(partial, "a", encoding="utf-8") as f, tqdm(total=len(samples), desc="sample", unit="ctx",
                                                          initial=min(done * size, len(samples))) as bar:
        for batch_index, start in enumerate(batches):
            if batch_index < done:
                continue
            chunk = samples[start:start + size]
            replies = sampler.sample_batch([as_dicts(s.prompt) for s in chunk], n_model, seed, batch_index,
                                           config.max_resample)
            for sample, texts in zip(chunk, replies):
                task = make_task(sample, texts, source=source, include_gold=config.include_gold,
                                 settings=settings, seed=seed, task_prefix=task_prefix, round_number=round_number)
                f.write(json.dumps(task.to_json(), ensure_ascii=False) + "\n")
            f.write(json.dumps({"_batch_done": batch_index}) + "\n")  # a marker: the batch is complete
            f.flush()
            bar.update(len(chunk))
    tasks = sorted((r for _, r in read_jsonl(partial) if "_batch_done" not in r),
                   key=lambda t: position[t["sampling"]["sample_id"]])  # back in the order of the samples
    with atomic_path(out_path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(t, ensure_ascii=False) + "\n" for t in tasks)
    partial.unlink()
    stamp.unlink()
    return {"tasks": len(tasks), "candidates": sum(len(t["candidates"]) for t in tasks),
            "resampled": sampler.resampled, "duplicates_left": sampler.duplicates_left}


def _resume(partial: Path, stamp: Path, identity: dict) -> int:
    """How many batches a previous run of the same settings finished; a stale or torn partial file is cut back."""
    identity = json.loads(json.dumps(identity))
    if not partial.is_file() or not stamp.is_file() or json.loads(stamp.read_text()) != identity:
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text("")
        stamp.write_text(json.dumps(identity))
        return 0
    lines = partial.read_text(encoding="utf-8").splitlines(keepends=True)
    keep, done = 0, 0
    for i, line in enumerate(lines):  # keep everything up to the last complete batch
        try:
            if "_batch_done" in json.loads(line):
                keep, done = i + 1, done + 1
        except json.JSONDecodeError:
            break
    partial.write_text("".join(lines[:keep]), encoding="utf-8")
    if done:
        print(f"[sample] resuming after {done} finished batch(es) in {partial}", file=sys.stderr)
    return done


def check_samples_exist(path: Path) -> Path:
    if not Path(path).is_file():
        raise EmpathicError(f"{path}: samples file not found (run `empathic prepare` first, or set "
                            f"sample.samples_file)")
    return Path(path)

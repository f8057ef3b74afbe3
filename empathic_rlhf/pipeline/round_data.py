"""What flows between rounds, always forward through files: which contexts a round may use, RL's prompts, and the
labels so far.

- Contexts: round n samples fresh contexts of ``sample.split`` -- none that an earlier round's pool used, none of
  RL's held-out prompts (round 1's selection and report sets, kept for every round so that the rounds' RL gains
  are measured on the same prompts and never on a context a reward model learned from).
- RL prompts of round n: the prompt split without any round's pool so far and without the held-out sets; the
  held-out sets are round 1's.
- Labels so far: the previous round's ``reward/{labels,tasks}.jsonl`` (the labels of the kind the rounds collect)
  plus this round's new ones, written into this round's ``reward/`` -- never re-derived from older folders.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import EmpathicError
from ..io import read_jsonl
from ..records import Label, Sample, Task, read_records
from ..rundir import RunDir


def _key(prompt: list[dict]) -> str:
    return json.dumps(prompt, sort_keys=True, ensure_ascii=False)


def pool_conv_ids(runs: list[RunDir]) -> set[str]:
    """Conversations of every listed round's pool (``sample/tasks.jsonl``)."""
    used: set[str] = set()
    for run in runs:
        path = run.stage_dir("sample") / "tasks.jsonl"
        if path.is_file():
            used.update(t.get("conv_id") or t["task_id"] for _, t in read_jsonl(path))
    return used


def rl_heldout(config, main: RunDir) -> tuple[list[list[dict]], list[list[dict]]]:
    """Round 1's RL selection and report prompts, which every round keeps held out."""
    from ..rl.stage import rl_prompts

    _, selection, report = rl_prompts(config, main)
    return selection, report


def heldout_conv_ids(config, main: RunDir) -> set[str]:
    """Conversations of RL's held-out prompts (no round labels or samples them)."""
    selection, report = rl_heldout(config, main)
    held = {_key(p) for p in selection + report}
    path = main.stage_dir("prepare") / f"{config.rl.prompt_split}.jsonl"
    return {s["conv_id"] for _, s in read_jsonl(path) if _key(s["prompt"]) in held}


def fresh_contexts(config, main: RunDir, earlier: list[RunDir], number: int) -> list[Sample]:
    """Round ``number``'s contexts: the first ``rounds.contexts_per_round`` of ``sample.split`` whose conversation
    no earlier round's pool used and that are not RL's held-out prompts."""
    from ..sample.stage import samples_path
    from ..sample.tasks import check_samples_exist, read_samples

    path = check_samples_exist(samples_path(config, main))
    excluded = pool_conv_ids(earlier) | heldout_conv_ids(config, main)
    fresh = [s for s in read_samples(path) if s.conv_id not in excluded]
    wanted = config.rounds.contexts_per_round
    if not fresh:
        raise EmpathicError(f"{path}: no contexts left for round {number}: earlier rounds and RL's held-out prompts "
                            f"used all {len(excluded)} conversations; prepare more (prepare.max_conversations) or "
                            "lower rounds.contexts_per_round")
    if len(fresh) < wanted:
        print(f"WARNING [round {number}]: only {len(fresh)} fresh contexts left in {path} "
              f"(rounds.contexts_per_round={wanted})", file=sys.stderr)
    return fresh[:wanted]


def round_rl_prompts(config, main: RunDir, rounds_so_far: list[RunDir]):
    """(training, selection, report) prompts of a round's RL: the prompt split without any pool so far and
    without round 1's held-out sets, which are the selection and report sets."""
    selection, report = rl_heldout(config, main)
    held = {_key(p) for p in selection + report}
    used = pool_conv_ids(rounds_so_far)
    path = main.stage_dir("prepare") / f"{config.rl.prompt_split}.jsonl"
    train = [s["prompt"] for _, s in read_jsonl(path) if s["conv_id"] not in used and _key(s["prompt"]) not in held]
    train = train[: config.rl.max_prompts] if config.rl.max_prompts else train
    if len(train) < 2:
        raise EmpathicError(f"{path}: only {len(train)} RL prompts left after the rounds' contexts and the held-out "
                            "sets; prepare more conversations or lower rounds.contexts_per_round")
    return train, selection, report


def _unique(labels: list[Label]) -> list[Label]:
    """Labels in order, each judgement once (a re-export repeats earlier labels)."""
    seen, out = set(), []
    for label in labels:
        key = json.dumps(label.to_json(), sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(label)
    return out


def accumulate(previous: Path, new: Path, source: str) -> tuple[list[Task], list[Label], dict]:
    """All labels so far of ``source`` (the previous round's ``reward/`` folder plus the new export in ``new``),
    the tasks they refer to, and counts. Labels of other sources (round 1's gold-vs-policy bootstrap) are not
    carried: the warm-started reward model carries what it learned from them."""
    before_labels = read_records(previous / "labels.jsonl", Label) if (previous / "labels.jsonl").is_file() else []
    kept = [label for label in before_labels if label.source == source]
    exported = read_records(new / "labels.jsonl", Label)
    fresh = [label for label in exported if label.source == source]
    labels = _unique(kept + fresh)
    tasks: dict[str, Task] = {}
    for path in (previous / "tasks.jsonl", new / "tasks.jsonl"):
        if path.is_file():
            tasks.update({t.task_id: t for t in read_records(path, Task)})
    wanted = {label.task_id for label in labels}
    counts = {"labels": len(labels), "before": len(kept), "new": len(labels) - len(kept),
              "not_carried": len(before_labels) - len(kept), "other_sources_in_export": len(exported) - len(fresh)}
    return [t for t in tasks.values() if t.task_id in wanted], labels, counts

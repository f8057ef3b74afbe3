"""Best-of-k labels -> preference pairs, the form TRL's reward and DPO trainers read.

Why pairs rather than lm-human-preferences' softmax over the k candidates: TRL's reward trainer (the field's
maintained trainer) takes pairs, and "best beats each other candidate" is the Bradley-Terry reading of a best-of-k
choice, as InstructGPT does with rankings. For k = 2 the two losses are identical; for k > 2 the k-1 pairs of
one task share the chosen reply, so we keep them next to each other (see ``TaskGroupedSampler``) so they land in
one batch, as InstructGPT recommends, instead of letting one judgement be seen k-1 times in separate steps.

Explicit handling of every outcome:
  best     -> best over each other candidate (k-1 pairs)
  tie      -> no pair (no preference; TRL's loss has no tie term) -- counted
  all_bad  -> no pair among the candidates (none is preferred) -- counted
  skip     -> nothing
  edit     -> the human-written edit is preferred over the reply it edits (one more pair, any outcome)
"""

from __future__ import annotations

from collections import Counter

from .labels import Label


def prompt_messages(task: dict, knowledge: str = "") -> list[dict]:
    """The task's history as chat messages: the replying side is ``assistant``, the other ``user``.

    History roles may be ED roles (speaker/listener) or chat roles (user/assistant): either way the last history
    turn is the other side's, and every turn by the same role as it is ``user``.
    """
    history = task["history"]
    last_role = history[-1]["role"] if history else "user"
    messages = [{"role": "system", "content": knowledge}] if knowledge else []
    messages += [{"role": "user" if turn["role"] == last_role else "assistant", "content": turn["text"]}
                 for turn in history]
    return messages


def reply_message(text: str) -> list[dict]:
    return [{"role": "assistant", "content": text}]


def pairs_from_label(task: dict, label: Label, knowledge: str = "", counts: Counter | None = None) -> list[dict]:
    """The preference pairs one label implies (see the module doc), each ``{prompt, chosen, rejected, ...}``."""
    counts = counts if counts is not None else Counter()
    counts[label.outcome] += 1
    texts = {c["cand_id"]: c["text"] for c in task["candidates"]}
    prompt = prompt_messages(task, knowledge)
    meta = {"task_id": task["task_id"], "source": label.source, "annotator": label.annotator}
    pairs = []
    if label.outcome == "best":
        if label.best not in texts:
            raise ValueError(f"label of task {task['task_id']}: best {label.best!r} is not one of its candidates")
        for cand_id, text in texts.items():
            if cand_id != label.best and text.strip() != texts[label.best].strip():
                pairs.append({"prompt": prompt, "chosen": reply_message(texts[label.best]),
                              "rejected": reply_message(text), **meta})
    if label.edit and label.edit["cand_id"] in texts:
        original = texts[label.edit["cand_id"]]
        if label.edit["text"].strip() != original.strip():
            pairs.append({"prompt": prompt, "chosen": reply_message(label.edit["text"]),
                          "rejected": reply_message(original), **meta, "edit": True})
            counts["edit_pairs"] += 1
    counts["pairs"] += len(pairs)
    return pairs

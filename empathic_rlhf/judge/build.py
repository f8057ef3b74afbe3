"""Build the judge: train the fit model on ED train (gold vs hard negatives), choose how to combine it with the
EPITOME mechanisms on ED valid + EPITOME valid, report on ED test + EPITOME test, save into the cache.

Splits, so the reported numbers measure generalisation and not memory: training contexts and their negatives come
from ED train only (the "other conversation" pool included); the combination is chosen on ED valid and EPITOME
valid; the battery on ED test uses the BATTERY phrases, disjoint from the TRAINING phrases the negatives use.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict
import time
from pathlib import Path

import numpy as np

from ..battery.mined import widened
from ..battery.phrases import BATTERY, TRAINING
from ..battery.probes import KINDS, Context
from ..battery.run import battery_rows, contexts_from_conversations, flatten, predicted_emotions, tabulate
from ..io import atomic_path
from ..records import history_texts
from .config import JudgeBuildConfig
from .scorer import COMBINATION_FILE, FIT_FOLDER, MODEL_VERSION, Judge, combine, default_judge_dir

# Candidate combinations of the fit logit and the mechanisms' level sum (scorer.combine); the build keeps the one
# closest to both targets on the valid splits.
RULES = ({"kind": "fit"}, {"kind": "gated"}, *({"kind": "additive", "weight": w} for w in (0.25, 0.5, 1.0, 2.0)))
# Targets of the issue that asked for a judge: gold beats every probe kind in >= 95% of contexts (85% for another
# conversation's reply with the same emotion) and Spearman with EPITOME's human level sum >= today's 0.52.
KIND_TARGETS = {kind: 0.85 if kind == "other_same_emotion" else 0.95 for kind in KINDS}
SPEARMAN_TARGET = 0.52
COMPOSITE = "empathy (old composite)"


def target_ratio(battery: dict, spearman: float | None) -> float:
    """min over the targets of achieved / target: >= 1 meets them all, and the larger the closer."""
    ratios = [row["rate"] / KIND_TARGETS[kind] for kind, row in battery["kinds"].items()]
    ratios.append((spearman or 0.0) / SPEARMAN_TARGET)
    return min(ratios)


class Measured:
    """Fit logits and level sums of one evaluation set, computed once and combined by every rule."""

    def __init__(self, judge: Judge, histories: list[list[str]], replies: list[str]):
        self.fit = judge.fit(histories, replies)
        self.levels = judge.level_sum(histories, replies)

    def scores(self, rule: dict | None) -> np.ndarray:
        return self.levels / 3.0 if rule is None else combine(self.fit, self.levels, rule)  # None: old composite


def epitome_split(split: str, limit: int | None = None):
    from ..empathy.epitome import load_examples, split_examples
    from ..reward.probe import POST_WORDS

    pairs = split_examples(load_examples())[split][:limit]
    histories = [[" ".join(p.post.split()[-POST_WORDS:])] for p in pairs]
    return histories, [p.response for p in pairs], [sum(p.levels) for p in pairs]


def epitome_training_contexts(limit: int, empathy) -> list[Context]:
    """The first ``limit`` EPITOME train pairs as judge training contexts, the emotion read from the post."""
    histories, responses, _ = epitome_split("train", limit)
    emotions = [emotion for emotion, _ in empathy.predict_emotion(histories)]
    return [Context(f"epitome-train:{i}", emotion, tuple(history), response)
            for i, (history, response, emotion) in enumerate(zip(histories, responses, emotions))]


def evaluate(judge: Judge, contexts, rules: dict[str, dict | None], epitome_split_name: str, seed: int) -> dict:
    """Battery (BATTERY phrases, predicted emotions) and EPITOME Spearman of each named rule."""
    from ..reward.probe import spearman_ci

    predicted = predicted_emotions(contexts, judge.empathy)
    probes = battery_rows(contexts, phrases=BATTERY, seed=seed, predicted_emotions=predicted)
    prompts, replies = flatten(contexts, probes)
    on_battery = Measured(judge, [history_texts(p) for p in prompts], replies)
    ep_histories, ep_replies, ep_levels = epitome_split(epitome_split_name)
    on_epitome = Measured(judge, ep_histories, ep_replies)
    out = {}
    for name, rule in rules.items():
        battery = tabulate(contexts, probes, on_battery.scores(rule))
        spearman = spearman_ci(on_epitome.scores(rule), ep_levels, seed=seed)
        out[name] = {"rule": rule, "battery": battery, "epitome_spearman": spearman,
                     "target_ratio": target_ratio(battery, spearman["rho"])}
    return out


def build_judge(config: JudgeBuildConfig, out_dir: str | Path | None = None, *, log=print) -> Path:
    """Train (resumable), choose the combination, measure, save; returns the folder."""
    from ..data.sources import resolve
    from ..empathy.build import check_data
    from ..empathy.config import EmpathyBuildConfig
    from ..empathy.scorer import shared_scorer
    from ..errors import EmpathicError
    from .fit import kind_weights, train_fit_model, training_pairs, warm_start_folder

    weights = kind_weights(config.negative_weights)  # bad settings fail before any data is read
    if config.warm_start and not (warm_start_folder(config.warm_start) / "config.json").is_file():
        raise EmpathicError(f"judge.warm_start: {config.warm_start}: no built judge here (a folder written by "
                            f"`empathic judge build`, or its {FIT_FOLDER}/ model)")
    _, ed_dir = check_data(EmpathyBuildConfig(data_dir=config.data_dir))
    out_dir = Path(out_dir) if out_dir else default_judge_dir()
    work_dir = out_dir.with_name(out_dir.name + ".work")
    started = time.perf_counter()
    source = resolve(str(ed_dir))

    def contexts(split: str, limit: int | None = None):
        return contexts_from_conversations(source.read(split)[:config.max_conversations],
                                           history_turns=config.history_turns, limit=limit)

    train = contexts("train")
    phrases, mined = widened(TRAINING, [c.gold for c in train], config.mined_phrases)
    train = random.Random(config.seed).sample(train, min(config.train_contexts, len(train)))
    pairs = training_pairs(train, phrases=phrases, negatives=config.negatives_per_context, seed=config.seed,
                           weights=weights)
    log(f"judge: {len(pairs):,} training pairs from {len(train):,} ED train contexts")
    if config.epitome_contexts:  # their own pool: "another post's reply" is another EPITOME reply
        epitome = epitome_training_contexts(config.epitome_contexts, shared_scorer())
        pairs += training_pairs(epitome, phrases=phrases, negatives=config.negatives_per_context,
                                seed=config.seed, weights=weights)
        log(f"judge: {len(pairs):,} training pairs with {len(epitome):,} EPITOME train contexts")
    trained = work_dir / "training.json"  # a finished training (a build killed while measuring resumes here)
    done = json.loads(trained.read_text(encoding="utf-8")) if trained.is_file() else {}
    if done.get("config") == asdict(config) and (work_dir / FIT_FOLDER / "config.json").is_file():
        training = done["training"]
    else:
        training = train_fit_model(pairs, config, work_dir, work_dir / FIT_FOLDER)
        training["seconds"] = round(time.perf_counter() - started, 1)
        trained.write_text(json.dumps({"config": asdict(config), "training": training}) + "\n", encoding="utf-8")
    (work_dir / COMBINATION_FILE).write_text(json.dumps({"rule": RULES[0]}) + "\n", encoding="utf-8")
    judge = Judge(work_dir, empathy=shared_scorer())

    named = {json.dumps(rule, sort_keys=True): rule for rule in RULES}
    selection = evaluate(judge, contexts("valid", config.eval_contexts), named, "valid", config.seed)
    chosen_name = max(selection, key=lambda name: selection[name]["target_ratio"])
    chosen = named[chosen_name]
    log(f"judge: combination {chosen_name} (valid target ratio {selection[chosen_name]['target_ratio']:.3f})")
    test = evaluate(judge, contexts("test", config.eval_contexts),
                    {"judged_empathy": chosen, "context_fit": {"kind": "fit"}, COMPOSITE: None}, "test", config.seed)
    report = {"model_version": MODEL_VERSION, "config": asdict(config), "training": training, "mined_phrases": mined,
              "selection": {name: {k: v for k, v in row.items() if k != "battery"} | {
                  "kinds": {k: r["rate"] for k, r in row["battery"]["kinds"].items()}}
                  for name, row in selection.items()},
              "rule": chosen, "test": test, "build_seconds": round(time.perf_counter() - started, 1)}
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        (work_dir / FIT_FOLDER).rename(tmp / FIT_FOLDER)
        (tmp / COMBINATION_FILE).write_text(json.dumps({"rule": chosen}, indent=2) + "\n", encoding="utf-8")
        (tmp / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    import shutil

    shutil.rmtree(work_dir, ignore_errors=True)
    log(f"saved {out_dir} ({report['build_seconds']:.0f} s)")
    return out_dir



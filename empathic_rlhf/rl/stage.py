"""The ``rl`` stage: π + reward -> RL policy in ``<run>/rl/model`` (the checkpoint kept at the KL budget).

Which prompts? (the seed's "with which input data??") Contexts of the prepared ``valid`` split that were *not*
made into comparison tasks: π never trained on them (SFT uses ``train``) and the reward model never saw them
(it learned from the tasks), so RL cannot simply replay what r memorised. The last ``eval_prompts +
report_prompts`` of them are held out from RL itself: the selection set picks the checkpoint, the disjoint report
set reports the kept model against π.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from ..distributed import is_main_process, refuse_sharded_weights
from ..errors import EmpathicError
from ..stage import Context, InRounds, Stage


def needs(config) -> tuple[str, ...]:
    """sft always (π); reward and dyme when they are reward components."""
    return ("sft", *(stage for stage, component in (("reward", "reward_model"), ("dyme", "dyme"))
                     if component in config.rl.rewards))


def inputs(context: Context) -> dict[str, str]:
    config, run, later = context.config, context.run, context.round
    if later is not None:  # a later round: from the previous round's policy, on prompts no round's pool used
        found = {"policy/before": later.policy, "reward/model": str(run.stage_dir("reward") / "model"),
                 "sft/model": str(run.stage_dir("sft") / "model"),
                 "prepare/prompts": str(run.stage_dir("prepare") / f"{config.rl.prompt_split}.jsonl")}
        found.update({f"pool/round{i}": str(folder.stage_dir("sample") / "tasks.jsonl")
                      for i, folder in enumerate([*later.earlier, run], start=1)})
        return found
    found = {"prepare/prompts": str(run.stage_dir("prepare") / f"{config.rl.prompt_split}.jsonl"),
             "sft/model": str(run.stage_dir("sft") / "model")}
    if config.rl.init_policy:
        found["rl/init_policy"] = config.rl.init_policy
    if "reward_model" in config.rl.rewards:
        found["reward/model"] = str(run.stage_dir("reward") / "model")
    if "dyme" in config.rl.rewards:
        found["dyme/model"] = str(run.stage_dir("dyme") / "model")
    tasks = run.stage_dir("sample") / "tasks.jsonl"
    if tasks.is_file():
        found["sample/tasks"] = str(tasks)
    return found


def rl_prompts(config, run) -> tuple[list[list[dict]], list[list[dict]], list[list[dict]]]:
    """(training, selection, report) prompts: prompt-split contexts whose conversations have no comparison task."""
    from ..io import read_jsonl

    tasks_path = run.stage_dir("sample") / "tasks.jsonl"
    used = {t.get("conv_id") for _, t in read_jsonl(tasks_path)} if tasks_path.is_file() else set()
    path = run.stage_dir("prepare") / f"{config.rl.prompt_split}.jsonl"
    prompts = [s["prompt"] for _, s in read_jsonl(path) if s["conv_id"] not in used]
    held = config.rl.eval_prompts + config.rl.report_prompts
    if config.rl.max_prompts:
        prompts = prompts[: config.rl.max_prompts + held]
    if len(prompts) <= config.rl.eval_prompts + 1:
        raise EmpathicError(f"{path}: only {len(prompts)} prompts left after excluding labelled contexts; need more "
                            f"than rl.eval_prompts + 1 = {config.rl.eval_prompts + 1}")
    # a small prompt set: the report set takes at most half of what the selection set leaves, so RL keeps prompts
    report = min(config.rl.report_prompts, (len(prompts) - config.rl.eval_prompts) // 2)
    report = report if report >= 2 else 0  # one prompt has no standard error: no report set then
    if report < config.rl.report_prompts:
        print(f"WARNING [rl]: only {len(prompts)} prompts: report set cut to {report} (rl.report_prompts="
              f"{config.rl.report_prompts})", file=sys.stderr)
    selection_end = len(prompts) - report
    selection_start = selection_end - config.rl.eval_prompts
    return prompts[:selection_start], prompts[selection_start:selection_end], prompts[selection_end:]


def reward_functions(config, run, eos_token_id: int) -> tuple[list, list[float]]:
    """The weighted components of ``rl.rewards`` (columns of the scorer registry), plus the missing-end-of-reply
    penalty."""
    from .rewards import RUN_MODELS, component_reward, missing_eos_penalty_fn

    fns, weights = [], []
    for name, weight in config.rl.rewards.items():
        model_dir = None
        if name in RUN_MODELS:
            folder = run.stage_dir(RUN_MODELS[name]) / "model"
            if not folder.is_dir() or not any(folder.iterdir()):
                raise EmpathicError(f"{folder}: no {name} model; run `empathic {RUN_MODELS[name]}` first")
            model_dir = str(folder)
        fns.append(component_reward(name, model_dir=model_dir, static_reward=config.static_reward))
        weights.append(weight)
    if config.rl.missing_eos_penalty:
        fns.append(missing_eos_penalty_fn(eos_token_id, config.rl.missing_eos_penalty))
        weights.append(1.0)
    return fns, weights


def run(context: Context) -> dict:
    """RL from π (or ``rl.init_policy``) on the run's prompts; in a later round, from the previous round's policy
    on the round's prompts. The KL is always to π."""
    refuse_sharded_weights("rl")
    config, run, later = context.config, context.run, context.round
    policy = run.stage_dir("sft") / "model"
    if not (policy / "config.json").is_file():
        raise EmpathicError(f"{policy}: no SFT policy; run `empathic sft` first")
    if later is None:
        return train_and_summarise(config, run, str(policy), rl_prompts(config, run))
    config = replace(config, rl=replace(config.rl, init_policy=later.policy))
    return train_and_summarise(config, run, str(policy), later.rl_prompts())


def human_replies(config, run, prompts: list[list[dict]]) -> list[str]:
    """The human reply to each of ``prompts`` (contexts of the prompt split, in any round): what the held-out
    checks measure the policy's perplexity on."""
    import json

    from ..io import read_jsonl

    path = run.stage_dir("prepare") / f"{config.rl.prompt_split}.jsonl"
    replies = {json.dumps(s["prompt"], sort_keys=True): s["completion"][0]["content"] for _, s in read_jsonl(path)}
    return [replies[json.dumps(p, sort_keys=True)] for p in prompts]


def rl_seed(config) -> int:
    """``rl.seed`` when set, else the run's seed."""
    return config.seed if config.rl.seed is None else config.rl.seed


def train_and_summarise(config, run, pi: str, prompt_sets) -> dict:
    """RL from ``rl.init_policy`` (default π, the folder ``pi``) with the KL to π, on the (training, selection,
    report) prompts, into ``run.stage_dir("rl")``; returns the stage's result."""
    from transformers import AutoTokenizer

    from .trainer import train_rl

    prompts, selection, report = prompt_sets
    eos = AutoTokenizer.from_pretrained(pi).eos_token_id
    fns, weights = reward_functions(config, run, eos)
    summary = train_rl(config.rl, config.rl.init_policy or pi, prompts, selection, fns, weights, run.stage_dir("rl"),
                       seed=rl_seed(config), report_prompts=report, reference=pi,
                       heldout_references=human_replies(config, run, selection))
    kept, outcome, reported = summary["kept"] or {}, summary["outcome"], summary["report"] or {}
    if is_main_process():  # every process holds the same summary: print it once
        _print_summary(summary, kept, reported)
    return {"outputs": ["rl/model", "rl/metrics.json", "rl/log.jsonl"],
            "summary": {"steps": summary["steps"], "kept_step": kept.get("step"),
                        "kept_heldout_reward": kept.get("heldout_reward"), "kept_heldout_kl": kept.get("heldout_kl"),
                        "report_diff_vs_pi": reported.get("diff_vs_pi"),
                        "report_diff_vs_pi_se": reported.get("diff_vs_pi_se"),
                        "kl_control": summary["kl_control"]["description"], "final_beta": summary["final_beta"],
                        "nothing_trained": outcome["nothing_trained"], "kept_is_pi": outcome["kept_is_pi"],
                        "warnings": outcome["warnings"]}}


def _print_summary(summary: dict, kept: dict, reported: dict) -> None:
    print(f"[rl] {summary['kl_control']['description']}; final beta {summary['final_beta']:.4g}")
    print(f"[rl] kept step {kept.get('step')}: selection reward {_rounded(kept.get('heldout_reward'))}, KL "
          f"{_rounded(kept.get('heldout_kl'))}; report set vs π {_rounded(reported.get('diff_vs_pi'))} ± "
          f"{_rounded(reported.get('diff_vs_pi_se'))} (SE, {reported.get('n_prompts')} prompts x "
          f"{reported.get('samples_per_prompt')})")


def _rounded(value) -> str:
    return "-" if value is None else f"{value:.3f}"


STAGE = Stage("rl", ("model", "prepare", "rl", "static_reward"), inputs, run, needs=needs, trains=True,
              command=("rl",), rounds=InRounds())

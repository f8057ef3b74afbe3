"""<section>.trainer_args: extra TRL/transformers arguments of each training stage, passed through as they are (a new
knob is one line of YAML or one flag); gradient checkpointing and accumulation reach RL, DPO and the reward model."""

import pytest

from empathic_rlhf.errors import EmpathicError
from empathic_rlhf.run_config import load_run_config

KNOBS = {"gradient_checkpointing": True, "gradient_accumulation_steps": 2, "max_grad_norm": 0.5}


def trl_config_of(section: str, config, tmp_path):
    """The TRL config the stage builds from its section."""
    if section == "sft":
        from empathic_rlhf.sft.train import _sft_args

        return _sft_args(config.sft, tmp_path, 0, resume=False)
    if section == "reward":
        from empathic_rlhf.reward.train import trl_args

        return trl_args(config.reward, tmp_path, 0)
    if section == "dpo":
        from empathic_rlhf.dpo.train import trl_args

        return trl_args(config.dpo, tmp_path, 0)
    from empathic_rlhf.rl.trainer import trl_config

    return trl_config(config.rl, tmp_path, 0)


@pytest.mark.parametrize("section", ["reward", "dpo", "rl"])
def test_gradient_checkpointing_and_accumulation_reach_every_trainer(section, tmp_path):
    config = load_run_config(overrides=[f"--{section}.trainer_args.{key}={str(value).lower()}"
                                        for key, value in KNOBS.items()])
    assert getattr(config, section).trainer_args == KNOBS
    args = trl_config_of(section, config, tmp_path)
    assert (args.gradient_checkpointing, args.gradient_accumulation_steps, args.max_grad_norm) == (True, 2, 0.5)


def test_rl_accumulates_within_one_optimizer_step_of_prompts_per_step(tmp_path):
    """rl.prompts_per_step stays per optimizer step: accumulation splits it into micro-batches."""
    config = load_run_config(overrides=["--rl.prompts_per_step=4", "--rl.num_generations=2"])
    assert trl_config_of("rl", config, tmp_path).per_device_train_batch_size == 8
    accumulated = load_run_config(overrides=["--rl.prompts_per_step=4", "--rl.num_generations=2",
                                             "--rl.trainer_args.gradient_accumulation_steps=4"])
    args = trl_config_of("rl", accumulated, tmp_path)
    assert (args.per_device_train_batch_size, args.gradient_accumulation_steps) == (2, 4)
    assert args.per_device_train_batch_size * args.steps_per_generation == 8  # one generation per optimizer step
    uneven = load_run_config(overrides=["--rl.prompts_per_step=3", "--rl.num_generations=2",
                                        "--rl.trainer_args.gradient_accumulation_steps=4"])
    with pytest.raises(EmpathicError, match="= 6 does not divide into rl.trainer_args.gradient_accumulation_steps"):
        trl_config_of("rl", uneven, tmp_path)


def test_sft_passes_a_knob_it_has_no_field_for(tmp_path):
    config = load_run_config(overrides=["--sft.trainer_args.gradient_checkpointing=true",
                                        "--sft.trainer_args.dataloader_num_workers=1"])  # a device default
    args = trl_config_of("sft", config, tmp_path)
    assert args.gradient_checkpointing is True and args.dataloader_num_workers == 1


@pytest.mark.parametrize("section, key, message", [
    ("sft", "gradient_acumulation_steps", "sft.trainer_args: SFTConfig has no argument 'gradient_acumulation_steps'"),
    ("sft", "gradient_accumulation_steps", "'gradient_accumulation_steps' is set by the sft stage itself"),
    ("dpo", "beta", "'beta' is set by the dpo stage itself"),
    ("reward", "output_dir", "'output_dir' is set by the reward stage itself"),
])
def test_an_unknown_or_taken_argument_is_an_error_naming_it(section, key, message, tmp_path):
    config = load_run_config(overrides=[f"--{section}.trainer_args.{key}=2"])
    with pytest.raises(EmpathicError, match=message):
        trl_config_of(section, config, tmp_path)


def test_dpo_and_the_reward_model_train_with_checkpointing_and_accumulation(tiny_gpt2_dir, tmp_path):
    from planted import planted_tasks

    from empathic_rlhf.dpo.config import DpoConfig
    from empathic_rlhf.dpo.train import train_dpo
    from empathic_rlhf.reward.config import RewardConfig
    from empathic_rlhf.reward.pairs import build_pairs
    from empathic_rlhf.reward.train import train_reward_model

    knobs = {"gradient_checkpointing": True, "gradient_accumulation_steps": 2}
    tasks, labels = planted_tasks(20, seed=1)
    pairs, counts = build_pairs(tasks, labels, 0.25)
    dpo = train_dpo(DpoConfig(max_steps=2, batch_size=2, trainer_args=knobs), str(tiny_gpt2_dir), pairs["train"],
                    pairs["heldout"], tmp_path / "dpo", seed=0)
    assert dpo["steps"] == 2
    reward = RewardConfig(max_steps=2, batch_size=2, empathy_probe=0, method="lora", trainer_args=knobs)
    assert train_reward_model(str(tiny_gpt2_dir), pairs, counts, labels, tasks, reward, tmp_path / "reward",
                              seed=0)["heldout"]["overall"]["n"] > 0


@pytest.mark.parametrize("algorithm", ["rloo", "grpo"])
def test_rl_trains_with_checkpointing_and_accumulation(tiny_gpt2_dir, tmp_path, algorithm):
    from empathic_rlhf.rl.config import RlConfig
    from empathic_rlhf.rl.rewards import named, reply_text
    from empathic_rlhf.rl.trainer import train_rl

    def length(prompts, completions, **kwargs):
        return [float(len(reply_text(c))) for c in completions]

    config = RlConfig(algorithm=algorithm, num_generations=2, prompts_per_step=2, max_completion_length=4,
                      max_steps=2, eval_steps=1, eval_prompts=2, eval_samples=2, normalize_rewards=False,
                      mask_truncated_completions=False,
                      trainer_args={"gradient_checkpointing": True, "gradient_accumulation_steps": 2})
    prompts = [[{"role": "user", "content": c}] for c in ("a", "b", "c", "d")] * 2
    summary = train_rl(config, str(tiny_gpt2_dir), prompts, prompts[:2], [named("length", length)], [1.0], tmp_path,
                       seed=0, report_prompts=prompts[2:4])
    assert summary["steps"] == 2

"""The beta the KL controller sets (through the trainer's public ``beta`` attribute, from an ``on_log`` callback)
is the beta TRL's next update uses -- for RLOO (KL in the reward) and GRPO (KL in the loss).

With a zero task reward, plain SGD and no gradient clipping, an update is the gradient of ``beta * KL`` alone, so
it is proportional to the beta in force. Two runs share step 1 (same seed, same beta); in one the controller
raises beta by x1.2 after step 1. Step 2's update must then be 1.2x the other run's, weight by weight (up to float
noise: ~1% of the update's norm for RLOO, whose zero-sum advantages cancel). For GRPO the logged loss is then
exactly ``beta * kl``, a second, direct witness.
"""

import pytest

from empathic_rlhf.rl.kl_controller import AdaptiveKLController, FixedKLController, make_kl_callback

PROMPTS = [[{"role": "user", "content": c}] for c in ("I got the job!", "My dog died.", "I lost my wallet.",
                                                      "We are moving abroad.")] * 4
BETA = 0.5


def zero_reward(prompts, completions, **kwargs):
    return [0.0] * len(completions)


def updates_with(algorithm, controller, policy_dir, tmp_path):
    """The weight change of each of two steps, and the beta each step used (as the callback logged it)."""
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer

    from empathic_rlhf.rl.trainer import load_policy

    policy, tokenizer = load_policy(str(policy_dir), tmp_path / "start")
    # TRL builds the reference from the saved weights; a perturbed policy has a KL > 0 to it from the start
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=generator))
    snapshots, used, losses = [], [], []
    log_extra, trainer_ref = {}, {}

    class Snapshot(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):
            snapshots.append(torch.cat([p.detach().flatten().clone() for p in model.parameters()]))

        def on_step_end(self, args, state, control, model=None, **kwargs):
            snapshots.append(torch.cat([p.detach().flatten().clone() for p in model.parameters()]))

        def on_log(self, args, state, control, logs=None, **kwargs):
            if "kl" in (logs or {}):
                used.append(log_extra["beta_used"])
                losses.append((logs["loss"], logs["kl"]))

    config_cls, trainer_cls = {"rloo": (RLOOConfig, RLOOTrainer), "grpo": (GRPOConfig, GRPOTrainer)}[algorithm]
    args = config_cls(output_dir=str(tmp_path / "out"), learning_rate=1e-2, optim="sgd", lr_scheduler_type="constant",
                      max_grad_norm=0.0, max_steps=2, per_device_train_batch_size=8, num_generations=4,
                      max_completion_length=6, temperature=1.0, top_k=0, top_p=1.0, beta=BETA, logging_steps=1,
                      save_strategy="no", report_to=[], seed=0, use_cpu=True, disable_dropout=True,
                      mask_truncated_completions=False, disable_tqdm=True)
    kl_callback = make_kl_callback(trainer_ref, controller, 8, log_extra)
    trainer = trainer_cls(model=policy, reward_funcs=[zero_reward], args=args, processing_class=tokenizer,
                          train_dataset=Dataset.from_list([{"prompt": p} for p in PROMPTS]),
                          callbacks=[kl_callback, Snapshot()])
    trainer_ref["trainer"] = trainer
    trainer.train()
    return [after - before for before, after in zip(snapshots, snapshots[1:])], used, losses


@pytest.fixture(scope="module")
def local_bpe_gpt2(tmp_path_factory):
    """A tiny GPT-2 with a small local BPE: quicker than GPT-2's 50k-token vocabulary, same code paths."""
    from empathic_rlhf.models.embedded import build_tiny_gpt2

    return build_tiny_gpt2(tmp_path_factory.mktemp("tiny-local-bpe"), None)


@pytest.mark.parametrize("algorithm", ["rloo", "grpo"])
def test_the_next_update_uses_the_beta_the_controller_set(algorithm, tmp_path, local_bpe_gpt2):
    fixed, fixed_used, _ = updates_with(algorithm, FixedKLController(BETA), local_bpe_gpt2, tmp_path / "fixed")
    # a target far below any KL: error clipped to +0.2, 8 episodes / horizon 8 -> beta x 1.2 after step 1
    raised, raised_used, raised_losses = updates_with(algorithm, AdaptiveKLController(BETA, target=1e-6, horizon=8),
                                       local_bpe_gpt2, tmp_path / "raised")
    assert fixed_used == [BETA, BETA] and raised_used == pytest.approx([BETA, 1.2 * BETA])
    assert fixed[0].norm() > 0  # the KL term moves the weights at all
    assert raised[0].tolist() == pytest.approx(fixed[0].tolist(), abs=1e-7)  # step 1: same beta, same update
    ratio = (raised[1] @ fixed[1]) / (fixed[1] @ fixed[1])  # least-squares factor between the step-2 updates
    assert ratio.item() == pytest.approx(1.2, rel=2e-3)
    assert ((raised[1] - ratio * fixed[1]).norm() / fixed[1].norm()).item() < 0.03
    if algorithm == "grpo":  # zero advantages: the per-token loss is beta * KL, averaged as TRL logs the KL
        for (loss, kl), beta in zip(raised_losses, raised_used):
            assert loss == pytest.approx(beta * kl, rel=1e-3)

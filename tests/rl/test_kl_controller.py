import math

import pytest

from empathic_rlhf.rl.kl_controller import AdaptiveKLController, FixedKLController


def test_adaptive_controller_on_hand_made_numbers():
    controller = AdaptiveKLController(value=0.1, target=6.0, horizon=10_000)
    # KL twice the target: error clipped to +0.2; 512 episodes -> beta * (1 + 0.2 * 512 / 10000)
    assert controller.update(kl=12.0, n_steps=512) == pytest.approx(0.1 * 1.01024)
    # KL 4.5 (error -0.25, clipped to -0.2), 1000 episodes
    assert controller.update(kl=4.5, n_steps=1000) == pytest.approx(0.1 * 1.01024 * 0.98)
    # KL 6.6: error +0.1 unclipped, 100 episodes
    before = controller.value
    assert controller.update(kl=6.6, n_steps=100) == pytest.approx(before * (1 + 0.1 * 100 / 10_000))
    # On target: unchanged
    before = controller.value
    assert controller.update(kl=6.0, n_steps=100) == pytest.approx(before)


def test_fixed_controller_never_moves():
    assert FixedKLController(0.05).update(kl=100.0, n_steps=1000) == 0.05


def test_horizon_defaults_to_a_tenth_of_the_runs_episodes():
    from empathic_rlhf.rl.config import RlConfig

    config = RlConfig(max_steps=100, prompts_per_step=4, num_generations=4)
    assert config.horizon == 160  # 100 steps x 16 episodes / 10
    assert RlConfig(kl_horizon=500).horizon == 500
    with pytest.raises(ValueError, match="kl_horizon"):
        RlConfig(kl_horizon=8)  # below one step's 16 episodes: beta could be driven to 0


def test_a_run_whose_beta_cannot_move_is_called_fixed():
    from empathic_rlhf.rl.config import RlConfig
    from empathic_rlhf.rl.kl_controller import kl_control_description

    # the old default: horizon 10,000 for a demo of 48 steps x 16 episodes -> beta moves by at most x1.016
    demo = kl_control_description(RlConfig(max_steps=48, kl_horizon=10_000))
    assert demo["mode"] == "fixed" and demo["description"].startswith("fixed beta=0.05")
    assert demo["max_factor"] == pytest.approx(math.exp(0.2 * 768 / 10_000))
    sized = kl_control_description(RlConfig(max_steps=48))  # horizon 76: up to e^2
    assert sized["mode"] == "adaptive" and sized["max_factor"] == pytest.approx(math.exp(0.2 * 768 / 76))
    assert kl_control_description(RlConfig(adaptive_kl=False))["description"] == "fixed beta=0.05"


def test_kl_per_reply_from_trls_logged_metrics():
    from empathic_rlhf.rl.kl_controller import sequence_kl

    assert sequence_kl({"kl": 0.25, "completions/mean_length": 12.0}) == 3.0
    assert sequence_kl({"train_runtime": 1.0}) is None  # the end-of-training summary log has no KL

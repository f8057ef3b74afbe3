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

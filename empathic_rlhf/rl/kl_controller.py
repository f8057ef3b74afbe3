"""KL controllers of lm-human-preferences (Ziegler et al. 2019), which TRL dropped: a small piece on top of it.

The RL reward is ``r(x, y) - beta * KL(pi_theta(y|x) || pi(y|x))``. A fixed ``beta`` gives whatever KL the
reward pushes to; the adaptive controller steers the KL to a target instead::

    error = clip(KL / target - 1, -0.2, 0.2)
    beta <- beta * (1 + error * n / horizon)          # n: episodes in this update

so ``beta`` grows while the policy drifts further than the target and shrinks while it stays closer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FixedKLController:
    value: float

    def update(self, kl: float, n_steps: int) -> float:
        return self.value


@dataclass
class AdaptiveKLController:
    value: float
    target: float
    horizon: int

    def update(self, kl: float, n_steps: int) -> float:
        """Move ``value`` towards the target KL after an update that saw ``n_steps`` episodes; returns it."""
        proportional_error = min(max(kl / self.target - 1.0, -0.2), 0.2)
        self.value *= 1.0 + proportional_error * n_steps / self.horizon
        return self.value


def make_controller(init_beta: float, adaptive: bool, target: float, horizon: int):
    return AdaptiveKLController(init_beta, target, horizon) if adaptive else FixedKLController(init_beta)

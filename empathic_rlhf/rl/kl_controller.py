"""KL controllers of lm-human-preferences (Ziegler et al. 2019), which TRL dropped: a small piece on top of it.

The RL reward is ``r(x, y) - beta * KL(pi_theta(y|x) || pi(y|x))``. A fixed ``beta`` gives whatever KL the
reward pushes to; the adaptive controller steers the KL to a target instead::

    error = clip(KL / target - 1, -0.2, 0.2)
    beta <- beta * (1 + error * n / horizon)          # n: episodes in this update

so ``beta`` grows while the policy drifts further than the target and shrinks while it stays closer.

How it is driven (``KLControlCallback``): only from public signals. TRL logs, through ``Trainer.log`` and so every
callback's ``on_log``, the mean per-token KL of the step (``kl``) and the mean reply length
(``completions/mean_length``); their product is the mean KL per reply. The new ``beta`` is written to the trainer's
``beta`` attribute, which both TRL 1.16 trainers read afresh every step (RLOO when it subtracts ``beta * KL`` from
the rewards of a new generation round, GRPO in its loss); see docs/rl.md and tests/rl/test_beta_in_loss.py.
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


def kl_control_description(config) -> dict:
    """How beta was controlled, in words and numbers -- never 'adaptive' for a run whose beta cannot move.

    The most beta can move over the run is a factor exp(0.2 * episodes / horizon); under 10% it is called fixed.
    """
    import math

    episodes = config.max_steps * config.episodes_per_step
    max_factor = math.exp(0.2 * episodes / config.horizon)
    adaptive = config.adaptive_kl and max_factor >= 1.1
    if adaptive:
        words = (f"adaptive beta (start {config.beta:g}, target KL {config.kl_target:g} nats/reply, horizon "
                 f"{config.horizon} episodes: up to x{max_factor:.2g} over {episodes} episodes)")
    elif config.adaptive_kl:
        words = (f"fixed beta={config.beta:g} (adaptive controller requested, but horizon {config.horizon} vs "
                 f"{episodes} episodes lets beta move by at most x{max_factor:.3g})")
    else:
        words = f"fixed beta={config.beta:g}"
    return {"mode": "adaptive" if adaptive else "fixed", "description": words, "horizon": config.horizon,
            "episodes": episodes, "max_factor": max_factor}


def sequence_kl(logs: dict) -> float | None:
    """Mean KL per reply from one TRL log record (per-token mean KL x mean reply length), or None without KL.

    With ``mask_truncated_completions`` TRL averages the per-token KL over the replies that ended only, so this
    assumes truncated replies drift per token as the others do.
    """
    kl, length = logs.get("kl"), logs.get("completions/mean_length")
    if kl is None or length is None:
        return None
    return float(kl) * float(length)


def make_kl_callback(trainer_ref: dict, controller, episodes_per_step: int, log_extra: dict):
    """A ``TrainerCallback`` that updates ``controller`` from every training log and sets the trainer's beta.

    ``trainer_ref["trainer"]`` is the trainer (TrainerCallback hooks are not handed it); ``log_extra`` receives
    ``beta`` and ``kl_sequence`` for the RL log.
    """
    from transformers import TrainerCallback

    class KLControlCallback(TrainerCallback):
        last_step = None

        def on_train_begin(self, args, state, control, **kwargs):
            self.last_step = state.global_step
            trainer_ref["trainer"].beta = controller.value  # a resumed run continues from its saved beta

        def on_log(self, args, state, control, logs=None, **kwargs):
            kl = sequence_kl(logs or {})
            if kl is None or state.global_step == self.last_step:
                return
            episodes = (state.global_step - self.last_step) * episodes_per_step
            self.last_step = state.global_step
            log_extra["kl_sequence"] = kl
            log_extra["beta_used"] = trainer_ref["trainer"].beta
            trainer_ref["trainer"].beta = controller.update(kl, n_steps=episodes)
            log_extra["beta"] = controller.value

    return KLControlCallback()

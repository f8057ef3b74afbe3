"""Did the RL run train anything? Said loudly when not, rather than reported as an improvement."""

from __future__ import annotations

import sys


def policy_changed(policy, reference) -> bool:
    """True when any weight of ``policy`` differs from the reference (π, as TRL loaded it)."""
    import torch

    ref = dict(reference.named_parameters())
    return any(not torch.equal(p.detach().cpu(), ref[name].detach().cpu()) for name, p in policy.named_parameters()
               if name in ref)


def training_outcome(log: list[dict], changed: bool, kept_step: int | None, mask_truncated: bool,
                     start: str = "π") -> dict:
    """Flags and warnings from the step log (TRL's ``completions/clipped_ratio``), the weights and the kept step.
    ``start`` names the policy training started from (an earlier round's, when RL continues)."""
    steps = [r for r in log if "completions/clipped_ratio" in r]
    all_truncated = [r["step"] for r in steps if r["completions/clipped_ratio"] >= 1.0]
    nothing_in_loss = mask_truncated and bool(steps) and len(all_truncated) == len(steps)
    warnings = []
    if nothing_in_loss:
        warnings.append(f"every reply of all {len(steps)} steps hit rl.max_completion_length and was masked out of "
                        "the loss (mask_truncated_completions): no token was trained on")
    if not changed:
        warnings.append(f"the policy's weights equal {start}'s after training: nothing was trained")
    if kept_step == 0:
        warnings.append(f"no checkpoint beat {start} on the selection prompts by more than its noise: rl/model is "
                        f"{start}")
    return {"nothing_trained": nothing_in_loss or not changed, "policy_changed": changed,
            "steps_all_truncated": len(all_truncated), "steps": len(steps), "kept_is_pi": kept_step == 0,
            "warnings": warnings}


def warn(outcome: dict) -> None:
    for line in outcome["warnings"]:
        print(f"WARNING [rl]: {line}", file=sys.stderr)

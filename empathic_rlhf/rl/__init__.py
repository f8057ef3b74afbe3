"""Stage 4: optimise π against the reward with a KL penalty to π (RLOO/GRPO, TRL) -- Ziegler et al. 2019."""

"""Offline preference optimisation: TRL's DPOTrainer on the reward stage's pairs, starting from π."""

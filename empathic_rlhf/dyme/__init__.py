"""DYME (von Unold et al. 2021): predict the metric vector of the next utterance from the dialogue history, and
reward replies whose metrics match the prediction. See docs/dyme.md. ``score.load_dyme_reward`` is the hook for
RL; importing this package loads nothing heavy."""

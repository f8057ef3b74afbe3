"""Stage 3: a reward model r learned from comparisons (best-of-k labels), as in Ziegler et al. 2019."""

"""The robustness battery: does a scorer prefer the human reply to replies anyone could write without reading the
conversation (stock phrases, another conversation's reply, parroting, degenerate strings, wrong tone)?

``probes`` makes the adversarial replies, ``phrases`` holds the two disjoint phrase lists (one for the battery, one
for training negatives), ``run`` scores and tabulates, ``commands`` is ``empathic battery``.
"""

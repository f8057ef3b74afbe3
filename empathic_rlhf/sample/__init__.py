"""Candidate replies for human feedback (``empathic sample``). The reply function itself lives in
:mod:`empathic_rlhf.generation` (shared with ``evaluate`` and ``chat``); it is re-exported here for the Python API.

Python API for one context (the seed's ``sample_sequence(..., context="How are you?")``)::

    from empathic_rlhf.sample import sample_replies
    sample_replies("runs/demo/sft/model", context="How are you?", k=3, seed=0)
"""

from ..generation.sampler import Sampler, sample_replies

__all__ = ["Sampler", "sample_replies"]

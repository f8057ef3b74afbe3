"""Reply generation as a library: :class:`~.sampler.Sampler` (k replies per context, three backends), its torch
decoding loop (:mod:`.decoding`) and the decoding settings (:class:`~.config.SamplingConfig`). Used by
``sample``, ``evaluate``, ``chat``, ``model fetch`` and RL's reward normalisation."""

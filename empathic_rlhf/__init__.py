"""empathic-rlhf: teach a language model to answer empathetically, from human preferences.

The package is laid out as the pipeline: ``data`` (EmpatheticDialogues -> samples), ``models`` (loading and
dialogue formats), then one folder per later stage. Importing it does no work and loads no heavy library.
"""

__version__ = "0.1.0"

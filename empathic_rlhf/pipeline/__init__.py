"""The whole loop: the run config, the list of stages, and ``empathic run``."""

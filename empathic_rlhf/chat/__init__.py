"""Talk to a model in the terminal (``empathic chat``)."""

"""Models: resolve a base model (embedded name, local folder or Hub id), load it, and give it a dialogue format."""

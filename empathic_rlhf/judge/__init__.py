"""The empathy judge: a (context, reply) cross-encoder that reads the conversation, combined with the EPITOME
mechanism classifiers into the headline score ``judged_empathy``. Built once per machine like the empathy
yardsticks (``empathic judge build``); docs/empathy.md."""

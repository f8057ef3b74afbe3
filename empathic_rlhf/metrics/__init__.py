"""Utterance metrics (sentiment, question, the repetition family, similarity, toxicity, length) and the static
utterance reward built from them. See docs/metrics.md. Importing loads nothing heavy: VADER, the toxicity
classifier and the sentence encoder load on first use."""

"""Conversations -> training samples: one reply with up to N previous turns, in TRL's conversational form.

A sample (one JSON line / one dataset row)::

    {sample_id, conv_id, emotion, situation, reply_role: listener|speaker,
     prompt: [{role: system, content: knowledge}?, {role: user|assistant, content}...],
     completion: [{role: assistant, content: reply}]}

The replying side is ``assistant`` and the other side ``user``; the optional knowledge segment (situation /
emotion, TransferTransfo's "persona") is the ``system`` message. How those messages become text is the
tokenizer's chat template (see ``models/dialogue_format.py``), so samples do not depend on the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .config import KNOWLEDGE_FIELDS
from .records import Conversation, Role, Turn


def knowledge_text(conversation: Conversation, fields: Iterable[str], history: Iterable[Turn] = ()) -> str:
    """The knowledge segment: e.g. ``"Emotion: sentimental. Situation: I remember going to ..."``.

    ``predicted_emotion`` is the emotion the empathy yardstick's classifier reads from ``history`` (what a deployed
    model would know; the gold label is not available at inference), see docs/empathy.md."""
    parts = []
    for name in fields:
        if name == "emotion" and conversation.emotion:
            parts.append(f"Emotion: {conversation.emotion}.")
        elif name == "predicted_emotion" and history:
            from ..empathy.scorer import shared_scorer

            parts.append(f"Emotion: {shared_scorer().predict_emotion([[t.text for t in history]])[0][0]}.")
        elif name == "situation" and conversation.situation:
            parts.append(f"Situation: {conversation.situation}")
    return " ".join(parts)


def messages_for(history: Iterable[Turn], replying_role: Role, knowledge: str = "") -> list[dict]:
    """Chat messages for a context: the replying role's turns are ``assistant``, the other side's ``user``."""
    messages = [{"role": "system", "content": knowledge}] if knowledge else []
    for turn in history:
        messages.append({"role": "assistant" if turn.role == replying_role else "user", "content": turn.text})
    return messages


def samples_from_conversation(conversation: Conversation, *, max_history_turns: int = 5,
                              roles: Iterable[Role] = ("listener",),
                              knowledge: Iterable[str] = ()) -> Iterator[dict]:
    """Every turn spoken by one of ``roles`` that has at least one previous turn becomes a sample."""
    roles, knowledge = tuple(roles), tuple(knowledge)
    segment = knowledge_text(conversation, knowledge)
    turns = conversation.turns
    for position, reply in enumerate(turns):
        if position == 0 or reply.role not in roles:
            continue
        history = turns[max(0, position - max_history_turns):position]
        if "predicted_emotion" in knowledge:  # depends on the history, so it is made per sample
            segment = knowledge_text(conversation, knowledge, history)
        yield {
            "sample_id": f"{conversation.conv_id}#{reply.idx}",
            "conv_id": conversation.conv_id,
            "emotion": conversation.emotion,
            "situation": conversation.situation,
            "reply_role": reply.role,
            "prompt": messages_for(history, reply.role, segment),
            "completion": [{"role": "assistant", "content": reply.text}],
        }

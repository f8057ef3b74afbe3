"""Phrase lists for probes. Two lists of every kind, disjoint and both published (docs/empathy.md):

- ``BATTERY``: what the battery tries against the human reply (never used to train anything);
- ``TRAINING``: what hard-negative pairs for the judge and the reward model are built from.

A scorer trained on the TRAINING list that passes the BATTERY list has learned "a reply that does not read the
conversation is worse", not these strings. ``tests/battery`` checks that no phrase (case and punctuation aside)
appears in both.
"""

from __future__ import annotations

from dataclasses import dataclass

# ED's 32 emotions by valence, for the wrong-tone probes. The mixed ones (nostalgic, sentimental, surprised,
# anticipating, ...) get no wrong-tone probe: either tone can fit them.
POSITIVE_EMOTIONS = frozenset({"excited", "proud", "grateful", "impressed", "hopeful", "confident", "joyful",
                               "content", "caring", "trusting", "faithful", "prepared"})
NEGATIVE_EMOTIONS = frozenset({"afraid", "angry", "annoyed", "anxious", "apprehensive", "ashamed", "devastated",
                               "disappointed", "disgusted", "embarrassed", "furious", "guilty", "jealous",
                               "lonely", "sad", "terrified"})


@dataclass(frozen=True)
class Phrases:
    """One list of each probe ingredient."""

    stock: tuple[str, ...]  # whole replies that fit any conversation
    questions: tuple[str, ...]  # stock follow-up questions, appended to the human reply
    emotion_templates: tuple[str, ...]  # with {emotion}: the predicted emotion named back
    degenerate: tuple[str, ...]  # strings no careful person would send
    sympathy: tuple[str, ...]  # for good news: the wrong tone
    cheer: tuple[str, ...]  # for bad news: the wrong tone
    as_person: tuple[str, ...]  # the listener speaking as if it had lived the story


BATTERY = Phrases(
    stock=(
        "I'm so sorry to hear that. What happened?", "I'm so sorry to hear that.", "How did that make you feel?",
        "What happened?", "?", "ok.", "I understand.", "That's great!", "Oh no!", "That sounds really hard.",
        "I know how you feel.", "Tell me more.", "Why do you say that?", "That's awesome! How did it go?",
        "Wow, that's amazing!", "I'm sorry for your loss.", "That must have been scary. Are you okay?",
        "Good luck!", "I hope everything works out for you.", "Haha, that's funny.", "Yes.", "I agree.",
        "That is so sad. I feel bad for you.", "Wow. What did you do?", "I'm here for you.",
    ),
    questions=("What happened?", "How did that make you feel?", "Tell me more.", "What did you do?"),
    emotion_templates=("You must have felt so {emotion}. What happened?",),
    degenerate=("Awwwwwwwwwwwwwwww...", "{word} {word} {word} {word} {word} {word} {word} {word} {word} {word}"),
    sympathy=("Oh no, I'm so sorry. That must be awful.",),
    cheer=("That's awesome! Congratulations!",),
    as_person=("I did it!",),
)

TRAINING = Phrases(
    stock=(
        "I am sorry that happened to you.", "Oh dear, that is terrible.", "How are you doing now?",
        "What did you think about it?", "That sounds nice.", "Congratulations!", "I see.", "Okay.", "Really?",
        "That's too bad.", "I hope you feel better soon.", "Nice! What was it like?",
        "Oh my, how awful. What went wrong?", "That's wonderful news!", "Hmm, interesting.",
        "Do you want to talk about it?", "I can imagine.", "Sorry about that.", "Cool.", "That's so sweet!",
        "How come?", "Me too.", "Why?", "lol", "That happens to everyone.", "I'm really sorry, that's rough.",
        "Aww, that's so nice of you.", "Were you scared?", "That is unfortunate.", "Sounds like fun!",
        "No way!", "Oh wow.", "Same here.", "I feel you.", "Bless your heart.", "Yikes!", "Ugh, I hate that.",
        "How exciting!", "Stay strong.", "Everything happens for a reason.",
    ),
    questions=("How are you doing now?", "What did you think about it?", "How come?", "Why?",
               "Were you scared?", "What was it like?", "Are you okay now?", "How did it end?"),
    emotion_templates=("It sounds like you were {emotion}.", "Feeling {emotion} is hard. How are you now?",
                       "I would be {emotion} too!", "So {emotion}! Why?"),
    degenerate=("Ohhhhhhhh!!!!!!", "hmm hmm hmm hmm hmm", "{word}, {word}, {word}, {word}, {word}, {word}",
                "...", "!!!!!", "lolololololol"),
    sympathy=("That is terrible, I am so sorry for you.", "How sad. I hope you are okay.",
              "Ugh, that's rough. Hang in there."),
    cheer=("Yay, that's wonderful!", "How fun! Good for you!", "Nice, I'm so happy for you!"),
    as_person=("I was so nervous that day.", "Yes, I finally did it!", "I know, I can't believe it happened to me.",
               "Thanks, I'm really proud of myself."),
)

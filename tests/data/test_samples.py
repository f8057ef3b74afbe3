from collections import Counter

from helpers import DARKNESS, FIREWORKS
from empathic_rlhf.data.budget import fit_samples
from empathic_rlhf.data.ed_jsonl import _turns
from empathic_rlhf.data.records import Conversation
from empathic_rlhf.data.samples import samples_from_conversation


def conversation(record) -> Conversation:
    return Conversation(record["conv_id"], "train", record["emotion"], record["prompt"],
                        _turns("x", 1, record["conv_id"], record["utterances"]))


def render(tokenizer, sample) -> str:
    return tokenizer.apply_chat_template(sample["prompt"] + sample["completion"], tokenize=False)


TURN1 = ("I remember going to see the fireworks with my best friend. It was the first time we ever spent time alone "
         "together. Although there was a lot of people, we felt like the only people in the world.")


def test_fireworks_renders_exactly_as_the_seed_shows(gpt2_tokenizer):
    samples = {s["sample_id"]: s for s in samples_from_conversation(conversation(FIREWORKS), roles=("speaker",
                                                                                                    "listener"))}
    # The seed's data[3] and data[4] (both roles, as the seed's code used).
    assert render(gpt2_tokenizer, samples["hit:0_conv:1#4"]) == (
        f"{TURN1} <SOC> Was this a friend you were in love with, or just a best friend? <SOC> This was a best "
        "friend. I miss her. <SOC> Where has she gone? <EOT>")
    assert render(gpt2_tokenizer, samples["hit:0_conv:1#5"]) == (
        f"{TURN1} <SOC> Was this a friend you were in love with, or just a best friend? <SOC> This was a best "
        "friend. I miss her. <SOC> Where has she gone? <SOC> We no longer talk. <EOT>")
    # The seed's data[5] drops the first turn: its code kept a 5-utterance window, i.e. 4 previous turns.
    (last,) = [s for s in samples_from_conversation(conversation(FIREWORKS), max_history_turns=4,
                                                    roles=("listener",)) if s["sample_id"].endswith("#6")]
    assert render(gpt2_tokenizer, last) == (
        "Was this a friend you were in love with, or just a best friend? <SOC> This was a best friend. I miss her. "
        "<SOC> Where has she gone? <SOC> We no longer talk. <SOC> Oh was this something that happened because of "
        "an argument? <EOT>")
    first = next(samples_from_conversation(conversation(DARKNESS)))
    assert render(gpt2_tokenizer, first) == ("it feels like hitting to blank wall when i see the darkness <SOC> "
                                             "Oh ya? I don't really see how <EOT>")


def test_seed_example_encoding(gpt2_tokenizer):
    assert gpt2_tokenizer.encode("Hi, How are you?") == [17250, 11, 1374, 389, 345, 30]


def test_roles_and_counts():
    conv = conversation(FIREWORKS)
    listener = list(samples_from_conversation(conv))
    both = list(samples_from_conversation(conv, roles=("speaker", "listener")))
    assert [s["sample_id"][-1] for s in listener] == ["2", "4", "6"]
    assert len(both) == 5  # every turn but the first
    # The replying side is the assistant, the other side the user.
    assert [m["role"] for m in listener[2]["prompt"]] == ["user", "assistant", "user", "assistant", "user"]
    speaker_reply = both[1]  # turn 3, spoken by the speaker
    assert [m["role"] for m in speaker_reply["prompt"]] == ["assistant", "user"]


def test_knowledge_segment_is_a_system_message(gpt2_tokenizer):
    sample = next(samples_from_conversation(conversation(DARKNESS), knowledge=("emotion", "situation")))
    assert sample["prompt"][0] == {"role": "system",
                                   "content": "Emotion: afraid. Situation: i used to scare for darkness"}
    text = render(gpt2_tokenizer, sample)
    assert text.startswith("<knowledge> Emotion: afraid. Situation: i used to scare for darkness <SOC> it feels")


def test_prompt_tokens_are_a_prefix_and_special_tokens_delimit_every_segment(gpt2_tokenizer):
    """No token-type ids (docs/gpu.md): the knowledge segment, each turn and the reply are told apart by the
    format's own special tokens, one token each, never split by BPE."""
    sample = list(samples_from_conversation(conversation(FIREWORKS), knowledge=("emotion",)))[1]
    messages = sample["prompt"] + sample["completion"]
    prompt_ids = gpt2_tokenizer.apply_chat_template(sample["prompt"], add_generation_prompt=True,
                                                    return_dict=True)["input_ids"]
    full_ids = gpt2_tokenizer.apply_chat_template(messages, return_dict=True)["input_ids"]
    assert full_ids[:len(prompt_ids)] == prompt_ids and full_ids[-1] == gpt2_tokenizer.eos_token_id
    ids = gpt2_tokenizer.convert_tokens_to_ids
    counts = Counter(full_ids)
    assert full_ids[0] == ids("<knowledge>") and counts[ids("<knowledge>")] == 1
    assert counts[ids("<SOC>")] == len(messages) - 1 and counts[ids("<EOT>")] == 1
    soc_positions = [i for i, t in enumerate(full_ids) if t == ids("<SOC>")]
    segments = [gpt2_tokenizer.decode(full_ids[a + 1:b]).strip()
                for a, b in zip([0, *soc_positions], [*soc_positions, len(full_ids) - 1])]
    assert segments[1:] == [m["content"] for m in messages[1:]]  # each turn and the reply, in order
    assert segments[0] == messages[0]["content"] and messages[0]["role"] == "system"


def test_budget_drops_oldest_turns_then_knowledge_never_the_reply(gpt2_tokenizer):
    samples = list(samples_from_conversation(conversation(FIREWORKS), knowledge=("situation",)))
    last = samples[-1]  # 5 context turns + knowledge
    kept, counts = fit_samples([last], gpt2_tokenizer, max_length=40)
    (fitted,) = kept
    assert fitted["completion"] == last["completion"]  # the reply is whole
    assert fitted["prompt"][-1] == last["prompt"][-1]  # the newest turn stays
    assert counts["turns_dropped"] >= 1 and counts["samples_shortened"] == 1
    n_tokens = len(gpt2_tokenizer.apply_chat_template(fitted["prompt"] + fitted["completion"],
                                                      return_dict=True)["input_ids"])
    assert n_tokens <= 40
    kept, counts = fit_samples([last], gpt2_tokenizer, max_length=16)
    assert kept == [] and counts["samples_dropped_reply_too_long"] == 1 and counts["knowledge_dropped"] == 1

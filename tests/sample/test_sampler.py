"""The batched sampler: deterministic per seed, k distinct candidates, stops at the end of the reply, and the
comparison tasks it writes."""

import json

import pytest

from empathic_rlhf.cli import main
from empathic_rlhf.generation.config import SamplingConfig
from empathic_rlhf.sample.config import SampleConfig
from empathic_rlhf.generation.sampler import Sampler, TransformersBackend, sample_replies

CONTEXTS = [
    [{"role": "user", "content": "I finally got the job I wanted!"}],
    [{"role": "user", "content": "My dog died last week."}, {"role": "assistant", "content": "Oh no, I'm sorry."},
     {"role": "user", "content": "I miss him a lot."}],
    "How are you?",
]


@pytest.fixture(scope="module")
def tiny(tiny_gpt2_dir):
    from empathic_rlhf.models.loading import load_model_and_tokenizer

    return load_model_and_tokenizer(str(tiny_gpt2_dir))


def sampler_for(tiny, **params):
    return Sampler(TransformersBackend(*tiny), SamplingConfig(max_new_tokens=8, batch_size=2, **params))


def test_same_seed_same_candidates_other_seed_other_ones(tiny):
    first = sampler_for(tiny).sample(CONTEXTS, k=3, seed=0)
    assert first == sampler_for(tiny).sample(CONTEXTS, k=3, seed=0)
    assert first != sampler_for(tiny).sample(CONTEXTS, k=3, seed=1)
    assert [len(c) for c in first] == [3, 3, 3]
    assert all(len(set(c)) == 3 and all(c) for c in first)


def test_batches_are_left_padded_so_a_context_gets_the_same_greedy_reply_alone_or_in_a_batch(tiny):
    greedy = sampler_for(tiny, temperature=0.0)
    together = greedy.sample(CONTEXTS, k=2, seed=0)
    alone = [greedy.sample([c], k=2, seed=0)[0] for c in CONTEXTS]
    assert together == alone


class ScriptedBackend:
    """Returns the scripted replies in order, whatever the context: to drive the duplicate re-sampling."""

    def __init__(self, script):
        self.script, self.calls = list(script), []

    def generate(self, contexts, n, params, seed):
        self.calls.append((len(contexts), n, seed))
        return [[self.script.pop(0) for _ in range(n)] for _ in contexts]


def test_exact_duplicates_and_empty_replies_are_resampled_a_bounded_number_of_times():
    backend = ScriptedBackend(["same", "same", "", "other", "same", "new"])
    sampler = Sampler(backend)
    assert sampler.sample(["hi"], k=3, seed=0, max_resample=3) == [["same", "other", "new"]]
    assert [n for _, n, _ in backend.calls] == [3, 2, 1] and sampler.resampled == 3
    assert len({seed for _, _, seed in backend.calls}) == 3  # each round has its own seed

    stuck = Sampler(ScriptedBackend(["a", "a"] + ["a"] * 2))
    assert stuck.sample(["hi"], k=2, seed=0, max_resample=2) == [["a", "a"]]
    assert stuck.duplicates_left == 1


def test_generation_stops_at_the_end_of_the_reply(tiny):
    model, tokenizer = tiny
    backend = TransformersBackend(model, tokenizer)
    ids = tokenizer(" I am so sorry.", add_special_tokens=False)["input_ids"]
    eot, soc = tokenizer.convert_tokens_to_ids(["<EOT>", "<SOC>"])
    assert backend._decode(ids + [eot] + ids) == "I am so sorry."
    assert backend._decode(ids + [soc] + ids) == "I am so sorry."  # the model started the next turn
    assert backend._decode(ids) == "I am so sorry."


def test_python_api_for_one_context(tiny_gpt2_dir):
    replies = sample_replies(str(tiny_gpt2_dir), context="How are you?", k=2, seed=3, max_new_tokens=6)
    assert len(replies) == 2 and replies[0] != replies[1]
    assert replies == sample_replies(str(tiny_gpt2_dir), context="How are you?", k=2, seed=3, max_new_tokens=6)


def test_ctranslate2_backend_is_deterministic_and_distinct(tiny_gpt2_dir, tmp_path, monkeypatch):
    pytest.importorskip("ctranslate2")
    monkeypatch.setenv("EMPATHIC_CACHE_DIR", str(tmp_path / "cache"))
    params = SamplingConfig(backend="ctranslate2", ct2_compute_type="float32", max_new_tokens=8, batch_size=2)
    sampler = Sampler.load(str(tiny_gpt2_dir), params=params)  # a base model: seed tokens added, then converted
    first = sampler.sample(CONTEXTS, k=3, seed=0)
    assert first == Sampler.load(str(tiny_gpt2_dir), params=params).sample(CONTEXTS, k=3, seed=0)
    assert all(len(set(c)) == 3 and all(c) for c in first)
    assert len(list((tmp_path / "cache" / "ctranslate2").iterdir())) == 1  # converted once, cached


def sample_args(tmp_path, data_dir, model_dir, *extra):
    return ["sample", "--runs-dir", str(tmp_path / "runs"), "--name", "t", "--data-dir", str(data_dir),
            "--base-model", str(model_dir), f"--sample.model={model_dir}", "--sample.split=train",
            "--sample.max_new_tokens=8", "--sample.batch_size=2", *extra]


def test_sample_stage_writes_valid_tasks_deterministically(tmp_path, small_data_dir, tiny_gpt2_dir):
    args = sample_args(tmp_path, small_data_dir, tiny_gpt2_dir, "--sample.k=4", "--sample.include_gold=true")
    assert main(args) == 0
    path = tmp_path / "runs" / "t" / "sample" / "tasks.jsonl"
    tasks = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(tasks) == 4  # the 4 listener replies of the train split
    prepared = [json.loads(line) for line in (tmp_path / "runs" / "t" / "prepare" / "train.jsonl").read_text()
                .splitlines()]
    # batches go by prompt length, the file keeps the order of the samples
    assert [t["sampling"]["sample_id"] for t in tasks] == [s["sample_id"] for s in prepared][:4]
    first = tasks[0]
    assert set(first) == {"task_id", "kind", "conv_id", "emotion", "situation", "prompt", "history", "gold",
                          "candidates", "answer", "sampling", "round"}
    assert first["kind"] == "policy-samples" and first["conv_id"] == "hit:0_conv:1"
    assert first["prompt"] == prepared[0]["prompt"]  # exactly as π saw it
    assert first["gold"] == "Was this a friend you were in love with, or just a best friend?"
    assert first["history"] == [{"role": "speaker", "text": "I remember going to see the fireworks with my best "
                                 "friend. It was the first time we ever spent time alone together. Although there "
                                 "was a lot of people, we felt like the only people in the world."}]
    for task in tasks:
        cands = task["candidates"]
        assert [c["cand_id"] for c in cands] == ["A", "B", "C", "D"]
        assert len({c["text"] for c in cands}) == 4
        assert sorted(c["source"] for c in cands) == ["gold", *[tiny_gpt2_dir.name] * 3]
        assert task["sampling"]["temperature"] == 0.7 and task["sampling"]["top_p"] == 0.9
        assert task["sampling"]["seed"] == 0 and task["sampling"]["k"] == 4
    gold = next(c for c in first["candidates"] if c["source"] == "gold")
    assert gold["text"] == "Was this a friend you were in love with, or just a best friend?"
    from empathic_rlhf.records import Task, parse_record  # the record every stage and the labelling app read

    assert [parse_record(Task, t).task_id for t in tasks] == [t["task_id"] for t in tasks]

    again = tmp_path / "again"
    assert main(sample_args(again, small_data_dir, tiny_gpt2_dir, "--sample.k=4", "--sample.include_gold=true")) == 0
    assert (again / "runs" / "t" / "sample" / "tasks.jsonl").read_text() == path.read_text()


def test_interrupted_sampling_resumes_and_ends_with_the_same_file(tmp_path, small_data_dir, tiny_gpt2_dir,
                                                                   monkeypatch):
    assert main(sample_args(tmp_path / "whole", small_data_dir, tiny_gpt2_dir)) == 0
    whole = (tmp_path / "whole" / "runs" / "t" / "sample" / "tasks.jsonl").read_text()

    original = Sampler.sample_batch
    calls = []

    def failing(self, contexts, k, seed, batch_index, max_resample=3):
        calls.append(batch_index)
        if batch_index == 1 and calls.count(1) == 1:
            raise KeyboardInterrupt
        return original(self, contexts, k, seed, batch_index, max_resample)

    monkeypatch.setattr(Sampler, "sample_batch", failing)
    args = sample_args(tmp_path / "cut", small_data_dir, tiny_gpt2_dir)
    assert main(args) == 130
    out = tmp_path / "cut" / "runs" / "t" / "sample"
    assert not (out / "tasks.jsonl").exists() and (out / "tasks.partial.jsonl").is_file()
    assert main(args) == 0
    assert calls == [0, 1, 1]  # batch 0 was not sampled again
    assert (out / "tasks.jsonl").read_text() == whole
    assert not (out / "tasks.partial.jsonl").exists()


def test_k_outside_2_to_4_is_an_error():
    with pytest.raises(ValueError, match="k must be 2, 3 or 4"):
        SampleConfig(k=5)

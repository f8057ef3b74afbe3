"""Bad input seen to crash or mislead: each now stops with one line naming file/line/field, exit status 2, and
nothing half-written. Every case goes through the command line, as a user meets it."""

import json
import socket

import pytest

from helpers import DARKNESS, FIREWORKS, write_jsonl
from empathic_rlhf.cli import main

CSV_HEADER = "conv_id,utterance_idx,context,prompt,speaker_idx,utterance,selfeval,tags\n"


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("error: "), err
    assert not any("Traceback" in line for line in err)
    return err[-1]


def prepare(tmp_path, data_dir, model_dir, *extra) -> int:
    return main(["prepare", "--runs-dir", str(tmp_path / "runs"), "--name", "t", "--data-dir", str(data_dir),
                 "--base-model", str(model_dir), *extra])


def assert_nothing_prepared(tmp_path):
    run = tmp_path / "runs" / "t"
    assert not (run / "prepare").exists() and not list(run.glob(".prepare*"))
    assert not (run / "manifest.json").exists() and not (run / "config.yaml").exists()


def csv_dir(tmp_path, train_rows: list[str]):
    folder = tmp_path / "csv"
    folder.mkdir()
    good = "hit:5_conv:10,1,sad,p,1,I lost my keys,,\nhit:5_conv:10,2,sad,p,2,Oh no! Where?,,\n"
    (folder / "train.csv").write_bytes((CSV_HEADER + "".join(r + "\n" for r in train_rows)).encode("latin-1"))
    for split in ("valid", "test"):
        (folder / f"{split}.csv").write_text(CSV_HEADER + good, encoding="utf-8")
    return folder


def test_non_utf8_csv_names_file_and_line(tmp_path, tiny_gpt2_dir, capsys):
    data = csv_dir(tmp_path, ["hit:1_conv:2,1,sad,p,1,fine,,", "hit:1_conv:2,2,sad,p,2,caf\xe9 time,,"])
    assert prepare(tmp_path, data, tiny_gpt2_dir) == 2
    assert one_error_line(capsys).endswith("train.csv:3: not UTF-8 text (byte 0xe9 at column 27)")
    assert_nothing_prepared(tmp_path)


def test_non_utf8_jsonl_names_file_and_line(tmp_path, small_data_dir, tiny_gpt2_dir, capsys):
    with open(small_data_dir / "valid.jsonl", "ab") as f:
        f.write(b'{"conv_id": "x", "emotion": "sad", "prompt": "\xff", "utterances": []}\n')
    assert prepare(tmp_path, small_data_dir, tiny_gpt2_dir) == 2
    assert one_error_line(capsys).endswith("valid.jsonl:2: not UTF-8 text (byte 0xff at column 47)")
    assert_nothing_prepared(tmp_path)


def test_unknown_emotion_on_a_later_csv_line_of_a_conversation(tmp_path, tiny_gpt2_dir, capsys):
    data = csv_dir(tmp_path, ["hit:1_conv:2,1,sad,p,1,fine,,", "hit:1_conv:2,2,glad,p,2,good,,"])
    assert prepare(tmp_path, data, tiny_gpt2_dir) == 2
    assert "train.csv:3: unknown emotion 'glad'" in one_error_line(capsys)
    assert_nothing_prepared(tmp_path)


def test_a_changed_emotion_inside_a_csv_conversation(tmp_path, tiny_gpt2_dir, capsys):
    data = csv_dir(tmp_path, ["hit:1_conv:2,1,sad,p,1,fine,,", "hit:1_conv:2,2,angry,p,2,good,,"])
    assert prepare(tmp_path, data, tiny_gpt2_dir) == 2
    assert "train.csv:3: conversation hit:1_conv:2: emotion 'angry' differs from 'sad' on line 2" in \
        one_error_line(capsys)


def test_empty_split_file(tmp_path, small_data_dir, tiny_gpt2_dir, capsys):
    (small_data_dir / "valid.jsonl").write_text("", encoding="utf-8")
    assert prepare(tmp_path, small_data_dir, tiny_gpt2_dir) == 2
    assert one_error_line(capsys).endswith("valid.jsonl: no conversations in the valid split")
    assert_nothing_prepared(tmp_path)


def test_a_split_that_yields_zero_samples(tmp_path, small_data_dir, tiny_gpt2_dir, capsys):
    one_turn = {**DARKNESS, "conv_id": "v1", "utterances": DARKNESS["utterances"][:1]}
    write_jsonl(small_data_dir / "valid.jsonl", [one_turn])
    assert prepare(tmp_path, small_data_dir, tiny_gpt2_dir) == 2
    assert one_error_line(capsys) == (f"error: {small_data_dir / 'valid.jsonl'}: the valid split gives no samples "
                                      "from its 1 conversation(s): no turn of prepare.roles=['listener'] follows "
                                      "another turn")
    assert_nothing_prepared(tmp_path)


def test_every_reply_over_the_token_budget(tmp_path, small_data_dir, tiny_gpt2_dir, capsys):
    assert prepare(tmp_path, small_data_dir, tiny_gpt2_dir, "--prepare.max_length=16") == 2
    assert "the train split gives no samples from its 2 conversation(s): all 4 replies are longer than " \
           "prepare.max_length=16 tokens" in one_error_line(capsys)
    assert_nothing_prepared(tmp_path)


@pytest.mark.parametrize("field, value, message", [
    ("prompt", 5, "valid.jsonl:1: field 'prompt' (the situation) must be text, got int 5"),
    ("text", 42, "valid.jsonl:1: utterance (conversation v1, utterance_idx 1) must be text, got int 42"),
    ("text", "  ", "valid.jsonl:1: empty utterance (conversation v1, utterance_idx 1)"),
])
def test_wrong_types_in_jsonl_are_named(tmp_path, small_data_dir, tiny_gpt2_dir, capsys, field, value, message):
    bad = json.loads(json.dumps({**FIREWORKS, "conv_id": "v1"}))
    if field == "prompt":
        bad["prompt"] = value
    else:
        bad["utterances"][0]["text"] = value
    write_jsonl(small_data_dir / "valid.jsonl", [bad])
    assert prepare(tmp_path, small_data_dir, tiny_gpt2_dir) == 2
    assert one_error_line(capsys).endswith(message)
    assert_nothing_prepared(tmp_path)


def test_malformed_yaml_is_one_line_with_file_and_line(tmp_path, small_data_dir, tiny_gpt2_dir, capsys):
    config = tmp_path / "run.yaml"
    config.write_text("prepare:\n  max_history_turns: 2\n  roles: [listener\nsft:\n  max_steps: 3\n")
    assert prepare(tmp_path, small_data_dir, tiny_gpt2_dir, "--config", str(config)) == 2
    assert one_error_line(capsys) == f"error: {config}:4:4: not valid YAML (expected ',' or ']', but got ':')"
    assert_nothing_prepared(tmp_path)


def score_input(tmp_path):
    return str(write_jsonl(tmp_path / "pairs.jsonl", [{"history": ["I lost my job."], "reply": "I'm sorry."}]))


def test_reward_score_with_a_hub_name_offline_fails_at_once(tmp_path, capsys, monkeypatch):
    # was 49 s of Hub retries, then a traceback: now refused before any connection is tried
    connections = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connections.append(a) or 1 / 0)
    assert main(["reward", "score", "--model", "gpt2", "--input", score_input(tmp_path)]) == 2
    assert connections == []
    assert one_error_line(capsys) == ("error: gpt2: reward model folder not found (a folder written by `empathic "
                                      "reward train`, e.g. runs/demo/reward/model)")


def test_reward_score_with_a_missing_folder(tmp_path, capsys):
    assert main(["reward", "score", "--model", "/nonexistent", "--input", score_input(tmp_path)]) == 2
    assert one_error_line(capsys).startswith("error: /nonexistent: reward model folder not found")


def test_reward_score_refuses_a_language_model_folder(tmp_path, tiny_gpt2_dir, capsys):
    assert main(["reward", "score", "--model", str(tiny_gpt2_dir), "--input", score_input(tmp_path)]) == 2
    assert one_error_line(capsys) == (f"error: {tiny_gpt2_dir}: not a reward model (no normalization.json, which "
                                      f"`empathic reward train` writes beside the weights); a language model "
                                      f"folder would score with a random head")
    assert capsys.readouterr().out == ""  # no scores printed


def test_dyme_score_with_an_empty_history(tmp_path, capsys):
    pairs = write_jsonl(tmp_path / "pairs.jsonl", [{"history": ["Hi"], "reply": "Hello"},
                                                   {"history": [], "reply": "Hello"}])
    assert main(["dyme", "score", str(pairs), "--model", str(tmp_path / "no-model")]) == 2
    assert one_error_line(capsys) == (f"error: {pairs}: record 2: 'history' is empty; DYME scores a reply from at "
                                      f"least one previous utterance")


def test_non_utf8_yaml_names_file_and_line(tmp_path, small_data_dir, tiny_gpt2_dir, capsys):
    config = tmp_path / "run.yaml"
    config.write_bytes(b"prepare:\n  max_history_turns: 2\n# caf\xe9\n")
    assert prepare(tmp_path, small_data_dir, tiny_gpt2_dir, "--config", str(config)) == 2
    assert one_error_line(capsys) == f"error: {config}:3: not UTF-8 text (byte 0xe9)"
    assert_nothing_prepared(tmp_path)

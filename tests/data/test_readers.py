import json

import pytest

from helpers import ED_RECONSTRUCTED, FIREWORKS, SHARED_DATA, needs_shared, write_jsonl
from empathic_rlhf.data.ed_csv import CsvReport, read_conversations_csv
from empathic_rlhf.data.ed_jsonl import read_conversations_jsonl
from empathic_rlhf.data.sources import resolve
from empathic_rlhf.errors import EmpathicError

CSV_HEADER = "conv_id,utterance_idx,context,prompt,speaker_idx,utterance,selfeval,tags\n"


def test_jsonl_conversation_record(tmp_path):
    path = write_jsonl(tmp_path / "train.jsonl", [FIREWORKS])
    (conversation,) = read_conversations_jsonl(path, "train")
    assert conversation.conv_id == "hit:0_conv:1" and conversation.emotion == "sentimental"
    assert [t.role for t in conversation.turns] == ["speaker", "listener"] * 3
    assert conversation.turns[3].text == "Where has she gone?"
    assert conversation.to_json()["utterances"] == FIREWORKS["utterances"]


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r.update(emotion="hangry"), "unknown emotion 'hangry'"),
    (lambda r: r["utterances"][2].update(text="  "), "empty utterance"),
    (lambda r: r["utterances"][2].update(utterance_idx=5), "utterance_idx 5 out of order \\(expected 3\\)"),
    (lambda r: r.pop("prompt"), "missing field\\(s\\) prompt"),
    (lambda r: r["utterances"][1].update(role="speaker"), "has role 'speaker', expected 'listener'"),
])
def test_jsonl_bad_input_names_file_and_line(tmp_path, mutate, message):
    bad = json.loads(json.dumps(FIREWORKS))
    mutate(bad)
    path = write_jsonl(tmp_path / "train.jsonl", [{**FIREWORKS, "conv_id": "ok"}, bad])
    with pytest.raises(EmpathicError, match=rf"train\.jsonl:2: .*{message}"):
        list(read_conversations_jsonl(path, "train"))


def test_jsonl_bad_json_names_line(tmp_path):
    path = tmp_path / "valid.jsonl"
    path.write_text(json.dumps(FIREWORKS) + "\n{not json\n")
    with pytest.raises(EmpathicError, match=r"valid\.jsonl:2: bad JSON"):
        list(read_conversations_jsonl(path, "valid"))


def _csv(tmp_path, rows: list[str], name="train.csv"):
    path = tmp_path / name
    path.write_text(CSV_HEADER + "".join(r + "\n" for r in rows))
    return path


def test_csv_parses_like_the_authors_loader(tmp_path):
    path = _csv(tmp_path, [
        "hit:1_conv:2,1,afraid,I was scared_comma_ really,11,It was dark_comma_ so dark,5|5|5_2|2|5,",
        'hit:1_conv:2,2,afraid,I was scared_comma_ really,12,"Why" were you there?,5|5|5_2|2|5,',
        "hit:2_conv:3,1,proud,My son graduated,13,He did it!,,",
    ])
    first, second = read_conversations_csv(path, "train")
    assert first.situation == "I was scared, really" and first.turns[0].text == "It was dark, so dark"
    assert first.turns[1].text == '"Why" were you there?'  # quotes are raw text, never CSV quoting
    assert [t.role for t in first.turns] == ["speaker", "listener"] and second.emotion == "proud"


def test_csv_extra_fields_are_counted_and_read_as_the_authors_do(tmp_path):
    path = _csv(tmp_path, ["hit:1_conv:2,1,sad,p,1,hello there,5|5|5,tag,extra,more,fields"])
    report = CsvReport(str(path))
    (conversation,) = read_conversations_csv(path, "train", report)
    assert conversation.turns[0].text == "hello there" and report.extra_field_lines == [2]


@pytest.mark.parametrize("rows, message", [
    (["hit:1_conv:2,1,sad,p,1"], r"train\.csv:2: expected 8 fields, got 5"),
    (["hit:1_conv:2,1,sad,p,1,a,,", "hit:1_conv:2,3,sad,p,2,b,,"], r"train\.csv:3: .*out of order"),
    (["hit:1_conv:2,1,sadness,p,1,a,,"], r"train\.csv:2: unknown emotion 'sadness'"),
    (["hit:1_conv:2,1,sad,p,1, ,,"], r"train\.csv:2: empty utterance"),
    (["hit:1_conv:2,one,sad,p,1,a,,"], r"train\.csv:2: utterance_idx must be an integer"),
])
def test_csv_bad_input_names_file_and_line(tmp_path, rows, message):
    with pytest.raises(EmpathicError, match=message):
        list(read_conversations_csv(_csv(tmp_path, rows), "train"))


def test_csv_wrong_columns(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("conv_id,utterance_idx,prompt,utterance,label\nhit:1,1,p,u,2\n")
    with pytest.raises(EmpathicError, match=r"train\.csv:1: wrong columns"):
        list(read_conversations_csv(path, "train"))


@needs_shared(SHARED_DATA / "empatheticdialogues" / "sources")
def test_csv_reads_the_original_release_excerpt():
    excerpt = SHARED_DATA / "empatheticdialogues/sources/original_train_csv_excerpt/train_last_conversation.csv"
    (conversation,) = read_conversations_csv(excerpt, "train")
    assert conversation.conv_id == "hit:12424_conv:24849" and conversation.emotion == "surprised"
    assert len(conversation.turns) == 4
    assert conversation.turns[2].text.endswith("I can't wait, but I was shocked out of a dead sleep!")


def test_resolve_finds_jsonl_then_csv_and_explains_missing(tmp_path, small_data_dir):
    assert resolve(str(small_data_dir)).kind == "jsonl"
    _csv(tmp_path / "csvdir", [], "train.csv") if (tmp_path / "csvdir").mkdir() is None else None
    assert resolve(str(tmp_path / "csvdir")).kind == "csv"
    with pytest.raises(EmpathicError, match="data directory not found"):
        resolve(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmpathicError, match="no EmpatheticDialogues data here"):
        resolve(str(tmp_path / "empty"))


def test_offline_download_fails_fast_with_advice(tmp_path, monkeypatch):
    from empathic_rlhf.data import download

    monkeypatch.setenv("EMPATHIC_CACHE_DIR", str(tmp_path))
    with pytest.raises(EmpathicError, match="--data-dir DIR or \\$EMPATHIC_DATA_DIR"):
        download.official_release_dir(url="http://127.0.0.1:9/empatheticdialogues.tar.gz", timeout=2)
    assert not (tmp_path / "data" / "empatheticdialogues.tar.gz").exists()  # nothing half-written


@needs_shared(ED_RECONSTRUCTED)
def test_reconstructed_release_counts():
    source = resolve(str(ED_RECONSTRUCTED))
    counts = {split: len(source.read(split)) for split in ("train", "valid", "test")}
    assert counts == {"train": 19_533, "valid": 2_770, "test": 2_547}
    test = source.read("test")
    assert sum(c.emotion is None for c in test) == 1  # the one unlabelled test conversation (see SOURCE.md)

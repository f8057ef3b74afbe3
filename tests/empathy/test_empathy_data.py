"""EPITOME loading and the split: joined row by row, split by seeker post, stable, bad input named."""

import csv

import pytest
from helpers import SHARED_DATA, needs_shared

from empathic_rlhf.empathy.epitome import load_examples, split_of, split_examples
from empathic_rlhf.errors import EmpathicError
from empathy.planted_empathy import write_planted_epitome

EPITOME = SHARED_DATA / "epitome"


def _assert_no_post_on_two_sides(splits):
    posts = {name: {p.sp_id for p in pairs} for name, pairs in splits.items()}
    assert not posts["train"] & posts["valid"]
    assert not posts["train"] & posts["test"]
    assert not posts["valid"] & posts["test"]


def test_planted_split_keeps_each_post_on_one_side(tmp_path):
    pairs = load_examples(write_planted_epitome(tmp_path, posts=200))
    splits = split_examples(pairs)
    assert sum(len(v) for v in splits.values()) == len(pairs) == 400
    _assert_no_post_on_two_sides(splits)
    assert 0.6 < len(splits["train"]) / len(pairs) < 0.8  # 70% by design, up to the hash's noise at n=200


def test_split_is_a_fixed_function_of_the_post_id():
    # Pinned: changing the salt or the bounds would silently change every reported number.
    assert [split_of(f"post{i}") for i in range(8)] == ["test", "train", "train", "train", "train", "train",
                                                        "test", "train"]
    assert {split_of(str(i)) for i in range(100)} == {"train", "valid", "test"}


@needs_shared(EPITOME)
def test_real_epitome_split_by_seeker_post():
    pairs = load_examples(EPITOME)
    assert len(pairs) == 3084
    splits = split_examples(pairs)
    _assert_no_post_on_two_sides(splits)
    assert {k: len(v) for k, v in splits.items()} == {"train": 2118, "valid": 317, "test": 649}
    er_counts = [sum(p.levels[0] == level for p in pairs) for level in (0, 1, 2)]
    assert er_counts == [2037, 895, 152]  # SOURCE.md's table


def test_bad_level_names_file_and_line(tmp_path):
    folder = write_planted_epitome(tmp_path, posts=3)
    path = folder / "interpretations-reddit.csv"
    rows = list(csv.reader(path.open()))
    rows[3][4] = "7"
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    with pytest.raises(EmpathicError, match=r"interpretations-reddit.csv:4: level must be 0, 1 or 2, got '7'"):
        load_examples(folder)


def test_misaligned_files_are_an_error(tmp_path):
    folder = write_planted_epitome(tmp_path, posts=3)
    path = folder / "explorations-reddit.csv"
    rows = list(csv.reader(path.open()))
    rows[1], rows[2] = rows[2], rows[1]
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    with pytest.raises(EmpathicError, match=r"explorations-reddit.csv:2: pair"):
        load_examples(folder)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(EmpathicError, match="EPITOME file not found"):
        load_examples(tmp_path / "nowhere")

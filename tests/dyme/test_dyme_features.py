"""DYME feature construction on a hand-made dialogue: scaling, most-recent-first padding, mask and position."""

import numpy as np
import pytest

from empathic_rlhf.dyme.features import (
    EMBED_DIM,
    MinMaxScaler,
    baseline_predictions,
    build_examples,
    feature_dim,
    history_features,
)


def _embeddings(t):
    e = np.zeros((t, EMBED_DIM))
    for i in range(t):
        e[i, i] = 1.0  # utterance i points along axis i
    return e


def test_minmax_scaler_maps_train_range_to_unit_interval_and_clips():
    rows = np.array([[0.0, 10.0], [5.0, 20.0], [10.0, 30.0]])
    scaler = MinMaxScaler.fit(rows)
    assert scaler.transform(rows) == pytest.approx(np.array([[0, 0], [0.5, 0.5], [1, 1]]))
    assert scaler.transform(np.array([[20.0, 0.0]])) == pytest.approx(np.array([[1.0, 0.0]]))  # clipped
    assert scaler.inverse(np.array([[0.5, 0.25]])) == pytest.approx(np.array([[5.0, 15.0]]))
    constant = MinMaxScaler.fit(np.array([[3.0], [3.0]]))
    assert constant.transform(np.array([[3.0]])) == pytest.approx(np.array([[0.0]]))


def test_history_features_layout_padding_and_position():
    k, max_history = 2, 2
    scaled = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    emb = _embeddings(3)

    one = history_features(emb[:1], scaled[:1], max_history)
    assert one.shape == (feature_dim(k, max_history),)
    assert one[:EMBED_DIM] == pytest.approx(emb[0])  # last utterance
    assert one[EMBED_DIM:2 * EMBED_DIM] == pytest.approx(emb[0])  # mean of the history
    tail = one[2 * EMBED_DIM:]
    assert tail.tolist() == pytest.approx([0.1, 0.2, 0, 0,  # metric slots: previous utterance, then padding
                                           1, 0,  # mask
                                           1, 0])  # position one-hot: 1 history utterance

    three = history_features(emb, scaled, max_history)
    assert three[:EMBED_DIM] == pytest.approx(emb[2])
    assert three[EMBED_DIM:2 * EMBED_DIM] == pytest.approx(emb.mean(axis=0))
    assert three[2 * EMBED_DIM:].tolist() == pytest.approx([0.5, 0.6, 0.3, 0.4,  # most recent first, oldest cut
                                                            1, 1,
                                                            0, 1])  # longer histories share the last slot


def test_build_examples_predicts_every_position_from_the_second():
    scaled = [np.array([[0.0], [1.0], [0.5]]), np.array([[0.2], [0.4]]), np.array([[0.9]])]
    emb = [_embeddings(3), _embeddings(2), _embeddings(1)]
    x, y, lengths = build_examples(emb, scaled, max_history=3)
    assert lengths.tolist() == [1, 2, 1]  # a one-utterance conversation gives no example
    assert y[:, 0].tolist() == pytest.approx([1.0, 0.5, 0.4])
    baselines = baseline_predictions(scaled)
    assert baselines["previous"][:, 0].tolist() == pytest.approx([0.0, 1.0, 0.2])
    assert baselines["moving_average"][:, 0].tolist() == pytest.approx([0.0, 0.5, 0.2])
    assert x.shape == (3, feature_dim(1, 3))


def test_feature_ablations_zero_exactly_one_block():
    from empathic_rlhf.dyme.features import select_features

    x = history_features(_embeddings(2), np.array([[0.1, 0.2], [0.3, 0.4]]), 2)[None, :]
    text_only = select_features(x, "text", 2)[0]
    metrics_only = select_features(x, "metrics", 2)[0]
    assert text_only[:2 * EMBED_DIM] == pytest.approx(x[0, :2 * EMBED_DIM])
    assert text_only[2 * EMBED_DIM:].tolist() == [0, 0, 0, 0, 1, 1, 0, 1]  # metrics gone, mask + position kept
    assert not metrics_only[:2 * EMBED_DIM].any()
    assert metrics_only[2 * EMBED_DIM:] == pytest.approx(x[0, 2 * EMBED_DIM:])
    assert select_features(x, "text+metrics", 2) is x

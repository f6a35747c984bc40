"""The action heads shared by every on-policy algorithm map latent samples into the env's action space."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces

from opsrl.policies.mlp import ActionHead

BOX = spaces.Box(np.array([0.0, -2.0], dtype=np.float32), np.array([10.0, 2.0], dtype=np.float32))


@pytest.mark.parametrize("squash", ["tanh", "clip"])
def test_box_head_maps_zero_to_the_centre_and_stays_inside(squash):
    head = ActionHead(BOX, box_squash=squash)
    latent = np.array([[0.0, 0.0], [50.0, -50.0], [-0.5, 0.5]])
    a = head.to_env(latent)
    assert np.allclose(a[0], [5.0, 0.0])
    assert np.allclose(a[1], [10.0, -2.0], atol=1e-5)
    assert all(BOX.contains(row) for row in a)


def test_clip_is_linear_inside_the_box_and_tanh_is_not():
    latent = np.array([[0.5, -0.5]])
    assert np.allclose(ActionHead(BOX, "clip").to_env(latent), [[7.5, -1.0]])
    assert np.allclose(ActionHead(BOX, "tanh").to_env(latent), [[5 + 5 * np.tanh(0.5), -2 * np.tanh(0.5)]])


def test_masked_categoricals_never_sample_invalid_choices():
    head = ActionHead(spaces.MultiDiscrete([3, 2]))
    mask = torch.tensor([[True, False, True, False, True]]).repeat(500, 1)
    sample = head.distribution(torch.zeros(500, 5), mask).sample()
    assert set(sample[:, 0].tolist()) == {0.0, 2.0} and set(sample[:, 1].tolist()) == {1.0}


def test_unknown_squash_is_a_clear_error():
    with pytest.raises(ValueError, match="box_squash"):
        ActionHead(BOX, box_squash="sigmoid")

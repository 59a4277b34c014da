"""The pieces of `python3 -m training trust` that need no server: images, the AUC and the reranking."""

import io

import numpy as np
from PIL import Image

from training.trust import NON_SCENE_KINDS, calibration_scenes, non_scene_images, rerank_truth, roc_auc


def test_roc_auc_counts_ordered_pairs_and_half_ties():
    assert roc_auc([1, 2], [3, 4]) == 1.0
    assert roc_auc([3, 4], [1, 2]) == 0.0
    assert roc_auc([1, 3], [2, 3]) == (1 + 0 + 1 + 0.5) / 4


def test_non_scene_images_are_reproducible_pngs_of_every_kind():
    first = non_scene_images(per_kind=2, seed=5)
    assert [kind for kind, _ in first] == [k for k in NON_SCENE_KINDS for _ in range(2)]
    assert first == non_scene_images(per_kind=2, seed=5)
    for _, png in first:
        image = Image.open(io.BytesIO(png))
        assert image.size == (100, 100) and image.mode == "RGB"
    # None of them is a ShapeWorld scene on black.
    assert all(np.asarray(Image.open(io.BytesIO(png))).mean() > 5 for _, png in first)


def test_calibration_scenes_are_rendered_worlds_on_black(tmp_path):
    calibration_scenes(count=3, seed=1, out=tmp_path)
    files = sorted(tmp_path.glob("*.png"))
    assert [f.name for f in files] == ["scene-00000.png", "scene-00001.png", "scene-00002.png"]
    pixels = np.asarray(Image.open(files[0]))
    assert pixels.shape == (100, 100, 3)
    assert (pixels.max(axis=2) < 30).mean() > 0.3  # mostly black background


def test_rerank_uses_the_fusion_scores_log_odds_as_the_server_does():
    # Two candidates of development scene existential-colfree/world-11 (package 1.5.0): ln p put the
    # fluent false one first; log-odds tell 0.9998 from 0.9895 (CaptionVerification.cs).
    row = {"alternatives": [{"caption": "a green cross is to the left of a red semicircle .", "fusionScore": 0.9895, "logProb": -0.72},
                            {"caption": "a blue triangle is to the left of a red semicircle .", "fusionScore": 0.9998, "logProb": -1.63}],
           "truths": {"a green cross is to the left of a red semicircle .": False,
                      "a blue triangle is to the left of a red semicircle .": True}}
    assert rerank_truth([row], 5.0) == 1.0
    assert rerank_truth([row], 100.0) == 0.0  # language alone prefers the fluent one

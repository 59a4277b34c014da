"""The slot reader's diagnostic counts what a reader finds, doubles and invents."""
from __future__ import annotations

import torch

from training.model import ModelConfig
from training.reader_diagnostics import ReaderScenes, crowded_objects, next_to, reader_report
from training.relational_fusion import CENTRE, CLASSES, RelationalFusion

CONFIG = ModelConfig(vocab_size=64, n_embd=32, n_head=2, fusion="relational")
G = CONFIG.grid_size
RED, SQUARE = 2, 3  # probe classes (1 + index; 0 is the background)


def test_next_to_marks_the_3x3_neighbourhood_and_crowded_objects_touch_another():
    present = torch.zeros(1, G * G, dtype=torch.bool)
    present[0, 6 * G + 6] = True
    assert next_to(present, G).sum() == 9 and next_to(present, G)[0, 5 * G + 7]
    entity = torch.full((1, G * G), -1)
    entity[0, 6 * G + 6], entity[0, 7 * G + 7], entity[0, 1 * G + 1] = 0, 1, 2
    assert crowded_objects(entity, G) == 2


def test_the_report_counts_found_doubled_and_invented_slots():
    reader = RelationalFusion(CONFIG).reader.eval()
    first, second = 6 * G + 6, 2 * G + 2
    entity = torch.full((1, G * G), -1)
    entity[0, first], entity[0, second] = 0, 1
    targets = torch.zeros(1, G * G, 6)
    targets[0, first, :2] = torch.tensor([RED, SQUARE])
    readings = torch.zeros(1, G * G, reader.read[-1].out_features)
    readings[..., CENTRE] = -5.0
    readings[0, first, CENTRE] = 5.0  # found, read as a red square
    readings[0, first, CLASSES + RED] = readings[0, first, CLASSES + reader.colors + SQUARE] = 1.0
    readings[0, first + 1, CENTRE] = 4.0  # the same object again, next door
    readings[0, 11 * G + 1, CENTRE] = 3.0  # nothing there
    reader.forward = lambda image: readings[: image.size(0)]
    scenes = ReaderScenes(torch.zeros(1, G * G, CONFIG.n_embd), entity, targets, torch.tensor([2]))
    report = reader_report(reader, scenes)
    assert report["found"] == 0.5  # the second object is missed
    assert report["shared_cell"] == 0.0
    assert (report["false_adjacent"], report["false_elsewhere"]) == (1, 1)
    assert report["count_exact"] == 0.0  # three confident slots for two objects
    assert report["color"] == report["shape"] == 1.0
    # As the stage assigns slots, the slot next door does not stand for the held first object.
    assert report["found_near"] == 0.5 and report["no_object_per_scene"] == 2.0


def test_an_object_whose_centre_cell_holds_another_centre_counts_as_sharing_it():
    reader = RelationalFusion(CONFIG).reader.eval()
    entity = torch.full((1, G * G), -1)
    entity[0, 6 * G + 6] = 1  # two objects' centres there: the one drawn later holds the cell
    scenes = ReaderScenes(torch.zeros(1, G * G, CONFIG.n_embd), entity, torch.zeros(1, G * G, 6), torch.tensor([2]))
    assert reader_report(reader, scenes)["shared_cell"] == 0.5

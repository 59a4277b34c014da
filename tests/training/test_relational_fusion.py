"""The relational scorer over image tokens: the slots it reads, the targets moved to them, its
explanation map, and the baselines' export without explanation outputs."""
from __future__ import annotations

import json

import torch

from training.language.parser import parse
from training.model import CaptionFusionModel, ModelConfig
from training.relational_fusion import CENTRE, CLASSES, SLOTS, RelationalFusion, centre_targets
from training.relational_oracle import stack_targets
from training.relational_stage import cell_objects, slot_targets
from training.relational_targets import SELECTED, role_targets
from training.tokenizer import WordTokenizer
from training.vocab import vocabulary
from training.world import COLORS, SHAPES, Entity, World

TOKENIZER = WordTokenizer(vocabulary())
CONFIG = ModelConfig(vocab_size=len(TOKENIZER), n_embd=32, n_head=2, fusion="relational")
WORLD = World((
    Entity("square", "red", 0.0, (0.2, 0.5), (0.08, 0.08), 0.0),
    Entity("circle", "blue", 0.1, (0.8, 0.5), (0.12, 0.12), 0.0),
))


def test_cell_objects_put_each_entity_in_the_cell_of_its_centre():
    entity, targets = cell_objects(WORLD, 13)
    square, circle = 6 * 13 + 2, 6 * 13 + 10  # row 6; columns int(0.2 * 13) and int(0.8 * 13)
    assert entity[square] == 0 and entity[circle] == 1 and (entity >= 0).sum() == 2
    assert targets[square, :2].tolist() == [1 + COLORS.index("red"), 1 + SHAPES.index("square")]
    assert -1 <= targets[square, 2] <= 1 and -1 <= targets[square, 3] <= 1



def test_centre_sigma_zero_keeps_the_one_hot_centre_targets():
    entity, targets = cell_objects(WORLD, 13)
    present = (entity >= 0)[None]
    assert torch.equal(centre_targets(present, targets[None], 13, 0.0), present.float())


def test_soft_centre_targets_peak_at_the_centre_cell_and_fade_with_distance():
    entity, targets = cell_objects(WORLD, 13)
    soft = centre_targets((entity >= 0)[None], targets[None], 13, 0.5)[0].reshape(13, 13)
    # The square's centre is at x 2.6, y 6.5 cells: 0.1 cell right of its cell's centre (2.5, 6.5).
    square = soft[:, :7]  # the circle sits at column 10
    assert square.argmax() == 6 * 7 + 2 and soft[6, 2] > 0.95
    assert soft[6, 3] > soft[5, 2] > soft[6, 1] > 0.05  # 0.9, 1.0 and 1.1 cells from the centre
    assert soft[0, 0] < 1e-6 and soft[6, 6] < 1e-6  # far from both objects
    assert soft[6, 10] > 0.95  # the circle's own peak, not lowered by the square's


def test_role_targets_follow_the_entities_into_the_slots_that_hold_them():
    statements = ["a red square is to the left of a blue circle .", "the leftmost shape is red ."]
    targets = stack_targets([role_targets(parse(t), WORLD.entities, SLOTS) for t in statements])
    # Slot 0 holds nothing, slot 1 the circle, slot 2 the square.
    entity = torch.tensor([[-1, 1, 0] + [-1] * (SLOTS - 3)] * 2)
    moved = slot_targets(targets, entity)
    assert moved.subject[0, 0, :3].tolist() == [0.0, 0.0, 1.0]
    assert moved.object[0, 0, :3].tolist() == [0.0, 1.0, 0.0]
    assert moved.relation[0, 0, 2, 1] == 1 and moved.relation[0, 0, 1, 2] == 0
    assert moved.selected[1, 0] == 2 and moved.known[1, 0, SELECTED]
    # The selected square in no slot: the selection is not scored.
    lost = slot_targets(targets, torch.tensor([[-1, 1] + [-1] * (SLOTS - 2)] * 2))
    assert not lost.known[1, 0, SELECTED]


def test_the_slots_are_the_likeliest_centres_with_their_cells_geometry():
    torch.manual_seed(0)
    fusion = RelationalFusion(CONFIG).eval()
    image = torch.randn(1, CONFIG.grid_size ** 2, CONFIG.n_embd)
    with torch.no_grad():
        slots, valid, cells, readings = fusion.reader.slots(image)
    assert cells[0].tolist() == readings[0, :, CENTRE].topk(SLOTS).indices.tolist()
    assert torch.allclose(valid, torch.sigmoid(readings[..., CENTRE].gather(1, cells)))
    xy = slots[0, :, -4:-2]
    assert ((xy - fusion.reader.cell_xy[cells[0]]).abs() <= fusion.reader.half_cell + 1e-6).all()


def test_the_explanation_map_points_each_word_at_image_cells():
    torch.manual_seed(0)
    model = CaptionFusionModel(CONFIG).eval()
    ids, mask = TOKENIZER.pad([TOKENIZER.encode(t) for t in ("there is a red square .", "a circle is green .")])
    image = torch.randn(2, CONFIG.grid_size ** 2, CONFIG.n_embd)
    with torch.no_grad():
        logits, _, (where,) = model.fusion.scores_states_and_attentions(ids, mask, image)
        _, _, _, _, cells, _ = model.fusion.read(ids, mask, image)
    assert where.shape == (2, 1, ids.size(1), CONFIG.grid_size ** 2)
    assert torch.allclose(logits, model.match(ids, mask, image))
    outside = torch.ones(2, CONFIG.grid_size ** 2, dtype=torch.bool)
    outside[torch.arange(2)[:, None], cells] = False
    assert where[:, 0].masked_select(outside[:, None].expand_as(where[:, 0])).abs().max() == 0  # only slot cells
    assert where.min() >= 0 and where.amax(-1).max() <= 2 * 2  # fits of at most 2 roles x 2 clauses, each read at most once


def test_the_baselines_export_without_explanation_outputs(tmp_path):
    import onnx

    from training.export import GRAPH_FILES, export_package

    torch.manual_seed(0)
    for kind in ("concat", "late"):
        config = ModelConfig(vocab_size=len(TOKENIZER), cnn_channels=(8, 16), n_embd=32, n_head=2, n_encoder_layer=1,
                             n_decoder_layer=1, n_fusion_layer=1, fusion=kind)
        directory = tmp_path / kind
        export_package(CaptionFusionModel(config).eval(), TOKENIZER, directory, kind, "0.1.0")
        manifest = json.loads((directory / "caption_service.json").read_text())
        assert "cross_attentions" not in manifest["fusion"]
        graph = onnx.load(str(directory / GRAPH_FILES["fusion"])).graph
        assert [o.name for o in graph.output] == ["logits"]
        assert json.loads((directory / "config.json").read_text())["fusion"]["kind"] == kind


PEAKS = ModelConfig(vocab_size=len(TOKENIZER), n_embd=32, n_head=2, fusion="relational", slot_reader="peaks")


def readings_with(centres: dict[int, float], kinds: dict[int, tuple[int, int]], reader) -> torch.Tensor:
    """(1, N, R) readings: centre logits -4 but where given, and colour and shape classes where given."""
    readings = torch.zeros(1, PEAKS.grid_size ** 2, reader.read[-1].out_features)
    readings[..., CENTRE] = -4.0
    for cell, logit in centres.items():
        readings[0, cell, CENTRE] = logit
    for cell, (color, shape) in kinds.items():
        readings[0, cell, CLASSES + color] = readings[0, cell, CLASSES + reader.colors + shape] = 1.0
    return readings


def test_only_the_likeliest_centre_of_one_kind_in_a_neighbourhood_is_kept():
    reader = RelationalFusion(PEAKS).reader
    G = PEAKS.grid_size
    object_cells = [r * G + c for r in range(5, 8) for c in range(5, 8)]
    centres = {cell: 3.0 for cell in object_cells} | {6 * G + 6: 5.0, 1 * G + 1: 4.0}  # one object read in nine cells, one alone
    red_square = {cell: (2, 3) for cell in object_cells}
    kept = reader.peaks(readings_with(centres, red_square, reader)).reshape(G, G)
    lowest = torch.finfo(kept.dtype).min
    assert kept[6, 6] == 5.0 and kept[1, 1] == 4.0
    assert (kept[5:8, 5:8] == lowest).sum() == 8
    assert (kept[10:, 10:] == -4.0).all()  # a flat background is not beaten: kept, but unlikely


def test_two_objects_of_different_kinds_side_by_side_both_stay():
    reader = RelationalFusion(PEAKS).reader
    G = PEAKS.grid_size
    left, right = 6 * G + 6, 6 * G + 7
    kept = reader.peaks(readings_with({left: 5.0, right: 3.0}, {left: (2, 3), right: (4, 3)}, reader))
    assert kept[0, left] == 5.0 and kept[0, right] == 3.0
    same = reader.peaks(readings_with({left: 5.0, right: 3.0}, {left: (2, 3), right: (2, 3)}, reader))
    assert same[0, right] == torch.finfo(same.dtype).min


def test_the_peaks_reader_gives_one_confident_slot_per_peak_and_the_token_readers_width():
    torch.manual_seed(0)
    reader = RelationalFusion(PEAKS).reader.eval()
    G, N = PEAKS.grid_size, PEAKS.grid_size ** 2
    centre = torch.full((1, N), -4.0)
    for cell, logit in ((6 * G + 6, 5.0), (6 * G + 7, 3.0), (7 * G + 6, 2.0), (1 * G + 1, 4.0)):  # two objects, one read thrice
        centre[0, cell] = logit
    readings = torch.zeros(1, N, reader.read[-1].out_features)
    readings[..., CENTRE] = centre
    reader.forward = lambda image: readings
    slots, valid, cells, _ = reader.slots(torch.randn(1, N, PEAKS.n_embd))
    assert sorted(cells[0, valid[0] > 0.5].tolist()) == [1 * G + 1, 6 * G + 6]
    assert slots.size(-1) == RelationalFusion(CONFIG).reader.features == reader.features


def test_a_slot_next_to_an_unheld_centre_stands_for_that_entity():
    from training.relational_stage import slot_entities

    G = 13
    cell_entity = torch.full((1, G * G), -1)
    cell_entity[0, 6 * G + 6], cell_entity[0, 2 * G + 2], cell_entity[0, 2 * G + 4] = 0, 1, 2
    # Slot 0 holds entity 0's cell; slot 1 is next to it, but entity 0 is held; slot 2 is one cell
    # below entity 1's; slot 3 lies between entities 1 and 2, and 1 is held by then; slot 4 is far.
    cells = torch.tensor([[6 * G + 6, 6 * G + 7, 3 * G + 2, 2 * G + 3, 10 * G + 10]])
    assert slot_entities(cell_entity, cells, G).tolist() == [[0, -1, 1, 2, -1]]

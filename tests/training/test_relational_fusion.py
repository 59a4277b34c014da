"""The relational scorer over image tokens: the slots it reads, the targets moved to them, its
explanation map, and the baselines' export without explanation outputs."""
from __future__ import annotations

import json

import torch

from training.language.parser import parse
from training.model import CaptionFusionModel, ModelConfig
from training.relational_fusion import CENTRE, SLOTS, RelationalFusion
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

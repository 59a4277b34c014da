"""The committed fixtures are complete and agree with the package they describe."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from training.bpe import ByteLevelBPE
from training.tokenizer import WordTokenizer
from training.vocab import WORDS

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
PACKAGES = {"shapeworld-fusion": ROOT / "models" / "shapeworld-fusion", "vit-gpt2-tiny": FIXTURES / "vit-gpt2-tiny"}
ITEMSIZE = {"float32": 4, "int64": 8, "bool": 1}


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_parity_cases_reference_complete_tensors(name):
    directory = FIXTURES / "parity" / name
    fixture = json.loads((directory / "cases.json").read_text())
    assert fixture["package"] == name and fixture["tolerance"] == 1e-4
    for case in fixture["cases"]:
        specs = [case["pixel_values"]] if case["graph"] == "pipeline" else [*case["inputs"].values(), *case["outputs"].values()]
        for spec in specs:
            assert (directory / spec["file"]).stat().st_size == int(np.prod(spec["shape"])) * ITEMSIZE[spec["dtype"]]
        for image in case.get("image_files", []):
            assert (directory / image).is_file()


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_package_manifest_digests(name):
    package = PACKAGES[name]
    manifest = json.loads((package / "caption_service.json").read_text())
    assert manifest["name"] == name
    for entry in manifest["graphs"].values():
        for file in [entry, *entry.get("variants", {}).values()]:
            assert hashlib.sha256((package / file["file"]).read_bytes()).hexdigest() == file["sha256"]


def test_vit_gpt2_fixture_is_a_cache_branch_bpe_package():
    package = PACKAGES["vit-gpt2-tiny"]
    manifest = json.loads((package / "caption_service.json").read_text())
    assert manifest["decoder"]["use_cache_branch"] == "use_cache_branch"
    assert manifest["tokenizer"]["kind"] == "bpe" and "fusion" not in manifest
    assert sum(f.stat().st_size for f in package.rglob("*") if f.is_file()) < 2 * 1024 * 1024


def test_tokenizer_cases_match_the_python_tokenizers():
    wordpiece = WordTokenizer((PACKAGES["shapeworld-fusion"] / "vocab.txt").read_text().splitlines())
    for case in json.loads((FIXTURES / "parity/shapeworld-fusion/tokenizer_cases.json").read_text())["cases"]:
        assert wordpiece.encode(case["text"]) == case["ids"]
    package = PACKAGES["vit-gpt2-tiny"]
    bpe = ByteLevelBPE.for_words(WORDS)
    assert bpe.vocab_json() == json.loads((package / "vocab.json").read_text())
    assert bpe.merges_txt() == (package / "merges.txt").read_text()
    for case in json.loads((FIXTURES / "parity/vit-gpt2-tiny/tokenizer_cases.json").read_text())["cases"]:
        assert bpe.encode(case["text"]) == case["ids"]

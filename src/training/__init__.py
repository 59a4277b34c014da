"""CaptionService training side: ShapeWorld-style scenes, the caption + fusion model, its trainer,
evaluator and ONNX package exporter. Run `/usr/bin/python3 -m training --help`."""

import os

# OpenMP threads that spin while waiting for work collapse on a shared machine (measured here
# under load: 40-57 s per training step spinning, 1-3 s passive). libgomp reads this when torch
# is first imported, so it is set before anything in the package imports torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

"""CaptionService training side: ShapeWorld-style scenes, the caption + fusion model, its trainer,
evaluator and ONNX package exporter. Run `/usr/bin/python3 -m training --help`."""

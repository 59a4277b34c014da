"""Image preprocessing shared by training, evaluation and export: the Python twin of what
`preprocessor_config.json` tells the server and transformers.js to do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

# Pixels are rescaled to 0..1 and then normalised to -1..1; the black background becomes -1.
IMAGE_MEAN = (0.5, 0.5, 0.5)
IMAGE_STD = (0.5, 0.5, 0.5)
RESAMPLE_BILINEAR = 2  # PIL's code (Image.BILINEAR), written into preprocessor_config.json


def pixel_values(images: torch.Tensor) -> torch.Tensor:
    """uint8 images (B, H, W, 3) -> normalised float32 pixel values (B, 3, H, W)."""
    x = images.permute(0, 3, 1, 2).float() / 255.0  # (B, 3, H, W) in 0..1
    mean = torch.tensor(IMAGE_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGE_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def load_image(path: Path, size: int) -> np.ndarray:
    """An RGB image file as uint8 (size, size, 3), resized bilinearly only when it is not that size."""
    with Image.open(path) as image:
        image = image.convert("RGB")
        if image.size != (size, size):
            image = image.resize((size, size), resample=Image.BILINEAR)
        return np.asarray(image, dtype=np.uint8).copy()

"""Receipt images: real, distinct JPEGs of a chosen size, made quickly from seeded noise.

Every image is a fresh baseline JPEG of random grey or colour noise, encoded once by Pillow and
never decoded or re-encoded afterwards. Noise barely compresses, so the byte size follows the pixel
count closely; a running budget picks each image's dimensions so the sum lands on the requested
total. Each image also carries a JPEG comment naming its index and seed, so no two images can
be byte-identical (PDF libraries merge identical images).
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass

from PIL import Image

QUALITY = 85
# Bytes per pixel of noise at QUALITY, measured with Pillow; refined as images are made.
START_BPP = {"L": 0.67, "RGB": 0.76}
SMALL_SIDE = (48, 96)


@dataclass(frozen=True)
class Jpeg:
    """An encoded JPEG with what a PDF image XObject needs to know about it."""

    data: bytes
    width: int
    height: int
    gray: bool


class JpegFactory:
    """Makes the ``index``-th receipt image of a file; sized to a total budget when given one."""

    def __init__(self, seed: int, images: int, total_bytes: int | None = None) -> None:
        self.seed = seed
        self.remaining_images = images
        self.remaining_bytes = total_bytes
        self.bpp = dict(START_BPP)

    def make(self, index: int) -> Jpeg:
        """The next image; call in order, ``index`` identifies it inside the file."""
        rng = random.Random(self.seed * 1_000_003 + index)
        mode = "L" if rng.random() < 0.7 else "RGB"
        if self.remaining_bytes is None:
            width, height = rng.randint(*SMALL_SIDE), rng.randint(*SMALL_SIDE)
        else:
            want = max(2_000, self.remaining_bytes // max(1, self.remaining_images))
            want = int(want * rng.uniform(0.8, 1.2))  # receipts differ in size
            area = want / self.bpp[mode]
            width = max(16, round(math.sqrt(area * 0.75) / 16) * 16)
            height = max(16, round(area / width / 16) * 16)
        jpeg = encode_noise(rng, mode, width, height, f"ccproc fixture image {index} seed {self.seed}")
        self.remaining_images -= 1
        if self.remaining_bytes is not None:
            self.remaining_bytes -= len(jpeg.data)
            measured = len(jpeg.data) / (width * height)
            self.bpp[mode] = 0.5 * self.bpp[mode] + 0.5 * measured
        return jpeg


def encode_noise(rng: random.Random, mode: str, width: int, height: int, comment: str) -> Jpeg:
    """A baseline JPEG of uniform noise with a comment segment."""
    channels = 1 if mode == "L" else 3
    image = Image.frombytes(mode, (width, height), rng.randbytes(width * height * channels))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY, comment=comment.encode("ascii"))
    return Jpeg(out.getvalue(), width, height, gray=mode == "L")

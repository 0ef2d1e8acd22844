#!/usr/bin/python3
"""Writes test/fixtures/preproc/cases.bin: 8-bit test images and what Pillow's resize followed by
torchvision's CenterCrop makes of them, the reference of test/test_preproc.c.

Run with Debian's python3-pil:  /usr/bin/python3 tools/gen_preproc_fixtures.py

torchvision is not needed: its semantics are reproduced here (torchvision 0.15+):
  Resize(int s)      -> the shorter side becomes s, the longer int(s * long / short)
  Resize((h, w))     -> exactly h x w
  both call PIL's Image.resize((w, h), BILINEAR | BICUBIC) (no box, no reducing_gap)
  CenterCrop((ch, cw)) -> if the crop is larger, pad with zeros by (c - size) // 2 on the
                       top/left (and the rest on the bottom/right); then
                       top = int(round((h - ch) / 2.0)), left likewise (round half to even)

File layout (little-endian): b"PPFX", int32 count, then per case int32 w, h, channels, resized
w, resized h, interpolation (2 bilinear, 3 bicubic), crop w, crop h; then h*w*channels input
bytes (rows packed, pixels interleaved) and crop_h*crop_w*channels expected bytes.
"""
import os
import struct
import sys

import PIL
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures",
                   "preproc", "cases.bin")


def pattern(w, h, ch, seed):
    """Deterministic image: gradients, a sharp-edged checkerboard, and LCG noise, so rounding
    and the clipping of bicubic overshoot are exercised."""
    state = seed * 2654435761 % 2**32 or 1
    data = bytearray()
    for y in range(h):
        for x in range(w):
            for c in range(ch):
                state = (state * 1103515245 + 12345) % 2**31
                noise = (state >> 16) & 0xff
                kind = (x // 5 + y // 7 + c + seed) % 4
                if kind == 0:
                    v = (x * 255) // max(w - 1, 1)
                elif kind == 1:
                    v = 255 if ((x // 3 + y // 3) % 2) else 0
                elif kind == 2:
                    v = noise
                else:
                    v = (y * 255) // max(h - 1, 1) ^ (noise & 0x1f)
                data.append(v & 0xff)
    return bytes(data)


def tv_resize_size(w, h, size):
    """torchvision's output size of Resize(size) for an int size (shorter side)."""
    if isinstance(size, tuple):
        return size[1], size[0]
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    return (new_short, new_long) if w <= h else (new_long, new_short)


def tv_center_crop(img, cw, ch):
    w, h = img.size
    if cw > w or ch > h:
        pl = (cw - w) // 2 if cw > w else 0
        pt = (ch - h) // 2 if ch > h else 0
        pr = (cw - w + 1) // 2 if cw > w else 0
        pb = (ch - h + 1) // 2 if ch > h else 0
        padded = Image.new(img.mode, (w + pl + pr, h + pt + pb), 0)
        padded.paste(img, (pl, pt))
        img = padded
        w, h = img.size
        if (w, h) == (cw, ch):
            return img
    top = int(round((h - ch) / 2.0))
    left = int(round((w - cw) / 2.0))
    return img.crop((left, top, left + cw, top + ch))


# (w, h, channels, resize (int: shorter side; tuple: (h, w) exactly), crop (h, w), interp)
CASES = [
    (64, 64, 3, 56, (48, 48), 3),     # downscale, bicubic
    (64, 64, 3, 56, (48, 48), 2),     # downscale, bilinear
    (32, 32, 3, 32, (32, 32), 3),     # pass-through
    (20, 20, 1, 32, (28, 28), 3),     # upscale gray
    (17, 23, 3, 40, (36, 36), 2),     # upscale odd sizes
    (96, 24, 3, 16, (16, 16), 3),     # 4:1, strong downscale
    (24, 96, 3, 16, (16, 16), 2),     # 1:4
    (13, 52, 1, 27, (25, 25), 3),     # 1:4 odd gray, upscale
    (52, 13, 1, 9, (9, 9), 2),        # 4:1 odd gray, downscale
    (45, 30, 3, 37, (33, 33), 3),     # 3:2
    (30, 45, 3, 37, (32, 33), 2),     # 2:3, rectangular crop
    (80, 60, 3, 35, (32, 32), 3),     # odd margins (round half to even)
    (61, 47, 3, 50, (49, 48), 3),     # odd crop offsets
    (61, 47, 3, 50, (49, 48), 2),
    (8, 8, 3, 96, (88, 88), 3),       # large upscale
    (8, 8, 1, 96, (90, 91), 2),
    (96, 96, 1, 8, (8, 8), 3),        # 12x downscale
    (96, 96, 3, 7, (7, 7), 2),
    (50, 50, 3, (40, 30), (40, 30), 3),  # exact size (squash), no crop
    (33, 71, 3, (24, 24), (24, 24), 2),  # squash non-uniform
    (71, 33, 1, (20, 44), (18, 40), 3),
    (40, 40, 3, (40, 24), (40, 24), 3),  # one pass only (vertical unchanged)
    (40, 40, 3, (24, 40), (24, 40), 2),  # one pass only (horizontal unchanged)
    (29, 31, 3, 29, (29, 29), 3),     # shorter side unchanged: vertical pass only
    (36, 36, 3, 36, (40, 40), 3),     # crop larger than the image: zero padding
    (35, 36, 1, 35, (38, 39), 2),     # uneven padding
    (64, 48, 3, 56, (56, 56), 3),     # crop equals the shorter side
    (255, 16, 1, 16, (16, 16), 3),    # long thin, 16:1-ish
    (19, 77, 3, 11, (10, 10), 3),
    (77, 19, 3, 11, (11, 10), 2),
    (28, 28, 1, 32, (28, 28), 2),     # Fashion-MNIST-like
    (28, 28, 1, 256, (224, 224), 3),  # the timm preset on a 28x28 image
]


def main():
    mode_of = {1: "L", 3: "RGB"}
    blobs = [b"PPFX", struct.pack("<i", len(CASES))]
    for i, (w, h, ch, size, crop, interp) in enumerate(CASES):
        data = pattern(w, h, ch, i + 1)
        img = Image.frombytes(mode_of[ch], (w, h), data)
        rw, rh = tv_resize_size(w, h, size)
        res = img if (rw, rh) == (w, h) else img.resize((rw, rh), interp)
        out = tv_center_crop(res, crop[1], crop[0])
        exp = out.tobytes()
        assert len(exp) == crop[0] * crop[1] * ch
        blobs.append(struct.pack("<8i", w, h, ch, rw, rh, interp, crop[1], crop[0]))
        blobs.append(data)
        blobs.append(exp)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "wb") as f:
        f.write(b"".join(blobs))
    print("%s: %d cases, %d bytes (Pillow %s)" % (os.path.normpath(OUT), len(CASES),
                                                   sum(len(b) for b in blobs), PIL.__version__),
          file=sys.stderr)


if __name__ == "__main__":
    main()

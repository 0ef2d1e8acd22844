#!/usr/bin/python3
"""Adds the evaluation transform and the class names to the bundled Fashion-MNIST model's
safetensors metadata, in place, without touching its tensors:

  crop_pct = 1.0, interpolation = bilinear  (the model was trained on the 28x28 images as they
                                             are: igq_image_preprocess passes them through)
  labels   = the ten Fashion-MNIST class names (JSON array, in class-index order)

tools/train_fashion_mnist.py writes the same keys for a newly trained model; this script brings
an existing file up to date.  Usage: /usr/bin/python3 tools/fmnist_metadata.py [FILE]"""
import json
import os
import struct
import sys

LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
          "Sneaker", "Bag", "Ankle boot"]
EXTRA = {"crop_pct": "1.0", "interpolation": "bilinear", "labels": json.dumps(LABELS)}


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "examples", "data", "fmnist_vit.safetensors")
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    meta = header.get("__metadata__", {})
    meta.update(EXTRA)
    header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # keep the data 8-byte aligned
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)
    os.replace(path + ".tmp", path)
    print("%s: metadata %s" % (path, ", ".join(sorted(EXTRA))))


if __name__ == "__main__":
    main()

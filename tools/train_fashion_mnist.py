#!/usr/bin/python3
"""Train a small timm-named Vision Transformer on Fashion-MNIST and export it.

Run with Debian's torch:
    OPENBLAS_CORETYPE=SkylakeX OMP_WAIT_POLICY=PASSIVE \
        /usr/bin/python3 tools/train_fashion_mnist.py [--epochs N]

Outputs (examples/data/):
    fmnist_vit.safetensors                   trained weights, F32, timm names
    fmnist_vit_test_logits_first64.safetensors  images [64,1,28,28] + float64-computed logits
    t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte     test set, uncompressed IDX
    calib-images-idx3-ubyte, calib-labels-idx1-ubyte   first 1,000 training samples
    README.md                                 accuracy, training time, how to reproduce

Data: /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist).
"""

import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

DATA_DIR = "/usr/share/datasets/fashion-mnist"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(REPO, "examples", "data")
MEAN = 0.2860
STD = 0.3530


# --------------------------------------------------------------------------
# IDX helpers
# --------------------------------------------------------------------------
def read_gz(name):
    with gzip.open(os.path.join(DATA_DIR, name), "rb") as f:
        return f.read()


def parse_idx(raw):
    magic, = struct.unpack(">I", raw[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    body = raw[4 + 4 * ndim:]
    t = torch.frombuffer(bytearray(body), dtype=torch.uint8)
    return t.reshape(dims)


def write_idx_images(path, imgs_u8):
    n, h, w = imgs_u8.shape
    with open(path, "wb") as f:
        f.write(struct.pack(">IIII", 0x00000803, n, h, w))
        f.write(imgs_u8.contiguous().numpy().tobytes())


def write_idx_labels(path, labels_u8):
    with open(path, "wb") as f:
        f.write(struct.pack(">II", 0x00000801, labels_u8.shape[0]))
        f.write(labels_u8.contiguous().numpy().tobytes())


# --------------------------------------------------------------------------
# Model with timm parameter names
# --------------------------------------------------------------------------
class PatchEmbed(nn.Module):
    def __init__(self, in_chans, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, patch, stride=patch)

    def forward(self, x):
        x = self.proj(x)                      # B, D, gh, gw
        return x.flatten(2).transpose(1, 2)   # B, gh*gw, D (row-major grid)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        hd = d // self.heads
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = (q @ k.transpose(-2, -1)) * (hd ** -0.5)
        a = a.softmax(dim=-1)
        y = (a @ v).transpose(1, 2).reshape(b, t, d)
        return self.proj(y)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))  # exact (erf) GELU


class Block(nn.Module):
    def __init__(self, dim, heads, hidden, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, hidden)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        x = x + self.mlp(self.norm2(x))
        return x


class ViT(nn.Module):
    def __init__(self, img=28, patch=7, in_chans=1, dim=128, depth=6, heads=4,
                 hidden=256, classes=10, eps=1e-6):
        super().__init__()
        n = (img // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, dim))
        self.patch_embed = PatchEmbed(in_chans, dim, patch)
        self.blocks = nn.ModuleList(Block(dim, heads, hidden, eps) for _ in range(depth))
        self.norm = nn.LayerNorm(dim, eps=eps)
        self.head = nn.Linear(dim, classes)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = x + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        return self.head(x[:, 0])


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------
def augment(x, gen, crop_prob):
    """Horizontal flip (p=0.5) + random crop with 2-px black padding, applied
    to a sample with probability crop_prob (otherwise the crop is centred)."""
    b = x.shape[0]
    pad_val = (0.0 - MEAN) / STD  # padding = black pixel
    xp = F.pad(x, (2, 2, 2, 2), value=pad_val)
    ox = torch.randint(0, 5, (b,), generator=gen)
    oy = torch.randint(0, 5, (b,), generator=gen)
    keep = torch.rand(b, generator=gen) >= crop_prob
    ox = torch.where(keep, torch.full_like(ox, 2), ox)
    oy = torch.where(keep, torch.full_like(oy, 2), oy)
    ar = torch.arange(28)
    rows = (oy[:, None] + ar[None, :])                     # b, 28
    cols = (ox[:, None] + ar[None, :])                     # b, 28
    flip = torch.rand(b, generator=gen) < 0.5
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    bi = torch.arange(b)[:, None, None]
    out = xp[bi, 0, rows[:, :, None], cols[:, None, :]]    # b, 28, 28
    return out.unsqueeze(1)


def evaluate(model, x, y, bs=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], bs):
            correct += (model(x[i:i + bs]).argmax(1) == y[i:i + bs]).sum().item()
    return correct


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--warmup-epochs", type=float, default=1.0)
    ap.add_argument("--crop-prob", type=float, default=0.0,
                    help="probability of a random 2-px-padded crop per sample")
    ap.add_argument("--clip", type=float, default=1.0, help="grad-norm clip (0 = off)")
    ap.add_argument("--smoothing", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-steps", type=int, default=0,
                    help="only time this many training steps and exit")
    ap.add_argument("--out", default=OUT_DIR)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed + 1)

    raw = {k: read_gz(k + ".gz") for k in (
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
    tr_img = parse_idx(raw["train-images-idx3-ubyte"])
    tr_lab = parse_idx(raw["train-labels-idx1-ubyte"])
    te_img = parse_idx(raw["t10k-images-idx3-ubyte"])
    te_lab = parse_idx(raw["t10k-labels-idx1-ubyte"])
    assert tr_img.shape == (60000, 28, 28) and te_img.shape == (10000, 28, 28)

    def norm(u8):
        return ((u8.float() / 255.0 - MEAN) / STD).unsqueeze(1)

    xtr, ytr = norm(tr_img), tr_lab.long()
    xte, yte = norm(te_img), te_lab.long()

    model = ViT()
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (no_decay if p.ndim <= 1 or n in ("cls_token", "pos_embed") else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.999))
    steps_per_epoch = math.ceil(xtr.shape[0] / args.batch)
    total = steps_per_epoch * args.epochs
    warm = int(steps_per_epoch * args.warmup_epochs)

    def lr_at(step):
        if step < warm:
            return args.lr * (step + 1) / warm
        p = (step - warm) / max(1, total - warm)
        return 1e-5 + (args.lr - 1e-5) * 0.5 * (1 + math.cos(math.pi * p))

    print("params: %d, steps/epoch %d, epochs %d" %
          (sum(p.numel() for p in model.parameters()), steps_per_epoch, args.epochs),
          flush=True)
    t0 = time.time()
    step = 0
    for ep in range(args.epochs):
        model.train()
        perm = torch.randperm(xtr.shape[0], generator=gen)
        te0 = time.time()
        run_loss = 0.0
        for i in range(steps_per_epoch):
            idx = perm[i * args.batch:(i + 1) * args.batch]
            xb = augment(xtr[idx], gen, args.crop_prob)
            yb = ytr[idx]
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            loss = F.cross_entropy(model(xb), yb, label_smoothing=args.smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if args.clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            opt.step()
            run_loss += loss.item()
            step += 1
            if args.time_steps and step == args.time_steps:
                dt = time.time() - te0
                print("%d steps in %.1f s -> %.1f s/epoch (est.)" %
                      (step, dt, dt / step * steps_per_epoch), flush=True)
                return
            if i % 100 == 0:
                print("  ep %d step %d/%d loss %.4f lr %.2e  %.0fs" %
                      (ep + 1, i, steps_per_epoch, loss.item(), lr_at(step),
                       time.time() - t0), flush=True)
        acc = evaluate(model, xte, yte)
        print("epoch %d: train loss %.4f, test acc %.2f%%, epoch time %.0fs, total %.0fs" %
              (ep + 1, run_loss / steps_per_epoch, acc / 100.0, time.time() - te0,
               time.time() - t0), flush=True)
    train_time = time.time() - t0

    model.eval().float()
    correct = evaluate(model, xte, yte)
    acc_str = "%.2f%%" % (correct / 100.0)
    print("fp32 test accuracy: %s (%d/10000)" % (acc_str, correct), flush=True)
    print("total training time: %.1f s (%.1f min), %d epochs" %
          (train_time, train_time / 60, args.epochs), flush=True)

    os.makedirs(args.out, exist_ok=True)
    sd = {k: v.detach().float().contiguous() for k, v in model.state_dict().items()}
    meta = {
        "num_heads": "4",
        "layer_norm_eps": "1e-06",
        "mean": "0.2860",
        "std": "0.3530",
        "dataset": "Fashion-MNIST",
        "test_accuracy": "%s (%d/10000, fp32)" % (acc_str, correct),
        "training_time_s": "%.0f" % train_time,
        "epochs": str(args.epochs),
        # evaluation transform: the 28x28 images as they are (igq_image_preprocess passes
        # them through); class names in index order (tools/fmnist_metadata.py adds the same
        # keys to an existing file)
        "crop_pct": "1.0",
        "interpolation": "bilinear",
        "labels": json.dumps(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                              "Shirt", "Sneaker", "Bag", "Ankle boot"]),
        "note": "timm-named ViT, 1x28x28, patch 7, D=128, depth 6, heads 4, "
                "mlp 256, 10 classes, exact GELU; trained by tools/train_fashion_mnist.py",
    }
    mpath = os.path.join(args.out, "fmnist_vit.safetensors")
    safetensors_io.write(mpath, sd, metadata=meta, dtype="F32")

    # float64 reference logits on the first 64 test images
    x64 = xte[:64].contiguous()
    m64 = ViT()
    m64.load_state_dict({k: v.double() for k, v in sd.items()})
    m64.double().eval()
    with torch.no_grad():
        lg = m64(x64.double())
    safetensors_io.write(os.path.join(args.out, "fmnist_vit_test_logits_first64.safetensors"),
                         {"images": x64, "logits": lg.float()},
                         metadata={"note": "images = first 64 test images normalized "
                                           "(x/255-0.2860)/0.3530; logits computed in float64 "
                                           "from fmnist_vit.safetensors",
                                   "labels": ",".join(str(int(v)) for v in yte[:64])})

    # self-check of the exported file
    back, bmeta, _ = safetensors_io.read(mpath)
    m2 = ViT()
    m2.load_state_dict(back)
    assert evaluate(m2, xte, yte) == correct

    # IDX files
    with open(os.path.join(args.out, "t10k-images-idx3-ubyte"), "wb") as f:
        f.write(raw["t10k-images-idx3-ubyte"])
    with open(os.path.join(args.out, "t10k-labels-idx1-ubyte"), "wb") as f:
        f.write(raw["t10k-labels-idx1-ubyte"])
    write_idx_images(os.path.join(args.out, "calib-images-idx3-ubyte"), tr_img[:1000])
    write_idx_labels(os.path.join(args.out, "calib-labels-idx1-ubyte"), tr_lab[:1000])

    with open(os.path.join(args.out, "README.md"), "w") as f:
        f.write(README.format(acc=acc_str, correct=correct, secs=train_time,
                              mins=train_time / 60, epochs=args.epochs,
                              lr=args.lr, wd=args.wd, batch=args.batch,
                              smooth=args.smoothing, threads=args.threads,
                              crop=args.crop_prob, clip=args.clip))
    print("wrote", args.out, flush=True)


README = """# examples/data — Fashion-MNIST ViT

Produced by `tools/train_fashion_mnist.py` (PyTorch, Debian `python3-torch`).

| file | content |
| --- | --- |
| `fmnist_vit.safetensors` | trained ViT, F32, timm tensor names |
| `fmnist_vit_test_logits_first64.safetensors` | `images` F32 [64,1,28,28] (first 64 test images, normalized) and `logits` F32 [64,10] computed in float64 from the exported weights (metadata `labels` = their labels) |
| `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte` | the 10,000 Fashion-MNIST test images/labels, uncompressed IDX (unchanged) |
| `calib-images-idx3-ubyte`, `calib-labels-idx1-ubyte` | the first 1,000 training images/labels, IDX (for quantization calibration) |

## Model

timm naming (`cls_token`, `pos_embed`, `patch_embed.proj.*`, `blocks.i.{{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}}.*`,
`norm.*`, `head.*`): 1 input channel, 28×28, patch 7 (4×4 grid = 16 patches + cls token = 17 tokens),
D=128, depth 6, 4 heads, MLP 256, 10 classes, exact (erf) GELU, LayerNorm eps 1e-6.
Input normalization: `x = (pixel/255 - 0.2860) / 0.3530`.
safetensors `__metadata__`: `num_heads`="4", `layer_norm_eps`="1e-06", `mean`="0.2860", `std`="0.3530",
plus `test_accuracy`, `training_time_s`, `epochs`.

## Result

    fp32 test accuracy: {acc} ({correct}/10000)
    total training time: {secs:.0f} s ({mins:.1f} min), {epochs} epochs, 2 CPU threads

Training: AdamW (lr {lr:g}, weight decay {wd:g} on matrices only), 1 warm-up epoch then cosine decay,
batch {batch}, gradient-norm clip {clip:g}, label smoothing {smooth:g}, augmentation = horizontal flip (p 0.5) plus a random crop with 2-px padding applied to each image with probability {crop:g}; seed 0.

## Reproduce

    OPENBLAS_CORETYPE=SkylakeX OMP_WAIT_POLICY=PASSIVE \\
        /usr/bin/python3 tools/train_fashion_mnist.py --epochs {epochs} --crop-prob {crop:g} --lr {lr:g}

Needs Debian packages `python3-torch` and `dataset-fashion-mnist` (reads
`/usr/share/datasets/fashion-mnist/*.gz`). Results differ slightly between
machines/BLAS builds; the exact numbers above are stored in the model's metadata.
"""

if __name__ == "__main__":
    main()

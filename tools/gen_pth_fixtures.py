"""PyTorch checkpoint fixtures (torch.save zip archives) for test/test_pth.c.

Each file re-saves the weights of an existing safetensors fixture (tools/gen_fixtures.py) with
torch.save, so the C test can require the very same logits from both files:

    test/fixtures/timm_deit_distilled/model.pth         plain state dict (OrderedDict, _metadata)
    test/fixtures/timm_deit_distilled/model_wrapped.pth {"model": sd, "optimizer": ..., "epoch": ...}
    test/fixtures/timm_deit_distilled/model_ddp.pth     {"state_dict": {"module.<name>": ...}},
                                                         every tensor a view into ONE storage
                                                         (non-zero storage offsets)
    test/fixtures/tv_vit/model.pth                      torchvision names, plain
    test/fixtures/hf_vit/pytorch_model.bin              Hugging Face names (HF's file name)
    test/fixtures/hf_dinov2/pytorch_model.bin           Hugging Face Dinov2Model (no classifier)
    test/fixtures/pth_timm_f16/model.pth                timm_vit_f16's F16 weights, pickle
                                                         protocol 4 (FRAME, MEMOIZE, ...), with a
                                                         config.json for what the safetensors
                                                         file keeps in __metadata__
    test/fixtures/pth_timm_f16/model_deflated.pth       the same archive re-zipped, every entry
                                                         deflated (zipfile, fixed timestamps)
    test/fixtures/pth_hf_bf16/pytorch_model.bin         hf_vit_bf16's BF16 weights, config.json
    test/fixtures/pth_legacy/model.pth                  legacy format (must be refused)

Run with the Debian PyTorch: /usr/bin/python3 tools/gen_pth_fixtures.py
"""

import collections
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures")


def load(name):
    tensors, meta, _ = safetensors_io.read(os.path.join(FIX, name, "model.safetensors"))
    return tensors, meta


def state_dict(tensors):
    """An OrderedDict as nn.Module.state_dict() returns it (with its _metadata attribute)."""
    sd = collections.OrderedDict((k, v.clone()) for k, v in tensors.items())
    sd._metadata = collections.OrderedDict([("", {"version": 1})])
    return sd


def save(obj, *path, **kw):
    p = os.path.join(FIX, *path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    torch.save(obj, p, **kw)
    print("wrote", os.path.relpath(p), os.path.getsize(p), "bytes")


def write_json(obj, *path):
    p = os.path.join(FIX, *path)
    with open(p, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def main():
    torch.manual_seed(0)

    deit, _ = load("timm_deit_distilled")
    save(state_dict(deit), "timm_deit_distilled", "model.pth")

    # A training checkpoint as DeiT's main.py writes it: model, optimizer, epoch, args.
    first = next(iter(deit))
    wrapped = {
        "model": state_dict(deit),
        "optimizer": {
            "state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.zeros_like(deit[first])}},
            "param_groups": [{"lr": 5e-4, "betas": (0.9, 0.999), "weight_decay": 0.05,
                              "amsgrad": False, "params": [0, 1, 2]}],
        },
        "epoch": 299,
        "args": {"model": "deit_tiny_distilled_patch7_28", "lr": 5e-4, "resume": None},
    }
    save(wrapped, "timm_deit_distilled", "model_wrapped.pth")

    # DistributedDataParallel names, all tensors views into one flat storage.
    flat = torch.cat([t.reshape(-1) for t in deit.values()])
    ddp = collections.OrderedDict()
    off = 0
    for k, t in deit.items():
        n = t.numel()
        ddp["module." + k] = flat[off:off + n].view(t.shape)
        off += n
    save({"state_dict": ddp, "best_acc1": 0.5}, "timm_deit_distilled", "model_ddp.pth")

    tv, _ = load("tv_vit")
    save(state_dict(tv), "tv_vit", "model.pth")

    hf, _ = load("hf_vit")
    save(state_dict(hf), "hf_vit", "pytorch_model.bin")

    dino, _ = load("hf_dinov2")  # Dinov2Model: no classifier, features only
    save(state_dict(dino), "hf_dinov2", "pytorch_model.bin")

    f16, meta = load("timm_vit_f16")
    assert all(t.dtype == torch.float16 for t in f16.values())
    save(state_dict(f16), "pth_timm_f16", "model.pth", pickle_protocol=4)
    write_json({"num_heads": int(meta["num_heads"]),
                "pretrained_cfg": {"mean": [float(x) for x in meta["mean"].split(",")],
                                   "std": [float(x) for x in meta["std"].split(",")]}},
               "pth_timm_f16", "config.json")

    # The same archive re-zipped with compression (as `zip -r` would): every entry deflated.
    import zipfile
    src = os.path.join(FIX, "pth_timm_f16", "model.pth")
    dst = os.path.join(FIX, "pth_timm_f16", "model_deflated.pth")
    with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zo:
        for info in zi.infolist():
            out = zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0))
            out.compress_type = zipfile.ZIP_DEFLATED
            zo.writestr(out, zi.read(info.filename))
    print("wrote", os.path.relpath(dst), os.path.getsize(dst), "bytes")

    bf16, meta = load("hf_vit_bf16")
    assert all(t.dtype == torch.bfloat16 for t in bf16.values())
    save(state_dict(bf16), "pth_hf_bf16", "pytorch_model.bin")
    write_json({"architectures": ["ViTForImageClassification"],
                "num_attention_heads": int(meta["num_heads"]),
                "layer_norm_eps": float(meta["layer_norm_eps"])},
               "pth_hf_bf16", "config.json")

    # Only the refusal is tested: two tensors are enough. (Legacy storage keys are object ids,
    # so this file differs from run to run.)
    legacy = collections.OrderedDict(list(state_dict(f16).items())[:2])
    save(legacy, "pth_legacy", "model.pth", _use_new_zipfile_serialization=False)


def fuzz_seeds():
    """Small archives and bare pickles for test/fuzz/fuzz_pth.c (non-zip inputs are pickles)."""
    import zipfile

    out = os.path.join(FIX, "..", "fuzz", "corpus", "fuzz_pth")
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(1)
    w = torch.randn(2, 3, generator=g)
    plain = collections.OrderedDict([("w", w), ("b", torch.tensor([1.0, 2.0, -3.0]).half()),
                                     ("idx", torch.tensor([3, 1]))])
    plain._metadata = collections.OrderedDict([("", {"version": 1})])
    flat = torch.arange(6, dtype=torch.float32)
    seeds = {
        "plain": plain,
        "wrapped": {"model": plain, "epoch": 3, "args": {"lr": 0.5, "name": "x", "resume": None},
                    "sched": [1, 2.5, True, (4, "five")]},
        "module_shared": {"state_dict": collections.OrderedDict(
            [("module.a", flat[0:4].view(2, 2)), ("module.b", flat[4:6])])},
        "nested": {"model": {"state_dict": {"a": w}}},
        "param_bf16": {"p": torch.nn.Parameter(w.bfloat16()), "q": w.t().contiguous()},
    }
    for name, obj in seeds.items():
        for proto in (2, 4):
            p = os.path.join(out, "%s_p%d.pth" % (name, proto))
            torch.save(obj, p, pickle_protocol=proto)
            with zipfile.ZipFile(p) as z:
                pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
                with open(os.path.join(out, "%s_p%d.pkl" % (name, proto)), "wb") as f:
                    f.write(z.read(pkl))
    print("wrote", len(os.listdir(out)), "seeds in", os.path.relpath(out))


if __name__ == "__main__":
    main()
    fuzz_seeds()

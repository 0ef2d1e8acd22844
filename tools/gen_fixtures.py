#!/usr/bin/python3
"""Generate small random-weight ViT test fixtures for libigq.

    /usr/bin/python3 tools/gen_fixtures.py

Writes test/fixtures/<name>/{model.safetensors, [config.json], io.safetensors}.
io.safetensors holds `images` (F32 [3,C,H,W], standard normal, fed to the
network as-is), `features` (F32 [3,D], the pooled embedding the classifier reads,
float64) and `logits` (F32 [3,K], computed in float64 from the exact
weights stored in model.safetensors, i.e. after F16/BF16 rounding).

Deterministic: fixed seeds, single thread, stable tensor order.
"""

import json
import math
import os
import shutil
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "test", "fixtures")
BATCH = 3

TORCH_DT = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


# --------------------------------------------------------------------------
# Reference forward (float64) on a canonical parameter layout
#   p = {cls, dist (opt), pos, pe_w, pe_b, blocks: [ {ln1_w, ln1_b, qkv_w,
#        qkv_b, proj_w, proj_b, ln2_w, ln2_b, fc1_w, fc1_b, fc2_w, fc2_b} ],
#        norm_w, norm_b, head_w, head_b, head_dist_w/b (opt)}
# --------------------------------------------------------------------------
def ref_forward(p, images, heads, eps, features=False):
    """Logits, or (features=True) the pooled embedding the classifier reads: the class token
    after the final norm, a distilled model's class and distillation tokens averaged (timm's
    forward_head(pre_logits=True))."""
    x = images.double()
    pw = p["pe_w"]
    patch = pw.shape[-1]
    x = F.conv2d(x, pw, p["pe_b"], stride=patch)             # B, D, gh, gw
    b, d = x.shape[0], x.shape[1]
    x = x.flatten(2).transpose(1, 2)                           # row-major grid
    prefix = [p["cls"].expand(b, -1, -1)]
    if "dist" in p:
        prefix.append(p["dist"].expand(b, -1, -1))
    x = torch.cat(prefix + [x], dim=1) + p["pos"]
    t = x.shape[1]
    hd = d // heads
    for blk in p["blocks"]:
        h = F.layer_norm(x, (d,), blk["ln1_w"], blk["ln1_b"], eps)
        qkv = F.linear(h, blk["qkv_w"], blk["qkv_b"])          # B, T, 3D
        q, k, v = qkv[..., :d], qkv[..., d:2 * d], qkv[..., 2 * d:]

        def split(z):
            return z.reshape(b, t, heads, hd).transpose(1, 2)  # B, H, T, hd
        q, k, v = split(q), split(k), split(v)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd), dim=-1)
        y = (a @ v).transpose(1, 2).reshape(b, t, d)
        y = F.linear(y, blk["proj_w"], blk["proj_b"])
        x = x + (y * blk["ls1"] if "ls1" in blk else y)   # layer scale (DINOv2)
        h = F.layer_norm(x, (d,), blk["ln2_w"], blk["ln2_b"], eps)
        h = F.gelu(F.linear(h, blk["fc1_w"], blk["fc1_b"]))   # exact erf GELU
        h = F.linear(h, blk["fc2_w"], blk["fc2_b"])
        x = x + (h * blk["ls2"] if "ls2" in blk else h)
    x = F.layer_norm(x, (d,), p["norm_w"], p["norm_b"], eps)
    if features:
        return (x[:, 0] + x[:, 1]) / 2 if "dist" in p else x[:, 0]
    out = F.linear(x[:, 0], p["head_w"], p["head_b"])
    if "head_dist_w" in p:
        out = (out + F.linear(x[:, 1], p["head_dist_w"], p["head_dist_b"])) / 2
    return out


# --------------------------------------------------------------------------
# Naming schemes -> canonical
# --------------------------------------------------------------------------
BLOCK_KEYS = ["ln1_w", "ln1_b", "qkv_w", "qkv_b", "proj_w", "proj_b",
              "ln2_w", "ln2_b", "fc1_w", "fc1_b", "fc2_w", "fc2_b"]


def timm_names(depth, distilled):
    names = ["cls_token"] + (["dist_token"] if distilled else []) + [
        "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias"]
    for i in range(depth):
        pre = "blocks.%d." % i
        names += [pre + s for s in (
            "norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias",
            "attn.proj.weight", "attn.proj.bias", "norm2.weight", "norm2.bias",
            "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias")]
    names += ["norm.weight", "norm.bias", "head.weight", "head.bias"]
    if distilled:
        names += ["head_dist.weight", "head_dist.bias"]
    return names


def canon_from_timm(sd, depth):
    g = lambda k: sd[k].double()  # noqa: E731
    p = {"cls": g("cls_token"), "pos": g("pos_embed"),
         "pe_w": g("patch_embed.proj.weight"), "pe_b": g("patch_embed.proj.bias"),
         "norm_w": g("norm.weight"), "norm_b": g("norm.bias"),
         "head_w": g("head.weight"), "head_b": g("head.bias"), "blocks": []}
    if "dist_token" in sd:
        p["dist"] = g("dist_token")
        p["head_dist_w"] = g("head_dist.weight")
        p["head_dist_b"] = g("head_dist.bias")
    for i in range(depth):
        pre = "blocks.%d." % i
        vals = [g(pre + s) for s in (
            "norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias",
            "attn.proj.weight", "attn.proj.bias", "norm2.weight", "norm2.bias",
            "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias")]
        p["blocks"].append(dict(zip(BLOCK_KEYS, vals)))
    return p


def hf_names(depth):
    names = ["vit.embeddings.cls_token", "vit.embeddings.position_embeddings",
             "vit.embeddings.patch_embeddings.projection.weight",
             "vit.embeddings.patch_embeddings.projection.bias"]
    for i in range(depth):
        pre = "vit.encoder.layer.%d." % i
        for s in ("layernorm_before", "attention.attention.query",
                  "attention.attention.key", "attention.attention.value",
                  "attention.output.dense", "layernorm_after",
                  "intermediate.dense", "output.dense"):
            names += [pre + s + ".weight", pre + s + ".bias"]
    names += ["vit.layernorm.weight", "vit.layernorm.bias",
              "classifier.weight", "classifier.bias"]
    return names


def canon_from_hf(sd, depth):
    g = lambda k: sd[k].double()  # noqa: E731
    p = {"cls": g("vit.embeddings.cls_token"),
         "pos": g("vit.embeddings.position_embeddings"),
         "pe_w": g("vit.embeddings.patch_embeddings.projection.weight"),
         "pe_b": g("vit.embeddings.patch_embeddings.projection.bias"),
         "norm_w": g("vit.layernorm.weight"), "norm_b": g("vit.layernorm.bias"),
         "head_w": g("classifier.weight"), "head_b": g("classifier.bias"),
         "blocks": []}
    for i in range(depth):
        pre = "vit.encoder.layer.%d." % i
        a = pre + "attention.attention."
        p["blocks"].append({
            "ln1_w": g(pre + "layernorm_before.weight"),
            "ln1_b": g(pre + "layernorm_before.bias"),
            "qkv_w": torch.cat([g(a + "query.weight"), g(a + "key.weight"),
                                g(a + "value.weight")], 0),
            "qkv_b": torch.cat([g(a + "query.bias"), g(a + "key.bias"),
                                g(a + "value.bias")], 0),
            "proj_w": g(pre + "attention.output.dense.weight"),
            "proj_b": g(pre + "attention.output.dense.bias"),
            "ln2_w": g(pre + "layernorm_after.weight"),
            "ln2_b": g(pre + "layernorm_after.bias"),
            "fc1_w": g(pre + "intermediate.dense.weight"),
            "fc1_b": g(pre + "intermediate.dense.bias"),
            "fc2_w": g(pre + "output.dense.weight"),
            "fc2_b": g(pre + "output.dense.bias"),
        })
    return p


def canon_from_tv(sd, depth):
    g = lambda k: sd[k].double()  # noqa: E731
    p = {"cls": g("class_token"), "pos": g("encoder.pos_embedding"),
         "pe_w": g("conv_proj.weight"), "pe_b": g("conv_proj.bias"),
         "norm_w": g("encoder.ln.weight"), "norm_b": g("encoder.ln.bias"),
         "head_w": g("heads.head.weight"), "head_b": g("heads.head.bias"),
         "blocks": []}
    for i in range(depth):
        pre = "encoder.layers.encoder_layer_%d." % i
        vals = [g(pre + s) for s in (
            "ln_1.weight", "ln_1.bias", "self_attention.in_proj_weight",
            "self_attention.in_proj_bias", "self_attention.out_proj.weight",
            "self_attention.out_proj.bias", "ln_2.weight", "ln_2.bias",
            "mlp.0.weight", "mlp.0.bias", "mlp.3.weight", "mlp.3.bias")]
        p["blocks"].append(dict(zip(BLOCK_KEYS, vals)))
    return p


# --------------------------------------------------------------------------
# Random parameters
# --------------------------------------------------------------------------
def rand_param(name, shape, gen):
    """Random value for a parameter, chosen by its role (from its name)."""
    n = torch.randn(shape, generator=gen, dtype=torch.float64)
    leaf = name.rsplit(".", 1)[-1]
    is_norm = any(s in name for s in ("norm", "ln_", "encoder.ln.", "layernorm"))
    if len(shape) == 1 and is_norm and leaf == "weight":
        return 1.0 + 0.1 * n
    if len(shape) == 1 and is_norm and leaf == "bias":
        return 0.1 * n
    if leaf in ("bias", "in_proj_bias"):
        return 0.1 * n
    if leaf in ("cls_token", "dist_token", "class_token", "pos_embed",
                "position_embeddings", "pos_embedding"):
        return 0.3 * n
    # weight matrices / conv kernels: std ~ 1.2/sqrt(fan_in), kept in [0.05, 0.3]
    fan_in = 1
    for s in shape[1:]:
        fan_in *= s
    std = min(0.3, max(0.05, 1.2 / math.sqrt(fan_in)))
    return std * n


def timm_shapes(c, img_hw, patch, d, depth, m, k, distilled):
    gh, gw = img_hw[0] // patch, img_hw[1] // patch
    t = gh * gw + (2 if distilled else 1)
    shp = {"cls_token": [1, 1, d], "dist_token": [1, 1, d], "pos_embed": [1, t, d],
           "patch_embed.proj.weight": [d, c, patch, patch],
           "patch_embed.proj.bias": [d], "norm.weight": [d], "norm.bias": [d],
           "head.weight": [k, d], "head.bias": [k],
           "head_dist.weight": [k, d], "head_dist.bias": [k]}
    for i in range(depth):
        pre = "blocks.%d." % i
        shp.update({pre + "norm1.weight": [d], pre + "norm1.bias": [d],
                    pre + "attn.qkv.weight": [3 * d, d], pre + "attn.qkv.bias": [3 * d],
                    pre + "attn.proj.weight": [d, d], pre + "attn.proj.bias": [d],
                    pre + "norm2.weight": [d], pre + "norm2.bias": [d],
                    pre + "mlp.fc1.weight": [m, d], pre + "mlp.fc1.bias": [m],
                    pre + "mlp.fc2.weight": [d, m], pre + "mlp.fc2.bias": [d]})
    return {n: shp[n] for n in timm_names(depth, distilled)}


def hf_shapes(c, img, patch, d, depth, m, k):
    t = (img // patch) ** 2 + 1
    shp = {"vit.embeddings.cls_token": [1, 1, d],
           "vit.embeddings.position_embeddings": [1, t, d],
           "vit.embeddings.patch_embeddings.projection.weight": [d, c, patch, patch],
           "vit.embeddings.patch_embeddings.projection.bias": [d],
           "vit.layernorm.weight": [d], "vit.layernorm.bias": [d],
           "classifier.weight": [k, d], "classifier.bias": [k]}
    for i in range(depth):
        pre = "vit.encoder.layer.%d." % i
        for s in ("attention.attention.query", "attention.attention.key",
                  "attention.attention.value", "attention.output.dense"):
            shp[pre + s + ".weight"] = [d, d]
            shp[pre + s + ".bias"] = [d]
        for s in ("layernorm_before", "layernorm_after"):
            shp[pre + s + ".weight"] = [d]
            shp[pre + s + ".bias"] = [d]
        shp[pre + "intermediate.dense.weight"] = [m, d]
        shp[pre + "intermediate.dense.bias"] = [m]
        shp[pre + "output.dense.weight"] = [d, m]
        shp[pre + "output.dense.bias"] = [d]
    return {n: shp[n] for n in hf_names(depth)}


def make_params(shapes, seed, dtype):
    """Random params, rounded to the storage dtype. Returns name -> tensor in
    the storage dtype (these exact values are what the reference uses)."""
    gen = torch.Generator().manual_seed(seed)
    return {n: rand_param(n, s, gen).to(TORCH_DT[dtype]) for n, s in shapes.items()}


def make_images(seed, c, h, w):
    gen = torch.Generator().manual_seed(seed + 1000)
    return torch.randn(BATCH, c, h, w, generator=gen, dtype=torch.float32)


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------
def write_fixture(name, model_sd, dtype, metadata, config, images, logits,
                  canon_fn, depth, heads, eps, order=None, features=None):
    d = os.path.join(OUT, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    if order is not None:
        model_sd = {k: model_sd[k] for k in order}
    mpath = os.path.join(d, "model.safetensors")
    safetensors_io.write(mpath, model_sd, metadata=metadata, dtype=dtype)
    if config is not None:
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(config, f, indent=2, sort_keys=True)
            f.write("\n")
    lg32 = logits.float()
    if features is None:
        features = ref_forward(canon_fn(model_sd, depth), images, heads, eps, features=True)
    ft32 = features.float()
    safetensors_io.write(os.path.join(d, "io.safetensors"),
                         {"images": images, "logits": lg32, "features": ft32}, dtype="F32")

    # self-check: read both files back, recompute with the reference forward
    back, meta, dts = safetensors_io.read(mpath)
    assert list(back.keys()) == list(model_sd.keys())
    assert all(v == dtype for v in dts.values()), dts
    assert meta == (metadata or {}), meta
    for k in model_sd:
        assert torch.equal(back[k], model_sd[k].to(TORCH_DT[dtype])), k
    io, _, _ = safetensors_io.read(os.path.join(d, "io.safetensors"))
    again = ref_forward(canon_fn(back, depth), io["images"], heads, eps)
    err = (again - logits).abs().max().item()
    assert err < 1e-12, (name, err)
    assert torch.equal(io["logits"], lg32)
    fagain = ref_forward(canon_fn(back, depth), io["images"], heads, eps, features=True)
    assert (fagain - features).abs().max().item() < 1e-12, name

    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print("%-20s %-4s logits std %.3f range [%.2f, %.2f]  %7d bytes" %
          (name, dtype, lg32.std().item(), lg32.min().item(), lg32.max().item(), size))
    return size


def timm_fixture(name, seed, c, hw, patch, d, depth, heads, m, k, dtype="F32",
                 distilled=False, metadata=None, config=None):
    shapes = timm_shapes(c, hw, patch, d, depth, m, k, distilled)
    sd = make_params(shapes, seed, dtype)
    images = make_images(seed, c, hw[0], hw[1])
    logits = ref_forward(canon_from_timm(sd, depth), images, heads, 1e-6)
    return write_fixture(name, sd, dtype, metadata, config, images, logits,
                         canon_from_timm, depth, heads, 1e-6)


def hf_fixture(name, seed, c, img, patch, d, depth, heads, m, k, eps, dtype="F32",
               metadata=None, config=None):
    shapes = hf_shapes(c, img, patch, d, depth, m, k)
    sd = make_params(shapes, seed, dtype)
    images = make_images(seed, c, img, img)
    logits = ref_forward(canon_from_hf(sd, depth), images, heads, eps)
    # Hugging Face's own files list tensors sorted by name; do the same.
    return write_fixture(name, sd, dtype, metadata, config, images, logits,
                         canon_from_hf, depth, heads, eps, order=sorted(sd))


def build_tv(seed, img, patch, depth, heads, d, m, k):
    from torchvision.models.vision_transformer import VisionTransformer
    torch.manual_seed(seed)
    model = VisionTransformer(image_size=img, patch_size=patch, num_layers=depth,
                              num_heads=heads, hidden_dim=d, mlp_dim=m,
                              num_classes=k)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, prm in model.named_parameters():
            prm.copy_(rand_param(n, list(prm.shape), gen).float())
    return model.eval()


def tv_fixture(name, seed, img, patch, depth, heads, d, m, k):
    model = build_tv(seed, img, patch, depth, heads, d, m, k)
    sd = {n: t.detach().clone() for n, t in model.state_dict().items()}
    images = make_images(seed, 3, img, img)
    model64 = build_tv(seed, img, patch, depth, heads, d, m, k)
    model64.load_state_dict(sd)
    model64.double().eval()
    captured = {}
    hook = model64.heads.register_forward_hook(
        lambda mod, inp, out: captured.__setitem__("features", inp[0].detach().clone()))
    with torch.no_grad():
        logits = model64(images.double())
    hook.remove()
    # the torchvision model and our reference forward must agree
    ours = ref_forward(canon_from_tv(sd, depth), images, heads, 1e-6)
    diff = (ours - logits).abs().max().item()
    print("  cross-check %s: torchvision vs reference forward, max |diff| = %.3e"
          % (name, diff))
    assert diff < 1e-10, diff
    # the embedding the real module's classifier reads (input of model.heads)
    fours = ref_forward(canon_from_tv(sd, depth), images, heads, 1e-6, features=True)
    assert (fours - captured["features"]).abs().max().item() < 1e-10
    return write_fixture(name, sd, "F32", None, None, images, logits,
                         canon_from_tv, depth, heads, 1e-6, features=captured["features"])


def cross_check_reference():
    """Independent check of ref_forward against torchvision's ViT using a
    model with several heads, an unusual MLP width and float64 throughout."""
    model = build_tv(4242, 24, 6, 2, 4, 32, 48, 5).double()
    sd = model.state_dict()
    x = torch.randn(4, 3, 24, 24, generator=torch.Generator().manual_seed(7),
                    dtype=torch.float64)
    with torch.no_grad():
        want = model(x)
    got = ref_forward(canon_from_tv(sd, 2), x, 4, 1e-6)
    diff = (got - want).abs().max().item()
    print("reference forward vs torchvision VisionTransformer (4 heads, float64): "
          "max |diff| = %.3e (logit scale %.2f)" % (diff, want.abs().max().item()))
    assert diff < 1e-10
    # and a mapping check: timm-named copy of the same weights gives the same
    timm_sd = {}
    cp = canon_from_tv(sd, 2)
    timm_sd.update({"cls_token": cp["cls"], "pos_embed": cp["pos"],
                    "patch_embed.proj.weight": cp["pe_w"],
                    "patch_embed.proj.bias": cp["pe_b"], "norm.weight": cp["norm_w"],
                    "norm.bias": cp["norm_b"], "head.weight": cp["head_w"],
                    "head.bias": cp["head_b"]})
    for i, blk in enumerate(cp["blocks"]):
        pre = "blocks.%d." % i
        for key, s in zip(BLOCK_KEYS, (
                "norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias",
                "attn.proj.weight", "attn.proj.bias", "norm2.weight", "norm2.bias",
                "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias")):
            timm_sd[pre + s] = blk[key]
    got2 = ref_forward(canon_from_timm(timm_sd, 2), x, 4, 1e-6)
    assert torch.equal(got2, got)


# --------------------------------------------------------------------------
# Another image size (igq_load_options IMAGE_HEIGHT / WIDTH): the position
# grid resampled as each family's own code does, then the same forward.
# Writes test/fixtures/<name>/io_<H>x<W>.safetensors (images, logits, features).
# --------------------------------------------------------------------------
def resample_grid(pos, n_prefix, gh, gw, nh, nw, method):
    """pos [1, n_prefix + gh*gw, D] -> [1, n_prefix + nh*nw, D], float64."""
    prefix, grid = pos[:, :n_prefix], pos[:, n_prefix:]
    d = pos.shape[-1]
    g = grid.reshape(1, gh, gw, d).permute(0, 3, 1, 2)
    if method == "timm":     # timm resample_abs_pos_embed (antialias=True default)
        g = F.interpolate(g, size=(nh, nw), mode="bicubic", antialias=True)
    elif method == "hf":     # transformers ViT interpolate_pos_encoding
        g = F.interpolate(g, size=(nh, nw), mode="bicubic", align_corners=False)
    else:                    # torchvision interpolate_embeddings
        g = F.interpolate(g, size=(nh, nw), mode="bicubic", align_corners=True)
    g = g.permute(0, 2, 3, 1).reshape(1, nh * nw, d)
    return torch.cat([prefix, g], dim=1)


def resized_fixture(name, canon_fn, depth, heads, eps, patch, old, new, method, seed):
    d = os.path.join(OUT, name)
    sd, _, _ = safetensors_io.read(os.path.join(d, "model.safetensors"))
    p = canon_fn(sd, depth)
    n_prefix = 1 + (1 if "dist" in p else 0)
    p["pos"] = resample_grid(p["pos"].double(), n_prefix, old[0] // patch, old[1] // patch,
                             new[0] // patch, new[1] // patch, method)
    c = p["pe_w"].shape[1]
    images = make_images(seed, c, new[0], new[1])
    logits = ref_forward(p, images, heads, eps)
    feats = ref_forward(p, images, heads, eps, features=True)
    if method == "tv":
        # the real torchvision module at the new size, with torchvision's own resampling
        from torchvision.models.vision_transformer import (VisionTransformer,
                                                            interpolate_embeddings)
        sd64 = {k: v.double() for k, v in sd.items()}
        sd64 = interpolate_embeddings(new[0], patch, sd64, interpolation_mode="bicubic")
        dim = p["pe_w"].shape[0]
        mlp = p["blocks"][0]["fc1_w"].shape[0]
        model = VisionTransformer(image_size=new[0], patch_size=patch, num_layers=depth,
                                  num_heads=heads, hidden_dim=dim, mlp_dim=mlp,
                                  num_classes=p["head_w"].shape[0]).double().eval()
        model.load_state_dict(sd64)
        with torch.no_grad():
            real = model(images.double())
        diff = (real - logits).abs().max().item()
        print("  cross-check %s at %dx%d: torchvision module vs reference, max |diff| = %.3e"
              % (name, new[0], new[1], diff))
        assert diff < 1e-10, diff
    path = os.path.join(d, "io_%dx%d.safetensors" % new)
    safetensors_io.write(path, {"images": images, "logits": logits.float(),
                                "features": feats.float()}, dtype="F32")
    print("%-20s at %dx%d (%s resampling): logits std %.3f" %
          (name, new[0], new[1], method, logits.std().item()))


def dinov2_fixture(name, seed, img, patch, d, depth, heads, m):
    """Hugging Face Dinov2Model names (no classifier: embeddings only), layer scale, a
    mask_token (unused at inference), config.json with the heads and eps 1e-6."""
    t = (img // patch) ** 2 + 1
    shapes = {"embeddings.cls_token": [1, 1, d], "embeddings.mask_token": [1, d],
              "embeddings.position_embeddings": [1, t, d],
              "embeddings.patch_embeddings.projection.weight": [d, 3, patch, patch],
              "embeddings.patch_embeddings.projection.bias": [d],
              "layernorm.weight": [d], "layernorm.bias": [d]}
    for i in range(depth):
        pre = "encoder.layer.%d." % i
        for sfx in ("attention.attention.query", "attention.attention.key",
                    "attention.attention.value", "attention.output.dense"):
            shapes[pre + sfx + ".weight"] = [d, d]
            shapes[pre + sfx + ".bias"] = [d]
        for sfx in ("norm1", "norm2"):
            shapes[pre + sfx + ".weight"] = [d]
            shapes[pre + sfx + ".bias"] = [d]
        shapes[pre + "mlp.fc1.weight"] = [m, d]
        shapes[pre + "mlp.fc1.bias"] = [m]
        shapes[pre + "mlp.fc2.weight"] = [d, m]
        shapes[pre + "mlp.fc2.bias"] = [d]
        shapes[pre + "layer_scale1.lambda1"] = [d]
        shapes[pre + "layer_scale2.lambda1"] = [d]
    sd = make_params(shapes, seed, "F32")
    gen = torch.Generator().manual_seed(seed + 7)
    for i in range(depth):   # layer scale around 0.5 (DINOv2's are small, positive)
        for k in ("layer_scale1.lambda1", "layer_scale2.lambda1"):
            sd["encoder.layer.%d.%s" % (i, k)] = (
                0.5 + 0.2 * torch.randn(d, generator=gen, dtype=torch.float64)).float()
    g = lambda k: sd[k].double()  # noqa: E731
    p = {"cls": g("embeddings.cls_token"), "pos": g("embeddings.position_embeddings"),
         "pe_w": g("embeddings.patch_embeddings.projection.weight"),
         "pe_b": g("embeddings.patch_embeddings.projection.bias"),
         "norm_w": g("layernorm.weight"), "norm_b": g("layernorm.bias"), "blocks": []}
    for i in range(depth):
        pre = "encoder.layer.%d." % i
        qkv_w = torch.cat([g(pre + "attention.attention.%s.weight" % s)
                           for s in ("query", "key", "value")])
        qkv_b = torch.cat([g(pre + "attention.attention.%s.bias" % s)
                           for s in ("query", "key", "value")])
        p["blocks"].append({
            "ln1_w": g(pre + "norm1.weight"), "ln1_b": g(pre + "norm1.bias"),
            "qkv_w": qkv_w, "qkv_b": qkv_b,
            "proj_w": g(pre + "attention.output.dense.weight"),
            "proj_b": g(pre + "attention.output.dense.bias"),
            "ln2_w": g(pre + "norm2.weight"), "ln2_b": g(pre + "norm2.bias"),
            "fc1_w": g(pre + "mlp.fc1.weight"), "fc1_b": g(pre + "mlp.fc1.bias"),
            "fc2_w": g(pre + "mlp.fc2.weight"), "fc2_b": g(pre + "mlp.fc2.bias"),
            "ls1": g(pre + "layer_scale1.lambda1"), "ls2": g(pre + "layer_scale2.lambda1")})
    images = make_images(seed, 3, img, img)
    feats = ref_forward(p, images, heads, 1e-6, features=True)
    out = os.path.join(OUT, name)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    safetensors_io.write(os.path.join(out, "model.safetensors"), sd, dtype="F32")
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({"architectures": ["Dinov2Model"], "model_type": "dinov2", "hidden_size": d,
                   "num_hidden_layers": depth, "num_attention_heads": heads,
                   "mlp_ratio": m // d, "layer_norm_eps": 1e-6, "image_size": img,
                   "patch_size": patch, "num_channels": 3, "hidden_act": "gelu",
                   "layerscale_value": 1.0, "use_swiglu_ffn": False}, f, indent=2,
                  sort_keys=True)
        f.write("\n")
    safetensors_io.write(os.path.join(out, "io.safetensors"),
                         {"images": images, "features": feats.float()}, dtype="F32")
    print("%-20s F32  features std %.3f (Hugging Face DINOv2 names, no classifier)"
          % (name, feats.std().item()))


def resized_fixtures():
    resized_fixture("timm_vit", canon_from_timm, 2, 3, 1e-6, 8, (32, 32), (48, 48), "timm", 111)
    resized_fixture("timm_vit", canon_from_timm, 2, 3, 1e-6, 8, (32, 32), (16, 24), "timm", 112)
    resized_fixture("hf_vit", canon_from_hf, 2, 4, 1e-12, 4, (32, 32), (44, 44), "hf", 113)
    resized_fixture("tv_vit", canon_from_tv, 2, 1, 1e-6, 14, (28, 28), (42, 42), "tv", 114)


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT, exist_ok=True)
    cross_check_reference()
    total = 0

    # 1. timm ViT, 3x32x32, patch 8, heads via metadata, mean/std metadata
    total += timm_fixture(
        "timm_vit", 101, 3, (32, 32), 8, 48, 2, 3, 96, 10,
        metadata={"num_heads": "3", "mean": "0.485,0.456,0.406",
                  "std": "0.229,0.224,0.225"})

    # 2. timm DeiT distilled, 1x28x28, patch 7, heads via timm-style config.json
    total += timm_fixture(
        "timm_deit_distilled", 202, 1, (28, 28), 7, 32, 3, 2, 64, 5, distilled=True,
        config={"architecture": "deit_tiny_distilled_patch7_28", "num_classes": 5,
                "num_heads": 2,
                "pretrained_cfg": {"mean": [0.5], "std": [0.25],
                                   "input_size": [1, 28, 28]}})

    # 3. Hugging Face ViTForImageClassification, heads/eps from config.json
    hf_cfg = {
        "architectures": ["ViTForImageClassification"], "model_type": "vit",
        "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
        "intermediate_size": 64, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
        "image_size": 32, "patch_size": 4, "num_channels": 3, "qkv_bias": True,
        "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
        "initializer_range": 0.02, "torch_dtype": "float32",
        "id2label": {str(i): "class_%d" % i for i in range(7)},
        "label2id": {"class_%d" % i: i for i in range(7)},
    }
    total += hf_fixture("hf_vit", 303, 3, 32, 4, 64, 2, 4, 64, 7, 1e-12,
                        metadata={"format": "pt"}, config=hf_cfg)

    # 4./5. real torchvision VisionTransformer, no metadata, no config
    total += tv_fixture("tv_vit", 404, 28, 14, 2, 1, 64, 128, 4)
    total += tv_fixture("tv_vit_b", 505, 32, 16, 1, 2, 128, 32, 3)

    # 6. like 1 with one block, stored as F16
    total += timm_fixture(
        "timm_vit_f16", 606, 3, (32, 32), 8, 48, 1, 3, 96, 10, dtype="F16",
        metadata={"num_heads": "3", "mean": "0.485,0.456,0.406",
                  "std": "0.229,0.224,0.225"})

    # 7. HF naming, BF16, heads and eps from metadata, no config.json
    total += hf_fixture("hf_vit_bf16", 707, 3, 16, 4, 32, 2, 2, 64, 6, 1e-5,
                        dtype="BF16",
                        metadata={"num_heads": "2", "layer_norm_eps": "1e-05"})

    # 8. timm, non-square 24x32 (3x4 patch grid), 1 channel
    total += timm_fixture(
        "timm_rect", 808, 1, (24, 32), 8, 32, 2, 2, 64, 3,
        metadata={"num_heads": "2", "image_size": "24,32", "layer_norm_eps": "1e-06",
                  "mean": "0.5", "std": "0.5"})

    print("total fixture bytes: %d" % total)
    resized_fixtures()
    dinov2_fixture("hf_dinov2", 909, 16, 4, 48, 2, 3, 96)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Time PyTorch and ONNX Runtime on random-weight DeiT-S and ViT-B/16.

Peer timings for libigq's benchmark tables: the same timm-style pre-norm ViT
(class token, LayerNorm eps 1e-6, exact GELU, 224x224, patch 16, 1000
classes) with fixed-seed random weights is timed in four configurations:

  pytorch  fp32   eval(), torch.inference_mode()
  pytorch  int8   torch.ao.quantization.quantize_dynamic({nn.Linear}, qint8),
                  quantized engine "onednn" (Debian's torch has no FBGEMM)
  ort      fp32   torch.onnx.export (opset 17), onnxruntime-node, all graph
                  optimizations
  ort      int8   the same export with every nn.Linear emitted as
                  com.microsoft.DynamicQuantizeMatMul (int8 weights,
                  per-tensor symmetric, activations quantized to u8 per call)
                  -- what ORT's quantize_dynamic produces for MatMul, written
                  directly because neither the onnx nor the onnxruntime
                  Python package is available here.

Both int8 paths quantize exactly the Linear layers (qkv, proj, fc1, fc2,
head); patch embedding, LayerNorm, softmax and the two attention matmuls stay
fp32.

With --libigq build/bench/bench_vit, libigq is timed in the same run: each
pass runs bench_vit (same architectures, random weights, 224x224) at every
--libigq-isa level after the peers, and the table gets a "median / ORT int8"
column (same model, batch and threads).

Run with Debian's interpreter (the python3 first on PATH has no torch):

    /usr/bin/python3 tools/bench_peers.py                # full run
    /usr/bin/python3 tools/bench_peers.py --save DIR     # also write weights
    /usr/bin/python3 tools/bench_peers.py --libigq build/bench/bench_vit

ORT is driven by tools/bench_peers_ort.js (node + onnxruntime-node); see
tools/README.md for the npm install command.  Python and node are tooling
only: nothing in the library, its tests or CI uses them.
"""

import argparse
import json
import math
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

# Must be set before torch (OpenBLAS, OpenMP) is loaded; see
# /work/shared/ENVIRONMENT.md.  OpenBLAS 0.3.21 would pick its Haswell (AVX2)
# kernels on these CPUs, and some shells here export OPENBLAS_CORETYPE=Haswell
# globally, so SkylakeX is forced unless BENCH_PEERS_OPENBLAS_CORETYPE says
# otherwise.
os.environ["OPENBLAS_CORETYPE"] = os.environ.get(
    "BENCH_PEERS_OPENBLAS_CORETYPE", "SkylakeX")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

MODELS = {
    # name: (embed, depth, heads, mlp)
    "deit_s": (384, 12, 6, 1536),
    "vit_b16": (768, 12, 12, 3072),
}
PRETTY = {"deit_s": "DeiT-S", "vit_b16": "ViT-B/16"}
IMG, PATCH, CLASSES, EPS = 224, 16, 1000, 1e-6


# --------------------------------------------------------------------------
# Model (timm VisionTransformer layout and parameter names)
# --------------------------------------------------------------------------
class PatchEmbed(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, PATCH, PATCH)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # B, N, C


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        h = self.heads
        qkv = self.qkv(x).reshape(b, n, 3, h, c // h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=EPS)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=EPS)
        self.mlp = Mlp(dim, hidden)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, dim, depth, heads, hidden):
        super().__init__()
        self.num_heads = heads
        tokens = (IMG // PATCH) ** 2 + 1
        self.patch_embed = PatchEmbed(dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads, hidden)
                                      for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=EPS)
        self.head = nn.Linear(dim, CLASSES)

    def forward(self, x):
        x = self.patch_embed(x)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat((cls, x), dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


def build(name, seed):
    """Random weights, fixed seed, timm-like init (trunc normal std 0.02)."""
    dim, depth, heads, hidden = MODELS[name]
    torch.manual_seed(seed)
    m = ViT(dim, depth, heads, hidden)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (nn.Linear, nn.Conv2d)):
                nn.init.trunc_normal_(mod.weight, std=0.02)
                nn.init.normal_(mod.bias, std=0.02)
            elif isinstance(mod, nn.LayerNorm):
                mod.weight.normal_(1.0, 0.05)
                mod.bias.normal_(0.0, 0.02)
        nn.init.trunc_normal_(m.cls_token, std=0.02)
        nn.init.trunc_normal_(m.pos_embed, std=0.02)
    return m.eval()


# --------------------------------------------------------------------------
# safetensors (timm names)
# --------------------------------------------------------------------------
def _write_safetensors_by_hand(path, tensors, metadata):
    """u64 LE header length, JSON header (space-padded to 8), raw LE data."""
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        blob = t.detach().cpu().float().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    header["__metadata__"] = metadata
    hj = json.dumps(header, separators=(",", ":")).encode()
    hj += b" " * ((-len(hj)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)


def save_safetensors(model, name, out_dir, seed):
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name + ".safetensors")
    sd = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    meta = {"format": "pt", "num_heads": str(model.num_heads),
            "layer_norm_eps": repr(EPS), "image_size": str(IMG),
            "patch_size": str(PATCH), "seed": str(seed),
            "source": "tools/bench_peers.py random weights"}
    try:
        from safetensors.torch import save_file
        save_file(sd, path, metadata=meta)
        how = "safetensors package"
    except ImportError:
        _write_safetensors_by_hand(path, sd, meta)
        how = "hand-written writer"
    print("# wrote %s (%d tensors, %s)" % (path, len(sd), how), file=sys.stderr)
    return path


# --------------------------------------------------------------------------
# ONNX export (fp32, and int8 via com.microsoft.DynamicQuantizeMatMul)
# --------------------------------------------------------------------------
class _DQMatMul(torch.autograd.Function):
    """Y = A @ dequant(B) + bias; exported as one ORT contrib op."""

    @staticmethod
    def forward(ctx, a, b_q, b_scale, b_zp, bias):
        w = (b_q.to(torch.float32) - b_zp.to(torch.float32)) * b_scale
        return torch.matmul(a, w) + bias

    @staticmethod
    def symbolic(g, a, b_q, b_scale, b_zp, bias):
        return g.op("com.microsoft::DynamicQuantizeMatMul",
                    a, b_q, b_scale, b_zp, bias)


class _QLinearForExport(nn.Module):
    """Stand-in for nn.Linear: int8 weight [K, N], per-tensor symmetric."""

    def __init__(self, lin):
        super().__init__()
        w = lin.weight.detach().t().contiguous()            # K, N
        scale = w.abs().max().clamp_min(1e-12) / 127.0
        self.register_buffer("b_q", torch.clamp(torch.round(w / scale),
                                                 -127, 127).to(torch.int8))
        self.register_buffer("b_scale", scale.reshape(()).float())
        self.register_buffer("b_zp", torch.zeros((), dtype=torch.int8))
        self.register_buffer("bias", lin.bias.detach().clone())

    def forward(self, x):
        return _DQMatMul.apply(x, self.b_q, self.b_scale, self.b_zp, self.bias)


def _swap_linears(module):
    for n, child in module.named_children():
        if isinstance(child, nn.Linear):
            setattr(module, n, _QLinearForExport(child))
        else:
            _swap_linears(child)


def export_onnx(model, path, int8):
    import copy
    m = copy.deepcopy(model).eval()
    if int8:
        _swap_linears(m)
    x = torch.randn(1, 3, IMG, IMG)
    kw = {}
    if int8:
        kw["custom_opsets"] = {"com.microsoft": 1}
    import warnings
    with torch.no_grad(), warnings.catch_warnings():
        # The contrib op has no torch-side shape inference; ORT infers it.
        warnings.simplefilter("ignore")
        torch.onnx.export(m, (x,), path, input_names=["x"],
                          output_names=["logits"],
                          dynamic_axes={"x": {0: "batch"},
                                        "logits": {0: "batch"}},
                          opset_version=17, do_constant_folding=True, **kw)
    return path


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------
def time_fn(fn, runs, warmup):
    """Seconds per call of ``runs`` timed calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return ts


def time_torch(model, batches, threads, runs_for, warmup, inputs):
    """{(batch, threads): [ms per call, ...]}"""
    out = {}
    for t in threads:
        torch.set_num_threads(t)
        for b in batches:
            x = inputs[b]
            with torch.inference_mode():
                ts = time_fn(lambda: model(x), runs_for(b), warmup)
            out[(b, t)] = [v * 1e3 for v in ts]
    return out


def time_ort(jobs, node, ort_js, node_path, input_file, out_dir):
    cfg = {"jobs": jobs, "input_file": input_file, "out_dir": out_dir}
    cfg_path = os.path.join(out_dir, "ort_jobs.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    env = dict(os.environ)
    if node_path:
        env["NODE_PATH"] = node_path + (
            os.pathsep + env["NODE_PATH"] if env.get("NODE_PATH") else "")
    p = subprocess.run([node, ort_js, cfg_path], env=env,
                       stdout=subprocess.PIPE, check=True)
    return json.loads(p.stdout.decode())


def loadavg1():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


def uptime():
    try:
        return subprocess.run(["uptime"], stdout=subprocess.PIPE,
                              text=True).stdout.strip()
    except OSError:
        with open("/proc/loadavg") as f:
            return "loadavg " + f.read().strip()


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def parse_list(s):
    return [int(v) for v in s.split(",") if v]


LIBIGQ_MODEL = {"deit_s": "deit-s", "vit_b16": "vit-b"}


def time_libigq(args, name, isa):
    """Runs bench_vit for one model at one IGQ_ISA level; yields
    ((model, engine, precision, batch, threads), best, median) with times in
    ms per image."""
    if name not in LIBIGQ_MODEL:
        return
    env = dict(os.environ, IGQ_ISA=isa)
    out = subprocess.run([args.libigq, "--model", LIBIGQ_MODEL[name],
                          "--exec", args.libigq_exec, "--min-seconds",
                          args.libigq_seconds],
                         env=env, check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    for line in out.splitlines():
        f = [c.strip() for c in line.strip().strip("|").split("|")]
        # | model | executor | weights MB | batch | threads | ms/batch med
        # | ms/image med | ms/image best | CPU ms/image |
        if len(f) != 9 or not f[3].isdigit():
            continue
        prec = f[1].replace("int ", "")
        yield ((name, "libigq %s" % isa, prec, int(f[3]), int(f[4])),
               float(f[7]), float(f[6]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="deit_s,vit_b16",
                    help="comma list of %s" % ",".join(MODELS))
    ap.add_argument("--engines", default="pytorch,ort")
    ap.add_argument("--precisions", default="fp32,int8")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=15,
                    help="timed runs at batch 1 (min and median reported)")
    ap.add_argument("--runs-batched", type=int, default=10,
                    help="timed runs at batch > 1")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--passes", type=int, default=2,
                    help="repeat the whole suite; runs of all passes are "
                         "pooled (spreads bursts of load from other jobs)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save", metavar="DIR",
                    help="write <model>.safetensors (timm names) to DIR")
    ap.add_argument("--onnx-dir", metavar="DIR",
                    help="keep the exported .onnx files here (default: temp)")
    ap.add_argument("--libigq", metavar="BENCH_VIT",
                    help="also time libigq in the same run: path to "
                         "build/bench/bench_vit, run once per pass, model and "
                         "ISA level right after the peers")
    ap.add_argument("--libigq-isa", default="avx512vnni,avx2",
                    help="IGQ_ISA levels bench_vit runs at")
    ap.add_argument("--libigq-exec", default="fp32,w8g1,w8g8,w4g1,w4g8",
                    help="bench_vit --exec list")
    ap.add_argument("--libigq-seconds", default="1",
                    help="bench_vit --min-seconds per configuration")
    ap.add_argument("--node", default=shutil.which("node") or "node")
    ap.add_argument("--ort-node-path",
                    default=os.environ.get("ORT_NODE_PATH",
                                           "/tmp/ortnode/node_modules"),
                    help="node_modules dir holding onnxruntime-node "
                         "(tools/node_modules is found without it)")
    args = ap.parse_args()

    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in MODELS:
            ap.error("unknown model %s" % m)
    engines = args.engines.split(",")
    precs = args.precisions.split(",")
    batches, threads = parse_list(args.batches), parse_list(args.threads)
    runs_for = lambda b: args.runs if b == 1 else args.runs_batched  # noqa

    torch.set_num_interop_threads(1)
    torch.backends.quantized.engine = "onednn"
    load_before = uptime()
    print("# %s" % load_before, file=sys.stderr)

    work = args.onnx_dir or tempfile.mkdtemp(prefix="bench_peers_")
    os.makedirs(work, exist_ok=True)
    g = torch.Generator().manual_seed(args.seed + 1)
    xmax = max(batches + [8])
    xall = torch.randn(xmax, 3, IMG, IMG, generator=g)
    inputs = {b: xall[:b].contiguous() for b in batches}
    input_file = os.path.join(work, "input.f32")
    with open(input_file, "wb") as f:
        f.write(xall.numpy().astype("<f4").tobytes())

    pt_models = {}   # (name, prec) -> module
    checks = []      # (model, engine, prec, logits)
    ort_jobs = []
    refs = {}
    for name in models:
        model = build(name, args.seed)
        if args.save:
            save_safetensors(model, name, args.save, args.seed)
        with torch.inference_mode():
            refs[name] = model(xall).numpy()
        if "pytorch" in engines:
            if "fp32" in precs:
                pt_models[(name, "fp32")] = model
            if "int8" in precs:
                qm = torch.ao.quantization.quantize_dynamic(
                    model, {nn.Linear}, dtype=torch.qint8)
                with torch.inference_mode():
                    checks.append((name, "PyTorch", "int8", qm(xall).numpy()))
                pt_models[(name, "int8")] = qm
        if "ort" in engines:
            for prec in precs:
                path = os.path.join(work, "%s_%s.onnx" % (name, prec))
                print("# export %s" % path, file=sys.stderr)
                export_onnx(model, path, prec == "int8")
                ort_jobs.append({"model": name, "precision": prec,
                                 "path": path, "batches": batches,
                                 "threads": threads, "runs": args.runs,
                                 "runs_batched": args.runs_batched,
                                 "warmup": args.warmup,
                                 "chw": [3, IMG, IMG], "check_batch": xmax})

    # times[(model, engine, prec, batch, threads)] = [ms per call, ...],
    # pooled over all passes; loads[same key] = 1-min loadavg at start.
    times, loads = {}, {}
    igq_times = {}  # libigq: key -> [(best, median) ms per image per pass]
    ort_version = None
    for p in range(args.passes):
        print("# pass %d/%d, %s" % (p + 1, args.passes, uptime()),
              file=sys.stderr)
        for (name, prec), m in pt_models.items():
            print("# pytorch %s %s" % (prec, name), file=sys.stderr)
            la = loadavg1()
            for (b, t), ts in time_torch(m, batches, threads, runs_for,
                                         args.warmup, inputs).items():
                key = (name, "PyTorch", prec, b, t)
                times.setdefault(key, []).extend(ts)
                loads.setdefault(key, []).append(la)
        if ort_jobs:
            print("# onnxruntime-node: %d sessions" % len(ort_jobs),
                  file=sys.stderr)
            for j in ort_jobs:
                j["check_batch"] = xmax if p == 0 else 0
            la = loadavg1()
            out = time_ort(ort_jobs, args.node,
                           os.path.join(HERE, "bench_peers_ort.js"),
                           args.ort_node_path, input_file, work)
            ort_version = out.get("version")
            for r in out["results"]:
                key = (r["model"], "ONNX Runtime", r["precision"],
                       r["batch"], r["threads"])
                times.setdefault(key, []).extend(r["times_ms"])
                loads.setdefault(key, []).append(la)
            import numpy as np
            for c in out["checks"]:
                y = np.fromfile(c["output_file"], dtype="<f4").reshape(
                    refs[c["model"]].shape)
                checks.append((c["model"], "ONNX Runtime", c["precision"], y))
        if args.libigq:
            for name in models:
                for isa in [i for i in args.libigq_isa.split(",") if i]:
                    print("# libigq %s %s" % (name, isa), file=sys.stderr)
                    la = loadavg1()
                    for key, best, med in time_libigq(args, name, isa):
                        igq_times.setdefault(key, []).append((best, med))
                        loads.setdefault(key, []).append(la)
    results = [k + (min(v) / k[3], statistics.median(v) / k[3], len(v))
               for k, v in times.items()]
    # libigq: bench_vit reports ms per image (best, median) per pass
    results += [k + (min(b for b, _ in v), statistics.median(m for _, m in v),
                     len(v)) for k, v in igq_times.items()]

    load_after = uptime()
    print("# %s" % load_after, file=sys.stderr)

    # ---- report ----
    import numpy as np
    print("Peers on this machine: random-weight timm-style ViTs, 224x224, "
          "ms per image (min and median of N timed runs after %d warm-up "
          "runs; N = %d at batch 1, %d at batch > 1, pooled over %d passes "
          "through the whole suite)."
          % (args.warmup, args.passes * args.runs,
             args.passes * args.runs_batched, args.passes))
    print()
    print("torch %s (quantized engine %s), onnxruntime-node %s, "
          "OPENBLAS_CORETYPE=%s OMP_WAIT_POLICY=%s"
          % (torch.__version__, torch.backends.quantized.engine,
             ort_version or "-", os.environ.get("OPENBLAS_CORETYPE"),
             os.environ.get("OMP_WAIT_POLICY")))
    print()
    print("CPU: %s, %d logical CPUs  " % (cpu_name(), os.cpu_count() or 0))
    print("load before: `%s`  " % load_before)
    print("load after:  `%s`" % load_after)
    print()
    print("| model | engine | precision | batch | threads | ms/image min "
          "| ms/image median | median / ORT int8 | load |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    order = {"PyTorch": 0, "ONNX Runtime": 1}
    ort8 = {(r[0], r[3], r[4]): r[6] for r in results
            if r[1] == "ONNX Runtime" and r[2] == "int8"}
    for r in sorted(results, key=lambda r: (models.index(r[0]),
                                            order.get(r[1], 2), r[1], r[3],
                                            r[4], r[2])):
        ld = loads[r[:5]]
        ref = ort8.get((r[0], r[3], r[4]))
        print("| %s | %s | %s | %d | %d | %.1f | %.1f | %s | %s |"
              % (PRETTY[r[0]], r[1], r[2], r[3], r[4], r[5], r[6],
                 "%.2f" % (r[6] / ref) if ref else "-",
                 " / ".join("%.1f" % v for v in ld)))
    print()
    print("load = 1-minute load average when each pass reached that engine "
          "(PyTorch: per model and precision; ORT: per node run). The "
          "machine has %d CPUs; anything well above the thread count means "
          "other jobs shared the cores, so trust min over median."
          % (os.cpu_count() or 0))
    if checks:
        print()
        print("Agreement with PyTorch fp32 logits (batch %d): "
              % xall.shape[0])
        print()
        print("| model | engine | precision | max abs diff | cosine "
              "| top-1 agreement |")
        print("|---|---|---|---:|---:|---:|")
        for name, eng, prec, y in checks:
            ref = refs[name]
            d = float(np.abs(y - ref).max())
            cos = float((y * ref).sum() / math.sqrt(
                float((y * y).sum()) * float((ref * ref).sum())))
            top = float((y.argmax(1) == ref.argmax(1)).mean())
            print("| %s | %s | %s | %.2e | %.6f | %.0f %% |"
                  % (PRETTY[name], eng, prec, d, cos, 100 * top))
    if not args.onnx_dir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

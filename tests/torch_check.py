#!/usr/bin/python3
"""PyTorch cross-check of the C engine (run by tests/torch_check.sh).

usage: torch_check.py DIR [DIR ...]

Each DIR (or each subdirectory of it that holds a dump.safetensors) comes from
tests/torch_dump.c: model.safetensors (our checkpoint) and dump.safetensors (inputs,
targets, our logits, loss and every parameter gradient as grad.<name>).

A GPT-2 written here from scratch (Conv1D-style (in, out) weights, LayerNorm eps 1e-5,
causal softmax(QK^T/sqrt(hs)) attention, tanh GELU, tied head) loads every tensor of the
checkpoint by its Hugging Face name, the config from __metadata__, runs in float64 and
compares:
    logits     max |ours - torch|                         <= 1e-4
    loss       |ours - torch| / |torch|                   <= 1e-5
    gradients  max |ours - torch| / max |torch| (per tensor) <= 1e-4

TORCH_CHECK_SELFTEST=1 also proves the check can fail: each of our gradients scaled by
1.001, one logit moved by 2e-4 and the loss scaled by 1 + 2e-5 must each be rejected.

The Hugging Face case (torch_check.py --hf-write DIR, then --hf-check DIR EMERGENT):
PyTorch writes a GPT-2 with random weights of a large scale (std 0.3) as Hugging Face
does (config.json, model.safetensors with "transformer." names, (in, out) Conv1D weights,
the h.{i}.attn.bias / masked_bias buffers, lm_head.weight tied to wte, {"format": "pt"}),
by hand when the safetensors package is absent; tests/torch_dump.c --hf loads it with our
foreign reader and writes the logits of one block; EMERGENT generate --prompt-ids --ids
decodes greedily far past the block size. Compared with torch (float64):
    logits     max |ours - torch| / max(1, max |torch|)  <= 1e-5
    greedy ids every id equal to the argmax of a fresh forward over the last
               block_size tokens (nanoGPT's and Hugging Face's rule)

Exit status: 0 pass, 1 failure, 2 usage or unreadable files, 77 torch/numpy missing (skip).
"""
import json
import math
import os
import struct
import sys

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # the runner counts 77 as "skipped"
    print(f"torch_check: SKIP: PyTorch/numpy not importable by {sys.executable} ({e})")
    sys.exit(77)

LOGITS_TOL = 1e-4
LOSS_REL_TOL = 1e-5
GRAD_REL_TOL = 1e-4


class CheckError(Exception):
    pass


# ---- safetensors, by hand ----------------------------------------------------------
DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
          "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}


def read_safetensors(path):
    """Returns ({name: (dtype, ndarray)}, {metadata key: value}), validating the layout."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise CheckError(f"{path}: {len(raw)} bytes, shorter than the 8-byte header length")
    (hlen,) = struct.unpack("<Q", raw[:8])
    if 8 + hlen > len(raw):
        raise CheckError(f"{path}: header length {hlen} runs past the file ({len(raw)} bytes)")
    try:
        header = json.loads(raw[8:8 + hlen].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckError(f"{path}: header is not JSON: {e}")
    data = raw[8 + hlen:]
    meta = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, e in header.items():
        dt = e.get("dtype")
        shape = e.get("shape")
        begin, end = e.get("data_offsets", (None, None))
        if dt == "BF16":
            np_dt = "<u2"
        elif dt in DTYPES:
            np_dt = DTYPES[dt]
        else:
            raise CheckError(f"{path}: {name}.dtype: unknown '{dt}'")
        n = int(np.prod(shape)) if shape else 1
        if not (0 <= begin <= end <= len(data)) or end - begin != n * np.dtype(np_dt).itemsize:
            raise CheckError(f"{path}: {name}.data_offsets [{begin}, {end}] do not fit "
                             f"dtype {dt} shape {shape} in {len(data)} data bytes")
        a = np.frombuffer(data, dtype=np_dt, count=n, offset=begin).reshape(shape).copy()
        if dt == "BF16":
            a = (a.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = (dt, a)
    return tensors, meta


# ---- GPT-2, from scratch -----------------------------------------------------------
class Conv1D(nn.Module):
    """GPT-2's linear layer: weight stored (in, out), y = x @ W + b."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


class LayerNorm(nn.Module):
    def __init__(self, n, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = nn.Parameter(torch.zeros(n))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        var = ((x - mean) ** 2).mean(-1, keepdim=True)  # biased, as GPT-2's
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


class Attention(nn.Module):
    def __init__(self, C, NH):
        super().__init__()
        self.NH = NH
        self.c_attn = Conv1D(C, 3 * C)
        self.c_proj = Conv1D(C, C)

    def forward(self, x):
        B, T, C = x.shape
        NH, HS = self.NH, C // self.NH
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, NH, HS).transpose(1, 2) for t in (q, k, v))  # (B, NH, T, HS)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(HS)
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        att = att.masked_fill(~causal, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.c_fc = Conv1D(C, 4 * C)
        self.c_proj = Conv1D(4 * C, C)

    def forward(self, x):
        return self.c_proj(gelu_tanh(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, C, NH):
        super().__init__()
        self.ln_1 = LayerNorm(C)
        self.attn = Attention(C, NH)
        self.ln_2 = LayerNorm(C)
        self.mlp = MLP(C)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """State-dict names are those of Hugging Face GPT2LMHeadModel (lm_head tied to wte)."""

    def __init__(self, V, maxT, L, NH, C):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(V, C),
            wpe=nn.Embedding(maxT, C),
            h=nn.ModuleList([Block(C, NH) for _ in range(L)]),
            ln_f=LayerNorm(C),
        ))

    def forward(self, idx, targets):
        B, T = idx.shape
        tr = self.transformer
        x = tr.wte(idx) + tr.wpe(torch.arange(T))
        for block in tr.h:
            x = block(x)
        logits = tr.ln_f(x) @ tr.wte.weight.t()  # tied head
        loss = F.cross_entropy(logits.reshape(B * T, -1), targets.reshape(-1), ignore_index=-1)
        return logits, loss


def load_model(path):
    tensors, meta = read_safetensors(path)
    keys = {"vocab_size": "vocab_size", "n_positions": "block_size", "n_layer": "n_layer",
            "n_head": "n_head", "n_embd": "n_embd"}
    cfg = {}
    for k, field in keys.items():
        v = meta.get(k)
        if v is None or not str(v).isdigit():
            raise CheckError(f"{path}: __metadata__.{k}: expected a decimal integer, got {v!r}")
        cfg[field] = int(v)
    model = GPT(cfg["vocab_size"], cfg["block_size"], cfg["n_layer"], cfg["n_head"], cfg["n_embd"])
    model = model.double()
    sd = model.state_dict()
    missing = [n for n in sd if n not in tensors]
    extra = [n for n in tensors if n not in sd]
    if missing or extra:
        raise CheckError(f"{path}: missing tensors {missing}, unexpected tensors {extra}")
    with torch.no_grad():
        for name, p in model.named_parameters():
            dt, a = tensors[name]
            if dt != "F32" or tuple(a.shape) != tuple(p.shape):
                raise CheckError(f"{path}: {name}: expected F32 {tuple(p.shape)}, "
                                 f"got {dt} {tuple(a.shape)}")
            p.copy_(torch.from_numpy(a.astype(np.float64)))
    return model, cfg


# ---- the comparison --------------------------------------------------------------
def compare(ours, ref):
    """ours: {'logits', 'loss', 'grads': {name: array}}; ref: the same from torch.
    Returns (rows, ok); a row is (what, shape, max|torch|, max abs diff, error, tol, ok)."""
    rows = []
    d = float(np.abs(ours["logits"] - ref["logits"]).max())
    rows.append(("logits", ref["logits"].shape, float(np.abs(ref["logits"]).max()), d, d,
                 LOGITS_TOL, d <= LOGITS_TOL))
    d = abs(ours["loss"] - ref["loss"])
    rel = d / abs(ref["loss"])
    rows.append(("loss", (1,), abs(ref["loss"]), d, rel, LOSS_REL_TOL, rel <= LOSS_REL_TOL))
    for name, g in ref["grads"].items():
        mx = float(np.abs(g).max())
        d = float(np.abs(ours["grads"][name] - g).max())
        rel = d / mx if mx > 0 else (0.0 if d == 0 else math.inf)
        rows.append(("grad " + name, g.shape, mx, d, rel, GRAD_REL_TOL, rel <= GRAD_REL_TOL))
    return rows, all(r[-1] for r in rows)


def print_table(rows):
    print("  error: logits max-abs; loss relative; gradients max-abs / max|torch| of the tensor")
    print(f"  {'tensor':<44} {'shape':<12} {'max|torch|':>11} {'max|diff|':>11} "
          f"{'error':>10} {'tol':>7}")
    for what, shape, mx, d, err, tol, ok in rows:
        shp = "x".join(str(s) for s in shape)
        print(f"  {what:<44} {shp:<12} {mx:11.4e} {d:11.3e} {err:10.3e} {tol:7.0e}"
              f"{'' if ok else '  FAIL'}")


def self_test(ours, ref):
    """Each perturbation of our results must be rejected; returns the ones that were not."""
    escaped = []
    for name in ref["grads"]:
        if not np.abs(ours["grads"][name]).max() > 0:
            continue  # scaling zeros changes nothing
        bad = dict(ours, grads=dict(ours["grads"]))
        bad["grads"][name] = ours["grads"][name] * 1.001
        if compare(bad, ref)[1]:
            escaped.append(f"grad {name} x 1.001")
    bad = dict(ours, logits=ours["logits"].copy())
    bad["logits"].flat[bad["logits"].size // 2] += 2e-4
    if compare(bad, ref)[1]:
        escaped.append("one logit + 2e-4")
    if compare(dict(ours, loss=ours["loss"] * (1 + 2e-5)), ref)[1]:
        escaped.append("loss x (1 + 2e-5)")
    return escaped


def check_dir(d, selftest):
    model, cfg = load_model(os.path.join(d, "model.safetensors"))
    dump, meta = read_safetensors(os.path.join(d, "dump.safetensors"))
    for k in ("inputs", "targets", "logits", "loss"):
        if k not in dump:
            raise CheckError(f"{d}/dump.safetensors: tensor '{k}' missing")
    inputs = torch.from_numpy(dump["inputs"][1].astype(np.int64))
    targets = torch.from_numpy(dump["targets"][1].astype(np.int64))
    B, T = inputs.shape
    n_valid = int((targets >= 0).sum())
    label = meta.get("case", os.path.basename(d.rstrip("/")))
    print(f"{label}: V={cfg['vocab_size']} block={cfg['block_size']} L={cfg['n_layer']} "
          f"NH={cfg['n_head']} C={cfg['n_embd']}  batch {B}x{T}, {n_valid}/{B * T} targets valid")

    model.zero_grad()
    logits, loss = model(inputs, targets)
    ref_logits = logits.detach().numpy().copy()
    loss.backward()
    ref = {"logits": ref_logits, "loss": float(loss), "grads": {}}
    ours = {"logits": dump["logits"][1].astype(np.float64),
            "loss": float(dump["loss"][1].reshape(-1)[0]), "grads": {}}
    if ours["logits"].shape != ref_logits.shape:
        raise CheckError(f"{d}: logits shape {ours['logits'].shape}, torch {ref_logits.shape}")
    names = [n for n, _ in model.named_parameters()]
    extra = [k for k in dump if k.startswith("grad.") and k[5:] not in names]
    if extra:
        raise CheckError(f"{d}/dump.safetensors: gradients of unknown tensors {extra}")
    for name, p in model.named_parameters():
        if "grad." + name not in dump:
            raise CheckError(f"{d}/dump.safetensors: grad.{name} missing")
        g = dump["grad." + name][1]
        if g.shape != tuple(p.shape):
            raise CheckError(f"{d}: grad.{name} shape {g.shape}, expected {tuple(p.shape)}")
        ours["grads"][name] = g.astype(np.float64)
        ref["grads"][name] = p.grad.numpy().copy()

    rows, ok = compare(ours, ref)
    print_table(rows)
    worst = max(rows[2:], key=lambda r: r[4])
    print(f"  logits max-abs {rows[0][4]:.3e}, loss rel {rows[1][4]:.3e}, "
          f"worst gradient {worst[0][5:]} {worst[4]:.3e}: {'ok' if ok else 'FAIL'}")
    if selftest:
        escaped = self_test(ours, ref)
        if escaped:
            print(f"  self-test FAIL: the check accepted perturbed results: {escaped}")
            ok = False
        else:
            print(f"  self-test ok: all {len(ref['grads'])} gradients scaled by 1.001, one logit "
                  f"+2e-4 and the loss x (1+2e-5) were each rejected")
    return ok


# ---- the Hugging Face case ----------------------------------------------------------
HF_CFG = dict(vocab_size=61, n_positions=16, n_layer=3, n_head=4, n_embd=32)
HF_PROMPT = [5, 17, 33, 2, 40]
HF_NEW = 40  # the prompt and 40 new ids: 45 positions, almost three blocks
HF_LOGITS_TOL = 1e-5


def write_safetensors(path, tensors, metadata):
    """tensors: [(name, ndarray)] written in order, as the safetensors package lays them out."""
    codes = {np.dtype("<f4"): "F32", np.dtype("<f2"): "F16", np.dtype("bool"): "BOOL",
             np.dtype("<i4"): "I32"}
    header, blobs, off = {"__metadata__": metadata}, [], 0
    for name, a in tensors:
        a = np.ascontiguousarray(a)
        b = a.tobytes()
        header[name] = {"dtype": codes[a.dtype], "shape": list(a.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    os.replace(tmp, path)


def hf_model():
    c = HF_CFG
    torch.manual_seed(1234)
    model = GPT(c["vocab_size"], c["n_positions"], c["n_layer"], c["n_head"], c["n_embd"])
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or \
                    name.endswith("ln_f.weight"):
                p.copy_(1.0 + 0.3 * torch.randn_like(p))
            else:
                p.copy_(0.3 * torch.randn_like(p))
    return model


def hf_write(d):
    os.makedirs(d, exist_ok=True)
    model, c = hf_model(), HF_CFG
    sd = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    sd["lm_head.weight"] = sd["transformer.wte.weight"]  # tied, saved as both
    T = c["n_positions"]
    mask = np.tril(np.ones((T, T), dtype=bool)).reshape(1, 1, T, T)
    for i in range(c["n_layer"]):
        sd[f"transformer.h.{i}.attn.bias"] = mask
        sd[f"transformer.h.{i}.attn.masked_bias"] = np.array(-1e4, dtype="<f4")
    path = os.path.join(d, "model.safetensors")
    try:
        from safetensors.numpy import save_file
        save_file(sd, path, metadata={"format": "pt"})
        how = "the safetensors package"
    except ImportError:
        write_safetensors(path, sorted(sd.items()), {"format": "pt"})
        how = "by hand (no safetensors package)"
    cfg = dict(architectures=["GPT2LMHeadModel"], model_type="gpt2", n_ctx=T, n_inner=None,
               activation_function="gelu_new", layer_norm_epsilon=1e-5,
               scale_attn_weights=True, tie_word_embeddings=True, **c)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    print(f"hf: wrote {path} ({how}), std 0.3 weights, config {c}")
    return 0


def hf_check(d, emergent):
    import subprocess
    model, c = hf_model(), HF_CFG
    model = model.double()
    ours, _ = read_safetensors(os.path.join(d, "ours.safetensors"))
    inputs = torch.from_numpy(ours["inputs"][1].astype(np.int64))
    targets = torch.full_like(inputs, -1)
    targets[0, 0] = 0
    with torch.no_grad():
        ref, _ = model(inputs, targets)
    ref = ref.numpy()
    got = ours["logits"][1].astype(np.float64)
    if got.shape != ref.shape:
        raise CheckError(f"{d}: logits shape {got.shape}, torch {ref.shape}")
    mx = float(np.abs(ref).max())
    err = float(np.abs(got - ref).max()) / max(1.0, mx)
    ok = err <= HF_LOGITS_TOL
    print(f"hf: logits of {inputs.shape[1]} positions: max|torch| {mx:.3f}, max-abs diff / "
          f"max(1, max|torch|) {err:.3e} (tol {HF_LOGITS_TOL:.0e}): {'ok' if ok else 'FAIL'}")

    cmd = [emergent, "generate", "--model", d, "--prompt-ids", ",".join(map(str, HF_PROMPT)),
           "--ids", "--temperature", "0", "--max-new", str(HF_NEW)]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise CheckError(f"{' '.join(cmd)}: exit {run.returncode}: {run.stderr.strip()}")
    ids = [int(x) for x in run.stdout.strip().split(",")]
    if ids[:len(HF_PROMPT)] != HF_PROMPT or len(ids) != len(HF_PROMPT) + HF_NEW:
        raise CheckError(f"generate printed {len(ids)} ids, expected the prompt and {HF_NEW}")
    T, bad, past, margin = c["n_positions"], [], 0, math.inf
    with torch.no_grad():
        for t in range(len(HF_PROMPT), len(ids)):
            window = torch.tensor([ids[max(0, t - T):t]])
            lg, _ = model(window, torch.full_like(window, -1).index_fill_(1, torch.tensor([0]), 0))
            row = lg[0, -1].numpy()
            top = np.argsort(row)[::-1]
            margin = min(margin, float(row[top[0]] - row[top[1]]))
            past += t >= T
            if int(top[0]) != ids[t]:
                bad.append(t)
    ok_ids = not bad
    print(f"hf: greedy ids: {len(ids) - len(HF_PROMPT) - len(bad)}/{HF_NEW} equal the argmax of "
          f"torch over the last {T} tokens ({past} of them past the block size), smallest "
          f"top-1/top-2 margin {margin:.3f}: {'ok' if ok_ids else 'FAIL at positions ' + str(bad)}")
    return ok and ok_ids


def main(argv):
    if len(argv) >= 3 and argv[1] == "--hf-write":
        return hf_write(argv[2])
    if len(argv) >= 4 and argv[1] == "--hf-check":
        try:
            ok = hf_check(argv[2], argv[3])
        except (CheckError, OSError) as e:
            print(f"torch_check: error: {e}")
            return 2
        print("torch_check hf: " + ("PASS" if ok else "FAIL"))
        return 0 if ok else 1
    if len(argv) < 2:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    torch.manual_seed(0)
    torch.set_num_threads(min(4, os.cpu_count() or 1))
    selftest = os.environ.get("TORCH_CHECK_SELFTEST", "") not in ("", "0")
    dirs = []
    for d in argv[1:]:
        if os.path.exists(os.path.join(d, "dump.safetensors")):
            dirs.append(d)
        elif os.path.isdir(d):
            dirs += sorted(os.path.join(d, s) for s in os.listdir(d)
                           if os.path.exists(os.path.join(d, s, "dump.safetensors")))
    if not dirs:
        print(f"torch_check: no dump.safetensors under {argv[1:]}", file=sys.stderr)
        return 2
    print(f"torch_check: torch {torch.__version__}, float64 reference")
    ok = True
    for d in dirs:
        try:
            ok = check_dir(d, selftest) and ok
        except (CheckError, OSError) as e:
            print(f"torch_check: error: {e}")
            return 2
    print("torch_check: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

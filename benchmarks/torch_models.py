"""Plain PyTorch forward passes of the shipped RnaLm families, for side-by-side benchmarks.

A model is read from a checkpoint folder (config.json + model.safetensors, as `rnalm` writes them) and the family's spec
(Definitions/<family>.model.json), which says which kind fills each slot. The code below implements those kinds the way
MultiMolecule's eager PyTorch models do (explicit scores, masks and softmax), written from the semantics in
../shared/reference/*.md, so that the benchmark compares the generated TorchSharp models with ordinary PyTorch.

Only what a masked-LM forward needs is here: embeddings, encoder, pooler (when stored), MLM head. It runs under
torch.inference_mode(). `check.py` verifies it against the reference outputs of the fixtures.
"""

import json
import math
import struct

import numpy as np
import torch
import torch.nn.functional as F

_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def load_safetensors(path):
    """Every tensor of a safetensors file, as CPU torch tensors."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=_DTYPES[info["dtype"]]).reshape(info["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors


def _activation(name):
    return {
        "gelu": F.gelu,
        "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
        "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
        "relu": F.relu,
        "silu": F.silu,
        "swish": F.silu,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
    }[name]


def _kind(slot, default=None):
    """A slot written as a kind name or as an object with "kind"."""
    if slot is None:
        return default, {}
    if isinstance(slot, str):
        return slot, {}
    return slot.get("kind", default), slot


def _switch(value, config, default):
    """A spec switch: a boolean, or {"config": key, "default": bool} read from config.json."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return bool(config.get(value["config"], value.get("default", default)))


class TorchModel:
    def __init__(self, spec, config, weights):
        self.spec, self.config, self.w = spec, config, weights
        self.prefix = spec["checkpoint"]["prefix"]
        self.h = config["hidden_size"]
        self.heads = config["num_attention_heads"]
        self.d = self.h // self.heads
        self.layers = config["num_hidden_layers"]
        self.eps = config.get("layer_norm_eps", spec["norm"]["eps"])
        self.norm_kind, norm = _kind(spec["norm"], "layer_norm")
        self.final_norm = norm.get("final")
        self.layer_kind, _ = _kind(spec.get("layer"), "post_norm")
        self.position_kind, self.position = _kind(spec["position"])
        embeddings = spec.get("embeddings", {})
        token_type = embeddings.get("token_type", {"size": 2, "added": True}) if "token_type" in embeddings else {"size": 2, "added": True}
        self.token_type_added = token_type is not None and token_type.get("added", True)
        self.embed_norm = _switch(embeddings.get("layer_norm"), config, True)
        self.token_dropout = _switch(embeddings.get("token_dropout"), config, False)
        self.zero_pad = embeddings.get("zero_pad", False)
        attention = spec.get("attention", {})
        self.softmax = attention.get("softmax", "keys")
        self.pair_prior = (attention.get("biases") or {}).get("pair_prior")
        self.ffn_kind, self.ffn = _kind(spec["feed_forward"], "mlp")
        self.act = _activation(config.get("hidden_act", self.ffn.get("activation", "gelu")))
        self.pad = config.get("pad_token_id", 0)
        self.mask_id = config.get("mask_token_id", 4)
        lm = config.get("lm_head") or {}
        mlm = spec.get("mlm_head", {})
        lm_act = lm.get("transform_act") or mlm.get("transform_activation", "gelu")
        self.lm_act = _activation(config["hidden_act"] if lm_act == "hidden_act" else lm_act)
        lm_eps = lm.get("layer_norm_eps", mlm.get("layer_norm_eps", 1e-12))
        self.lm_eps = self.eps if lm_eps == "layer_norm_eps" else lm_eps
        self.rotary = None
        if self.position_kind == "rotary":
            dim = self.position.get("dim", "head_size")
            self.rotary_dim = self.d if dim == "head_size" else int(dim)
            self.interleaved = self.position.get("interleaved", True)
            base = self.position.get("base", 10000)
            self.rotary = base ** (-torch.arange(0, self.rotary_dim, 2, dtype=torch.float32) / self.rotary_dim)

    def p(self, key):
        return self.w[f"{self.prefix}.{key}"]

    def linear(self, x, key, bias=True):
        weight = self.w[key + ".weight"]
        b = self.w.get(key + ".bias") if bias else None
        return F.linear(x, weight, b)

    def norm(self, x, key, eps=None):
        eps = self.eps if eps is None else eps
        if self.norm_kind == "rms_norm":
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * self.w[key + ".weight"]
        return F.layer_norm(x, (x.shape[-1],), self.w[key + ".weight"], self.w.get(key + ".bias"), eps)

    # ------------------------------------------------------------------ embeddings

    def _sinusoid(self, positions):
        half = self.h // 2
        step = math.log(10000.0) / (half - 1)
        frequencies = torch.exp(torch.arange(half, dtype=torch.float32) * -step)
        rows = int(positions.max()) + 1
        angles = torch.arange(rows, dtype=torch.float32).unsqueeze(1) * frequencies.unsqueeze(0)
        table = torch.cat([angles.sin(), angles.cos()], 1)
        if self.h % 2 == 1:
            table = torch.cat([table, torch.zeros(rows, 1)], 1)
        if 0 <= self.pad < rows:
            table[self.pad] = 0
        return table[positions]

    def embeddings(self, ids, mask):
        x = F.embedding(ids, self.p("embeddings.word_embeddings.weight"))
        if self.token_dropout:
            is_mask = ids.eq(self.mask_id)
            x = x.masked_fill(is_mask.unsqueeze(-1), 0.0)
            ratio = is_mask.sum(1).float() / mask.sum(1).clamp_min(1).float()
            x = x * (1.0 - 0.15 * 0.8) / (1.0 - ratio).view(-1, 1, 1)
        padding_aware = None
        if self.position_kind in ("offset_learned", "sinusoidal"):
            real = ids.ne(self.pad).long()
            padding_aware = real.cumsum(1) * real + self.pad + self.position.get("offset", 1)
        if self.position_kind == "learned":
            x = x + self.p("embeddings.position_embeddings.weight")[: ids.shape[1]].unsqueeze(0)
        elif self.position_kind == "offset_learned":
            x = x + F.embedding(padding_aware, self.p("embeddings.position_embeddings.weight"))
        elif self.position_kind == "sinusoidal":
            positions = padding_aware if self.position.get("padding_aware", True) else None
            x = x + self._sinusoid(positions).to(x.dtype)
        if self.token_type_added and f"{self.prefix}.embeddings.token_type_embeddings.weight" in self.w:
            x = x + self.p("embeddings.token_type_embeddings.weight")[0]
        if self.embed_norm:
            x = self.norm(x, f"{self.prefix}.embeddings.layer_norm")
        if self.zero_pad:
            x = x * mask.unsqueeze(-1).to(x.dtype)
        return x

    # ------------------------------------------------------------------ attention

    def _rotate(self, x, freqs):
        length = x.shape[2]
        r = freqs.shape[0] * 2
        angles = torch.arange(length, dtype=torch.float32).unsqueeze(1) * freqs.unsqueeze(0)
        rot = x[..., :r]
        if self.interleaved:
            angles = angles.repeat_interleave(2, 1)
            pairs = rot.reshape(*rot.shape[:-1], r // 2, 2)
            turned = torch.stack([-pairs[..., 1], pairs[..., 0]], -1).reshape(rot.shape)
        else:
            angles = torch.cat([angles, angles], 1)
            turned = torch.cat([-rot[..., r // 2:], rot[..., : r // 2]], -1)
        out = rot * angles.cos() + turned * angles.sin()
        return torch.cat([out, x[..., r:]], -1) if r < x.shape[-1] else out

    def attention(self, x, layer, masks, bias):
        key = f"{self.prefix}.encoder.layer.{layer}.attention.self"
        b, length, _ = x.shape

        def heads(t):
            return t.view(b, length, self.heads, self.d).transpose(1, 2)

        q = heads(self.linear(x, key + ".query"))
        k = heads(self.linear(x, key + ".key"))
        v = heads(self.linear(x, key + ".value"))
        if self.rotary is not None:
            freqs = self.w.get(key + ".rotary_embeddings.freqs", self.rotary)
            q, k = self._rotate(q, freqs), self._rotate(k, freqs)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.d)
        if self.softmax == "keys":
            if masks is not None:
                scores = scores + masks
            if bias is not None:
                scores = scores + bias
            probabilities = scores.softmax(-1)
        else:
            rows, pairs = masks if masks is not None else (None, None)
            if rows is not None:
                scores = scores + rows
            probabilities = scores.softmax(-2)
            if pairs is not None:
                probabilities = probabilities * pairs
        context = torch.matmul(probabilities, v).transpose(1, 2).reshape(b, length, self.h)
        return context, scores

    # ------------------------------------------------------------------ layers

    def feed_forward(self, x, layer):
        key = f"{self.prefix}.encoder.layer.{layer}"
        if self.ffn_kind == "mlp":
            return self.linear(self.act(self.linear(x, key + ".intermediate.dense")), key + ".output.dense")
        if self.ffn_kind == "gated":
            u = self.linear(x, key + ".intermediate.linear")
            if self.ffn.get("gate") == "swish_beta":
                gated = u * torch.sigmoid(self.w[key + ".intermediate.bias"] * u)
            else:
                gated = self.act(u)
            return self.linear(gated * self.linear(x, key + ".intermediate.linear_gate"), key + ".output.dense")
        value, gate = self.linear(x, key + ".intermediate.dense").chunk(2, -1)
        return self.linear(value * self.act(gate), key + ".output.dense")

    def layer(self, x, i, masks, bias):
        key = f"{self.prefix}.encoder.layer.{i}"
        if self.layer_kind == "post_norm":
            context, logits = self.attention(x, i, masks, bias)
            a = self.norm(self.linear(context, key + ".attention.output.dense") + x, key + ".attention.output.layer_norm")
            y = self.norm(self.feed_forward(a, i) + a, key + ".output.layer_norm")
        elif self.layer_kind == "pre_norm":
            context, logits = self.attention(self.norm(x, key + ".attention.layer_norm"), i, masks, bias)
            a = x + self.linear(context, key + ".attention.output.dense")
            y = a + self.feed_forward(self.norm(a, key + ".layer_norm"), i)
        else:  # pre_norm_normed_residual: the residual starts at the normed input
            normed = self.norm(x, key + ".attention.layer_norm")
            context, logits = self.attention(normed, i, masks, bias)
            a = self.linear(context, key + ".attention.output.dense") + normed
            y = self.feed_forward(self.norm(a, key + ".layer_norm"), i) + a
        return y, logits

    def pair_bias(self, ids):
        vocab = self.config["vocab_size"]
        table = torch.zeros(vocab, vocab)
        letters = {t: i for i, t in enumerate(self.vocabulary)}
        alpha = self.config.get("pairwise_alpha", self.pair_prior.get("alpha", 0.8))
        for x, y, value in (("A", "U", 2.0), ("C", "G", 3.0), ("G", "U", alpha)):
            table[letters[x], letters[y]] = table[letters[y], letters[x]] = value
        pairs = table[ids.unsqueeze(2), ids.unsqueeze(1)].unsqueeze(-1)  # [B, L, L, 1]
        act = _activation(self.pair_prior.get("activation", "gelu"))
        hidden = act(self.linear(pairs, f"{self.prefix}.pairwise_bias_proj.dense1"))
        return self.linear(hidden, f"{self.prefix}.pairwise_bias_proj.dense2").permute(0, 3, 1, 2)

    def forward(self, ids, mask):
        x = self.embeddings(ids, mask)
        masks = None
        if not bool(mask.bool().all()):
            minimum = torch.finfo(x.dtype).min
            if self.softmax == "keys":
                masks = (1.0 - mask.float())[:, None, None, :] * minimum
            else:
                real = mask.float()
                masks = ((1.0 - real)[:, None, :, None] * minimum, (real.unsqueeze(2) * real.unsqueeze(1)).unsqueeze(1))
        bias = self.pair_bias(ids) if self.pair_prior is not None else None
        for i in range(self.layers):
            x, logits = self.layer(x, i, masks, bias)
            if self.pair_prior is not None:
                bias = logits
        if self.final_norm:
            x = self.norm(x, f"{self.prefix}.encoder.{self.final_norm}")
        if f"{self.prefix}.pooler.dense.weight" in self.w:
            torch.tanh(self.linear(x[:, 0], f"{self.prefix}.pooler.dense"))
        t = self.lm_act(self.linear(x, "lm_head.transform.dense"))
        t = F.layer_norm(t, (self.h,), self.w["lm_head.transform.layer_norm.weight"], self.w["lm_head.transform.layer_norm.bias"], self.lm_eps)
        decoder = self.w.get("lm_head.decoder.weight", self.p("embeddings.word_embeddings.weight"))
        return x, F.linear(t, decoder, self.w.get("lm_head.bias"))


def load(checkpoint, spec_path):
    """The TorchModel of a checkpoint folder and its family's spec file."""
    with open(f"{checkpoint}/config.json") as f:
        config = json.load(f)
    with open(spec_path) as f:
        spec = json.load(f)
    model = TorchModel(spec, config, load_safetensors(f"{checkpoint}/model.safetensors"))
    with open(f"{checkpoint}/vocab.txt") as f:
        model.vocabulary = [line.rstrip("\n") for line in f]
    return model

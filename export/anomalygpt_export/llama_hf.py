"""A Llama decoder in PyTorch with Hugging Face `LlamaForCausalLM` state-dict names, written here
because `transformers` is not installed (SPEC §8: Vicuna-7B v0 arrives as HF shards).

- Keys: model.embed_tokens, model.layers.{i}.self_attn.{q,k,v,o}_proj, .mlp.{gate,up,down}_proj,
  .input_layernorm, .post_attention_layernorm, model.norm, lm_head (all Linear without bias).
- RoPE as HF's `rotate_half`: channel i pairs with i + head_dim/2 (RopeLayout 'half' in
  src/vlm/llm/llm-interface.ts), cos/sin tables gathered by position_ids the way HF caches them.
- RMSNorm eps from config.json (Vicuna: 1e-6, not llama2.c's 1e-5).
- `forward` implements the ONNX interface directly: inputs_embeds, attention_mask, position_ids
  and a per-layer (key, value) cache stored after RoPE → logits and the grown cache.
Loading the HF shards: hf_checkpoint.py.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

@dataclass(frozen=True)
class LlamaConfig:
    hidden_size: int = 4096
    intermediate_size: int = 11008
    num_hidden_layers: int = 32
    num_attention_heads: int = 32
    num_key_value_heads: int = 32
    vocab_size: int = 32000
    max_position_embeddings: int = 2048
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @staticmethod
    def from_hf_json(path: str) -> 'LlamaConfig':
        with open(path, encoding='utf-8') as f:
            c = json.load(f)
        heads = int(c['num_attention_heads'])
        return LlamaConfig(
            hidden_size=int(c['hidden_size']),
            intermediate_size=int(c['intermediate_size']),
            num_hidden_layers=int(c['num_hidden_layers']),
            num_attention_heads=heads,
            num_key_value_heads=int(c.get('num_key_value_heads') or heads),
            vocab_size=int(c['vocab_size']),
            max_position_embeddings=int(c.get('max_position_embeddings') or c.get('max_sequence_length') or 2048),
            rms_norm_eps=float(c['rms_norm_eps']),
            rope_theta=float(c.get('rope_theta', 10000.0)),
        )

    @staticmethod
    def from_dict(d: dict[str, Any]) -> 'LlamaConfig':
        """Short names (as in the LLM manifest) or HF names; unknown keys are an error."""
        alias = {'hidden': 'hidden_size', 'intermediate': 'intermediate_size', 'layers': 'num_hidden_layers',
                 'heads': 'num_attention_heads', 'kvHeads': 'num_key_value_heads', 'vocab': 'vocab_size',
                 'vocabSize': 'vocab_size', 'context': 'max_position_embeddings',
                 'contextLength': 'max_position_embeddings', 'rmsNormEps': 'rms_norm_eps', 'ropeTheta': 'rope_theta'}
        fields = set(LlamaConfig.__dataclass_fields__)
        out: dict[str, Any] = {}
        for k, v in d.items():
            name = alias.get(k, k)
            if name not in fields:
                raise ValueError(f'unknown LLM config key {k!r}; known: {sorted(fields | set(alias))}')
            out[name] = v
        if 'num_key_value_heads' not in out and 'num_attention_heads' in out:
            out['num_key_value_heads'] = out['num_attention_heads']
        return LlamaConfig(**out)

    def to_manifest(self, rope_layout: str = 'half') -> dict[str, Any]:
        """The `config` block of src/vlm/llm/llm-manifest.ts."""
        return {'hidden': self.hidden_size, 'intermediate': self.intermediate_size, 'layers': self.num_hidden_layers,
                'heads': self.num_attention_heads, 'kvHeads': self.num_key_value_heads, 'headDim': self.head_dim,
                'vocabSize': self.vocab_size, 'contextLength': self.max_position_embeddings,
                'rmsNormEps': self.rms_norm_eps, 'ropeTheta': self.rope_theta, 'ropeLayout': rope_layout}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Rotary(nn.Module):
    """HF LlamaRotaryEmbedding: inv_freq = 1/θ^(2i/d), tables cat(freqs, freqs) over max positions."""

    def __init__(self, head_dim: int, max_pos: int, theta: float):
        super().__init__()
        inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2).float() / head_dim))
        t = torch.arange(max_pos, dtype=torch.float32)
        freqs = torch.einsum('i,j->ij', t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer('inv_freq', inv_freq, persistent=False)
        self.register_buffer('cos', emb.cos(), persistent=False)
        self.register_buffer('sin', emb.sin(), persistent=False)

    def forward(self, position_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # [B, S] → [B, 1, S, head_dim], broadcast over heads.
        return self.cos[position_ids].unsqueeze(1), self.sin[position_ids].unsqueeze(1)


class Attention(nn.Module):
    def __init__(self, c: LlamaConfig):
        super().__init__()
        self.h, self.kv, self.d = c.num_attention_heads, c.num_key_value_heads, c.head_dim
        self.q_proj = nn.Linear(c.hidden_size, self.h * self.d, bias=False)
        self.k_proj = nn.Linear(c.hidden_size, self.kv * self.d, bias=False)
        self.v_proj = nn.Linear(c.hidden_size, self.kv * self.d, bias=False)
        self.o_proj = nn.Linear(self.h * self.d, c.hidden_size, bias=False)

    def forward(self, x, cos, sin, allowed, past_k, past_v):
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, self.h, self.d).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.kv, self.d).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.kv, self.d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # The cache holds keys after RoPE (llm-interface.ts), so old positions are never rotated again.
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        kk, vv = k, v
        if self.kv != self.h:
            # HF repeat_kv: query head j uses kv head j // rep. expand/reshape with -1 keeps the
            # cache length dynamic in the ONNX trace (repeat_interleave froze it to the trace's).
            rep = self.h // self.kv
            kk = k.unsqueeze(2).expand(-1, -1, rep, -1, -1).reshape(b, self.h, -1, self.d)
            vv = v.unsqueeze(2).expand(-1, -1, rep, -1, -1).reshape(b, self.h, -1, self.d)
        scores = torch.matmul(q, kk.transpose(2, 3)) / math.sqrt(self.d)
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
        probs = torch.softmax(scores, dim=-1)
        out = torch.matmul(probs, vv).transpose(1, 2).reshape(b, s, self.h * self.d)
        return self.o_proj(out), k, v


class Mlp(nn.Module):
    def __init__(self, c: LlamaConfig):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(nn.functional.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, c: LlamaConfig):
        super().__init__()
        self.self_attn = Attention(c)
        self.mlp = Mlp(c)
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)

    def forward(self, x, cos, sin, allowed, past_k, past_v):
        a, k, v = self.self_attn(self.input_layernorm(x), cos, sin, allowed, past_k, past_v)
        x = x + a
        return x + self.mlp(self.post_attention_layernorm(x)), k, v


class LlamaModel(nn.Module):
    def __init__(self, c: LlamaConfig):
        super().__init__()
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList([DecoderLayer(c) for _ in range(c.num_hidden_layers)])
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)


class LlamaForCausalLM(nn.Module):
    def __init__(self, c: LlamaConfig):
        super().__init__()
        self.config = c
        self.model = LlamaModel(c)
        self.lm_head = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
        self.rotary = Rotary(c.head_dim, c.max_position_embeddings, c.rope_theta)

    def empty_cache(self, dtype=torch.float32) -> list[tuple[torch.Tensor, torch.Tensor]]:
        c = self.config
        z = torch.zeros(1, c.num_key_value_heads, 0, c.head_dim, dtype=dtype)
        return [(z, z) for _ in range(c.num_hidden_layers)]

    def forward(self, inputs_embeds, attention_mask, position_ids, past):
        """inputs_embeds [1,S,H], attention_mask int64 [1,T], position_ids int64 [1,S],
        past: list of (key, value) [1,kv,P,d] → (logits [1,S,V], list of (key, value) [1,kv,T,d])."""
        s = inputs_embeds.shape[1]
        t = attention_mask.shape[1]
        # Query s sits at cache index T−S+s; it sees keys at indices ≤ its own that are not padding.
        key_idx = torch.arange(t, device=inputs_embeds.device)
        query_idx = torch.arange(s, device=inputs_embeds.device) + (t - s)
        causal = key_idx.unsqueeze(0) <= query_idx.unsqueeze(1)
        allowed = causal.unsqueeze(0).unsqueeze(0) & attention_mask.bool().unsqueeze(1).unsqueeze(2)
        cos, sin = self.rotary(position_ids)
        x = inputs_embeds
        present = []
        for layer, (pk, pv) in zip(self.model.layers, past):
            x, k, v = layer(x, cos, sin, allowed, pk, pv)
            present.append((k, v))
        return self.lm_head(self.model.norm(x)), present


def init_random_(model: LlamaForCausalLM, seed: int) -> None:
    """Random weights at a scale that gives well-separated logits (greedy paths stay stable
    between PyTorch and ONNX Runtime): Linear ~ N(0, 1/in), lm_head ~ N(0, 16/in) (logits of a few
    units, top-2 gaps far above float32 noise), embeddings ~ N(0, 1), gains ~ 1 ± 0.1.
    Values are rounded to float16, so the model saved as fp16 HF shards (as Vicuna's are) is exact."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('layernorm.weight') or name == 'model.norm.weight':
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            elif name == 'model.embed_tokens.weight':
                p.copy_(torch.randn(p.shape, generator=g))
            elif name == 'lm_head.weight':
                p.copy_(4 * torch.randn(p.shape, generator=g) / math.sqrt(p.shape[1]))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(p.shape[1]))
            p.copy_(p.half().float())

"""Block-wise 4-bit weight quantisation in the layout of onnxruntime's com.microsoft MatMulNBits.

The contract (onnxruntime docs/ContribOperators.md, section "com.microsoft.MatMulNBits",
opset com.microsoft v1), as implemented here:
  Y = A @ dequant(B)ᵀ, where the weight has K input features and N output features;
  B        uint8  [N, k_blocks, blob_size], k_blocks = ceil(K / block_size),
                  blob_size = block_size * bits / 8 (16 bytes for 4 bits, block 32);
                  "the first 4 bits are stored in the lower 4 bits of a byte, and the second
                  4 bits are stored in the higher 4 bits" — element 2i of a block is the low nibble;
  scales   T1     [N, k_blocks] (same type as A);
  zero_points     optional, packed uint8 [N, ceil(k_blocks * bits / 8)], the same low-first
                  nibble packing along the block axis; absent ⇒ zero point 2^(bits−1) = 8;
  dequantised     (code − zero_point) · scale;
  block_size      a power of two ≥ 16.
K that is not a multiple of block_size is zero-padded up to k_blocks · block_size; zero is exactly
representable in both schemes below, so the padded codes decode to 0 (and A has only K columns,
so the kernel never multiplies them anyway).
"""
from __future__ import annotations

import numpy as np


def check_block_size(block_size: int) -> None:
    if block_size < 16 or block_size & (block_size - 1):
        raise ValueError(f'block_size must be a power of two >= 16 (MatMulNBits), got {block_size}')


def quantize_rows(w_nk: np.ndarray, block_size: int, symmetric: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """w_nk: float [N, K], one row per output feature. Returns (B, scales, packed zero points or None).

    Asymmetric (default): per block the range [min(x, 0), max(x, 0)] is split in 15 steps and the
    zero point is the code of 0, so 0 is exact (ORT's own quantiser does the same).
    Symmetric: the block's value of largest magnitude maps to code 0 (−8·scale, scale may be
    negative), zero point 8 left implicit; this uses all 16 levels instead of 15.
    """
    check_block_size(block_size)
    n, k = w_nk.shape
    nb = -(-k // block_size)
    w = np.zeros((n, nb * block_size), np.float32)
    w[:, :k] = w_nk
    w = w.reshape(n, nb, block_size)
    if symmetric:
        idx = np.abs(w).argmax(axis=2)[..., None]
        scale = np.take_along_axis(w, idx, axis=2)[..., 0] / np.float32(-8)
        zp = np.full((n, nb), 8, np.float32)
    else:
        lo = np.minimum(w.min(axis=2), 0)
        hi = np.maximum(w.max(axis=2), 0)
        scale = (hi - lo) / np.float32(15)
        safe = np.where(scale == 0, np.float32(1), scale)
        zp = np.clip(np.round(-lo / safe), 0, 15)
    safe = np.where(scale == 0, np.float32(1), scale)
    q = np.clip(np.round(w / safe[..., None]) + zp[..., None], 0, 15).astype(np.uint8)
    packed = q[..., 0::2] | (q[..., 1::2] << 4)
    zp_packed = None if symmetric else pack_nibbles(zp.astype(np.uint8))
    return packed, scale.astype(np.float32), zp_packed


def pack_nibbles(codes: np.ndarray) -> np.ndarray:
    """[N, m] codes 0…15 → [N, ceil(m/2)] bytes, element 2i in the low nibble (odd m padded with 0)."""
    n, m = codes.shape
    if m % 2:
        codes = np.concatenate([codes, np.zeros((n, 1), np.uint8)], axis=1)
    return (codes[:, 0::2] | (codes[:, 1::2] << 4)).astype(np.uint8)


def unpack_nibbles(packed: np.ndarray, m: int) -> np.ndarray:
    """Inverse of pack_nibbles along the last axis: [..., ceil(m/2)] → [..., m]."""
    out = np.empty(packed.shape[:-1] + (packed.shape[-1] * 2,), np.uint8)
    out[..., 0::2] = packed & 0x0F
    out[..., 1::2] = packed >> 4
    return out[..., :m]


def dequantize_rows(packed: np.ndarray, scales: np.ndarray, zp_packed: np.ndarray | None, k: int) -> np.ndarray:
    """MatMulNBits' dequantisation, written independently of the packer: → float32 [N, K]."""
    n, nb, blob = packed.shape
    q = unpack_nibbles(packed, blob * 2).astype(np.float32)
    zp = np.full((n, nb), 8, np.float32) if zp_packed is None else unpack_nibbles(zp_packed, nb).astype(np.float32)
    w = (q - zp[..., None]) * scales[..., None].astype(np.float32)
    return w.reshape(n, nb * blob * 2)[:, :k]


class Int4Weight:
    """One quantised weight, built chunk by chunk over output rows so that a Vicuna-sized
    matrix (32000 × 4096 lm_head) never needs more than a few tens of MB of temporaries."""

    CHUNK_BYTES = 64 << 20

    def __init__(self, w_nk: np.ndarray, block_size: int, symmetric: bool):
        n, k = w_nk.shape
        self.n, self.k = n, k
        rows = max(1, self.CHUNK_BYTES // (4 * max(k, 1)))
        parts = []
        err2 = ref2 = 0.0
        for r in range(0, n, rows):
            chunk = np.asarray(w_nk[r:r + rows], dtype=np.float32)
            part = quantize_rows(chunk, block_size, symmetric)
            d = dequantize_rows(part[0], part[1], part[2], k) - chunk
            err2 += float(np.square(d, dtype=np.float64).sum())
            ref2 += float(np.square(chunk, dtype=np.float64).sum())
            parts.append(part)
        self.b = np.concatenate([p[0] for p in parts])
        self.scales = np.concatenate([p[1] for p in parts])
        self.zero_points = None if symmetric else np.concatenate([p[2] for p in parts])
        # ‖W − dequant(W)‖ / ‖W‖: the quantisation noise of this tensor (reported, not used).
        self.rel_rmse = (err2 / ref2) ** 0.5 if ref2 > 0 else 0.0

    @property
    def nbytes(self) -> int:
        return self.b.nbytes + self.scales.nbytes + (0 if self.zero_points is None else self.zero_points.nbytes)

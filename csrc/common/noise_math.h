// uniform_noise: counter-based uniform noise in [-1, 1), shared by CPU, CUDA and NVRTC: value i of a
// sample (its flat index c * H * W + y * W + x) is a function of the sample's int64 seed and i only,
// so a seed replays the same field on every device and in the PyTorch reference
// (sladd_fast/ops/_reference.py uniform_noise), whatever the batch around it.
//
//   k0 = mix(lo32(seed) ^ 0x9e3779b9), k1 = mix(hi32(seed) + k0)
//   h  = mix(mix(i ^ k0) + k1)
//   value = (h >> 8) * 2^-23 - 1          (24 random bits, as torch.rand's float32; exact in float32)
//
// mix is Wellons' "lowbias32" (hash-prospector): a bijection of 32-bit words with low avalanche bias.
// Every operation is on unsigned 32-bit words (wrapping); the final scaling is exact, so every backend
// gives the same floats bit for bit.
#pragma once
#include "macros.h"

namespace sladd {

typedef unsigned int u32;

SLADD_HD u32 noise_mix32(u32 x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

struct NoiseKey {
  u32 k0, k1;
};

SLADD_HD NoiseKey noise_key(long long seed) {
  const unsigned long long s = (unsigned long long)seed;
  NoiseKey k;
  k.k0 = noise_mix32((u32)s ^ 0x9e3779b9u);
  k.k1 = noise_mix32((u32)(s >> 32) + k.k0);
  return k;
}

SLADD_HD float uniform_noise_px(NoiseKey k, u32 i) {
  const u32 h = noise_mix32(noise_mix32(i ^ k.k0) + k.k1);
  return (float)(int)(h >> 8) * (1.0f / 8388608.0f) - 1.0f;
}

}  // namespace sladd

// Host/device qualifiers and integer types shared by g++, nvcc and NVRTC.
// NVRTC has no standard headers, so nothing here includes one.
#pragma once

#if !defined(__CUDACC_RTC__)
#include <cmath>  // sqrt, rintf, fmaf on the host
#endif

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define SLADD_HD __host__ __device__ __forceinline__
#define SLADD_HD_INLINE __host__ __device__ __forceinline__
#else
#define SLADD_HD inline
// Always inlined on the host too: for a function too large for g++ to inline on its own whose callers
// are also compiled for AVX2 (cpu/isa.h), where it must run in that copy's vector width.
#define SLADD_HD_INLINE inline __attribute__((always_inline))
#endif

namespace sladd {
typedef long long i64;
typedef unsigned char u8;

// A per-sample int64 code (region, morphology op, colour mode) for the kernels' int switches: a value
// outside int's range becomes -1, which every switch treats as "none" as the references do, instead of
// wrapping onto a valid code (2^32 + 1 was read as 1).
SLADD_HD int code_of(i64 v) { return v < -2147483647LL - 1 || v > 2147483647LL ? -1 : (int)v; }
}  // namespace sladd

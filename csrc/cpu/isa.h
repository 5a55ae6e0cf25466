// Run-time choice between the CPU kernels' baseline x86-64 loops (SSE2) and copies of them compiled for
// AVX2 (and FMA) with __attribute__((target(...))): picked where the CPU has the extensions, unless
// SLADD_FAST_NO_AVX2=1 keeps the baseline (tests run both). Elsewhere (not x86-64 / not GCC-compatible)
// the baseline only.
#pragma once
#include <cstdlib>
#include <cstring>

namespace sladd {

#if defined(__x86_64__) && defined(__GNUC__)
#define SLADD_X86_DISPATCH 1
inline bool cpu_avx2_allowed() {
  const char* no = std::getenv("SLADD_FAST_NO_AVX2");
  return !(no && std::strcmp(no, "1") == 0);
}
inline bool cpu_use_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && cpu_avx2_allowed();
  return yes;
}
inline bool cpu_use_avx2_fma() {
  static const bool yes = cpu_use_avx2() && __builtin_cpu_supports("fma");
  return yes;
}
#else
#define SLADD_X86_DISPATCH 0
inline bool cpu_use_avx2() { return false; }
inline bool cpu_use_avx2_fma() { return false; }
#endif

}  // namespace sladd

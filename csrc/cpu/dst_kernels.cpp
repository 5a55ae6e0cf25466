// CPU backend of poisson_solve: per (sample, channel) the four DST-I products of common/dst_math.h on the
// ROI's own n_h x n_w block. Each output is one fused multiply-add chain over k ascending, as the CUDA
// kernel's, computed in register tiles of MR rows x NV vectors: the AVX2 + FMA copy uses vfmadd, the
// baseline copy libm's fmaf lane by lane (both exactly rounded), so every copy gives the same bits.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

#include "../common/dst_math.h"
#include "../checks.h"
#include "isa.h"

namespace sladd {
namespace {

typedef float F32x4 __attribute__((vector_size(16)));
typedef float F32x8 __attribute__((vector_size(32)));

template <typename V>
inline __attribute__((always_inline)) V dst_vfma(float a, V b, V c) {
  constexpr int kLanes = (int)(sizeof(V) / sizeof(float));
  for (int k = 0; k < kLanes; ++k) c[k] = fmaf(a, b[k], c[k]);
  return c;
}

// The epilogue's per-row and per-column eigenvalue parts (2 cos, double) and the scale, once per sample.
struct DstEpilogue {
  int kind;
  const double* lam_h;  // [n_h]
  const double* lam_w;  // [n_w]
  float scale;
  inline float operator()(float acc, int j, int i) const {
    if (kind == kDstEpiEig) return acc / dst_eig_of(lam_h[j], lam_w[i]);
    if (kind == kDstEpiScale) return acc * scale;
    return acc;
  }
};

// out[i][j] = epi(sum_k L[i][k] R[k][j]) for i < P, j < Q: row-major views with leading dimensions. Whole
// tiles only: L must have P rounded up to MR readable rows and R's rows Q rounded up to the tile's width
// readable columns (solve_planes pads its buffers); what lies beyond P and Q is computed and dropped.
template <typename V, int MR, int NV>
inline __attribute__((always_inline)) void dst_gemm(const float* L, int64_t ldl, const float* R, int64_t ldr, float* O,
                                                    int64_t ldo, int P, int Q, int K, const DstEpilogue& epi) {
  constexpr int kLanes = (int)(sizeof(V) / sizeof(float));
  constexpr int kTile = kLanes * NV;
  for (int i0 = 0; i0 < P; i0 += MR)
    for (int j0 = 0; j0 < Q; j0 += kTile) {
      V acc[MR][NV];
      for (int i = 0; i < MR; ++i)
        for (int v = 0; v < NV; ++v) acc[i][v] = V{};
      for (int k = 0; k < K; ++k) {
        V b[NV];
        for (int v = 0; v < NV; ++v) __builtin_memcpy(&b[v], R + (int64_t)k * ldr + j0 + kLanes * v, sizeof(V));
        for (int i = 0; i < MR; ++i) {
          const float a = L[(int64_t)(i0 + i) * ldl + k];
          for (int v = 0; v < NV; ++v) acc[i][v] = dst_vfma(a, b[v], acc[i][v]);
        }
      }
      for (int i = 0; i < MR && i0 + i < P; ++i)
        for (int v = 0; v < NV; ++v)
          for (int l = 0; l < kLanes; ++l) {
            const int j = j0 + kLanes * v + l;
            if (j < Q) O[(int64_t)(i0 + i) * ldo + j] = epi(acc[i][v][l], i0 + i, j);
          }
    }
}

struct SolveArgs {
  const float* rhs;
  const int64_t* roi;
  float* out;
  int64_t C, Nh, Nw;
};

inline int round_up(int v, int m) { return (v + m - 1) / m * m; }

// S_n as a row-major matrix of ld columns (zero beyond n) and rows rounded up to a multiple of row_mult
// (zero rows).
void sine_matrix(int n, int ld, int row_mult, std::vector<float>& tab, std::vector<float>& s) {
  tab.resize(2 * (size_t)n + 2);
  for (int r = 0; r < 2 * n + 2; ++r) tab[r] = dst_sine(r, n);
  s.assign((size_t)round_up(n, row_mult) * ld, 0.0f);
  for (int k = 0; k < n; ++k)
    for (int m = 0; m < n; ++m) s[(size_t)k * ld + m] = tab[dst_index(k, m, n)];
}

// Buffers padded for dst_gemm's whole tiles: rows to a multiple of MR, columns to ld = a multiple of the
// tile's width, the padding zero (never stored: it only feeds dropped outputs).
template <typename V, int MR, int NV>
inline __attribute__((always_inline)) void solve_planes(const SolveArgs& a, int64_t p0, int64_t p1) {
  constexpr int kTile = (int)(sizeof(V) / sizeof(float)) * NV;
  std::vector<float> tab, s_h, s_w, x, t1, t2;
  std::vector<double> lam_h, lam_w;
  int64_t last_b = -1;
  int n_h = 0, n_w = 0, ld = 0, rows = 0;
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t b = p / a.C;
    if (b != last_b) {  // the sample's sine matrices and eigenvalue parts, once per sample in this range
      last_b = b;
      n_w = dst_extent(a.roi[6 * b + 2], (int)a.Nw);
      n_h = dst_extent(a.roi[6 * b + 3], (int)a.Nh);
      if (n_h == 0 || n_w == 0) continue;
      ld = round_up(n_w, kTile);
      rows = round_up(n_h, MR);
      sine_matrix(n_h, n_h, MR, tab, s_h);  // the left operand: rows padded
      sine_matrix(n_w, ld, 1, tab, s_w);     // the right operand: columns padded
      lam_h.resize(n_h);
      lam_w.resize(n_w);
      for (int j = 0; j < n_h; ++j) lam_h[j] = dst_lambda(j, n_h);
      for (int i = 0; i < n_w; ++i) lam_w[i] = dst_lambda(i, n_w);
      x.assign((size_t)n_h * ld, 0.0f);
      t1.assign((size_t)rows * ld, 0.0f);
      t2.assign((size_t)n_h * ld, 0.0f);
    }
    if (n_h == 0 || n_w == 0) continue;
    const float* plane = a.rhs + p * a.Nh * a.Nw;
    for (int j = 0; j < n_h; ++j) std::copy(plane + j * a.Nw, plane + j * a.Nw + n_w, x.begin() + (size_t)j * ld);
    float* o = a.out + p * a.Nh * a.Nw;
    const DstEpilogue none{kDstEpiNone, nullptr, nullptr, 1.0f};
    const DstEpilogue eig{kDstEpiEig, lam_h.data(), lam_w.data(), 1.0f};
    const DstEpilogue scale{kDstEpiScale, nullptr, nullptr, dst_scale(n_h, n_w)};
    dst_gemm<V, MR, NV>(s_h.data(), n_h, x.data(), ld, t1.data(), ld, n_h, n_w, n_h, none);     // S_h rhs
    dst_gemm<V, MR, NV>(t1.data(), ld, s_w.data(), ld, t2.data(), ld, n_h, n_w, n_w, eig);      // . S_w / eig
    dst_gemm<V, MR, NV>(s_h.data(), n_h, t2.data(), ld, t1.data(), ld, n_h, n_w, n_h, none);    // S_h .
    dst_gemm<V, MR, NV>(t1.data(), ld, s_w.data(), ld, o, a.Nw, n_h, n_w, n_w, scale);          // . S_w * scale
  }
}

void solve_planes_base(const SolveArgs& a, int64_t p0, int64_t p1) { solve_planes<F32x4, 4, 2>(a, p0, p1); }
#if SLADD_X86_DISPATCH
__attribute__((target("avx2,fma"))) void solve_planes_avx2(const SolveArgs& a, int64_t p0, int64_t p1) {
  solve_planes<F32x8, 6, 2>(a, p0, p1);
}
#else
void solve_planes_avx2(const SolveArgs& a, int64_t p0, int64_t p1) { solve_planes_base(a, p0, p1); }
#endif

at::Tensor poisson_solve_forward_kernel(const at::Tensor& rhs_in, const at::Tensor& roi_in) {
  check_poisson_solve(rhs_in, roi_in);
  const at::Tensor rhs = rhs_in.contiguous(), roi = roi_in.contiguous();
  at::Tensor out = at::zeros_like(rhs);  // 0 outside every sample's block
  if (out.numel() == 0) return out;
  const SolveArgs a{rhs.data_ptr<float>(), roi.data_ptr<int64_t>(), out.data_ptr<float>(), rhs.size(1), rhs.size(2),
                    rhs.size(3)};
  const bool fma = cpu_use_avx2_fma();
  at::parallel_for(0, rhs.size(0) * rhs.size(1), 1, [&](int64_t p0, int64_t p1) {
    fma ? solve_planes_avx2(a, p0, p1) : solve_planes_base(a, p0, p1);
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CPU, m) { m.impl("poisson_solve", &poisson_solve_forward_kernel); }

}  // namespace sladd

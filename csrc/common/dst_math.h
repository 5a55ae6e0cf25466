// The DST-I Poisson solve of seamlessClone (NORMAL_CLONE), per sample on its own ROI size.
//
// OpenCV solves lap(u) = rhs on the n_h x n_w interior of the mask's box with Dirichlet zeros around it:
//     u = (2/(n_h+1)) (2/(n_w+1)) S_h [ (S_h rhs S_w) / eig ] S_w,
//     S_n[k, m] = sin(pi (k+1)(m+1) / (n+1)),
//     eig[j, i] = 2 cos(pi (i+1)/(n_w+1)) + 2 cos(pi (j+1)/(n_h+1)) - 4.
// The op poisson_solve runs it as four matrix products on each sample's n_h x n_w block of the canvas
// (rows and columns past n are never read and come out 0), so a sample costs O(n^3) of its own box,
// not of the canvas. Every output is one fused multiply-add chain over k ascending, acc = fma(L, R, acc)
// from 0, on every backend (the CPU's vfmadd or fmaf, CUDA's fmaf), so the C++ and CUDA kernels agree
// bit for bit wherever sin and cos do (host libm vs CUDA's: within an ulp of double, then rounded to
// float). The PyTorch reference (ops/_reference.py) is the same math as batched matrix products.
#pragma once
#include "macros.h"

namespace sladd {

// CUDA tiling (cuda/kernels.cuh): a block of kDstSide x kDstSide threads (kThreads) computes a kDstTile x
// kDstTile output tile, each thread kDstMicro x kDstMicro outputs, stepping k by kDstStep; the sine operand
// is read from a table of the 2 (n + 1) values per block in shared memory when it fits (n <= 2047).
constexpr int kDstSide = 16;
constexpr int kDstMicro = 4;
constexpr int kDstTile = 64;
static_assert(kDstTile == kDstSide * kDstMicro, "a tile is kDstSide threads of kDstMicro outputs per side");
constexpr int kDstStep = 16;
constexpr int kDstTable = 4096;
constexpr int kDstMaxSide = 1048576;  // 2^20: canvas sides at most (checks.h), so 2 (n + 1) stays in int

// The four passes: which operand is the sine matrix, and what the epilogue does to each output.
constexpr int kDstSineLeft = 1;   // out = S_n . in (along the rows, n = n_h); else out = in . S_n (n = n_w)
constexpr int kDstEpiNone = 0;
constexpr int kDstEpiEig = 1;     // out = acc / eig(row, col)
constexpr int kDstEpiScale = 2;   // out = acc * scale; the whole canvas is written (0 outside the box)

// The sizes solved for a ROI (x, y, w, h, ...): its interior, clamped to the canvas.
SLADD_HD int dst_extent(long long roi_side, int canvas) {
  const long long n = roi_side - 2;
  return n < 0 ? 0 : (n > canvas ? canvas : (int)n);
}

// sin(pi r / (n + 1)) for the reduced index r = (k+1)(m+1) mod 2(n+1), computed as the reference does:
// double(r) * (pi / (n + 1)), then rounded to float.
SLADD_HD float dst_sine(long long r, int n) {
  return (float)sin((double)r * (3.141592653589793 / (double)(n + 1)));
}

SLADD_HD long long dst_index(int k, int m, int n) {
  return ((long long)(k + 1) * (long long)(m + 1)) % (2LL * (n + 1));
}

// dst_index where the sines are tabulated (2 (n + 1) <= kDstTable, so (k + 1)(m + 1) <= (kDstTable / 2)^2
// < 2^32): the same value in 32-bit unsigned arithmetic, which a GPU does in hardware (its 64-bit
// modulo is a software routine of tens of instructions, four per thread per k step).
SLADD_HD int dst_index_tabulated(int k, int m, int n) {
  return (int)(((unsigned)(k + 1) * (unsigned)(m + 1)) % (2u * (unsigned)(n + 1)));
}

// 2 cos(pi (i + 1) / (n + 1)) in double: one axis' part of the eigenvalue (the reference's lam_h, lam_w).
SLADD_HD double dst_lambda(int i, int n) { return 2.0 * cos(3.141592653589793 * (double)(i + 1) / ((double)n + 1.0)); }

// The eigenvalue that divides the spectrum at row j, column i: (lam_h[j] + lam_w[i]) - 4 in double,
// rounded to float, as the reference.
SLADD_HD float dst_eig_of(double lam_h, double lam_w) { return (float)(lam_h + lam_w - 4.0); }

// (2/(n_h+1)) (2/(n_w+1)) as the reference computes it: 4 over the float of the integer product.
SLADD_HD float dst_scale(int n_h, int n_w) { return 4.0f / (float)((long long)(n_h + 1) * (long long)(n_w + 1)); }

}  // namespace sladd

// oneDNN's direct convolutions and matmul behind a small C interface (Tensor+Conv.swift, BLAS.swift). Tensors stay
// NCHW / OIHW on the Swift side; each call reorders into the blocked layouts oneDNN chose for the
// shape and back (measured: bench/onednn-conv.cpp, docs/benchmarks.md).
#ifndef TANDEM_ONEDNN_H
#define TANDEM_ONEDNN_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One convolution shape's primitives (the backward ones made on first use).
typedef struct tandem_onednn_conv tandem_onednn_conv;

/// The primitives for x [n,c,h,w] * weight [o,c,kh,kw] -> [n,o,ho,wo], run on `threads` threads;
/// NULL (with a message in err) where oneDNN cannot make them. With bf16 nonzero x, weight and gy
/// are read as bfloat16 (cast by the reorders; outputs and gradients stay float32), and only a
/// native kernel is accepted.
tandem_onednn_conv *tandem_onednn_conv_create(long n, long c, long h, long w, long o, long kh, long kw,
                                              long stride, long pad, int bf16, int threads, char *err,
                                              size_t err_len);

/// y = conv(x, weight), or y += conv(x, weight) when accumulate is nonzero. 0 on success.
int tandem_onednn_conv_forward(tandem_onednn_conv *conv, const float *x, const float *weight, float *y,
                               int accumulate);

/// gw += dL/dweight and gx += dL/dx from gy = dL/dy (either output may be NULL). 0 on success.
int tandem_onednn_conv_backward(tandem_onednn_conv *conv, const float *x, const float *weight, const float *gy,
                                float *gw, float *gx);

void tandem_onednn_conv_destroy(tandem_onednn_conv *conv);

/// One matrix product C = alpha A B + beta C over batch dimensions: each operand has `ndims`
/// dimensions (batch..., rows, columns) and strides in elements, so transposes and interleaved
/// layouts are just strides.
typedef struct tandem_onednn_matmul tandem_onednn_matmul;

/// The primitive for this shape on `threads` threads; NULL (with a message in err) where oneDNN
/// cannot make it. With bf16 nonzero A and B are bfloat16 (C stays float32, accumulated in
/// float32), and only a native (not reference) kernel is accepted.
tandem_onednn_matmul *tandem_onednn_matmul_create(int ndims, const long *a_dims, const long *a_strides,
                                                  const long *b_dims, const long *b_strides, const long *c_dims,
                                                  const long *c_strides, float alpha, float beta, int bf16,
                                                  int threads, char *err, size_t err_len);

/// Runs it on these buffers (float32, or bfloat16 A and B). 0 on success.
int tandem_onednn_matmul_run(tandem_onednn_matmul *mm, const void *a, const void *b, float *c);

/// The instruction set oneDNN's kernels use on this CPU ("avx512_core_bf16", "avx512_core_amx", ...).
const char *tandem_onednn_isa(void);

void tandem_onednn_matmul_destroy(tandem_onednn_matmul *mm);

#ifdef __cplusplus
}
#endif
#endif

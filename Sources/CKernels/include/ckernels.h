// Hot elementwise loops in C, where the compiler can be told what Swift cannot: restrict
// pointers (no aliasing checks), an errno-free vector sqrt, and an AVX2 clone chosen at run time
// on CPUs that have it (the baseline x86-64 build would otherwise stay at 4-wide SSE).
#ifndef TANDEM_CKERNELS_H
#define TANDEM_CKERNELS_H
#include <stddef.h>

/// One Adam/AdamW step over n parameters (see Optim/Adam.swift for the formula).
void tandem_adam(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                 float beta1, float beta2, float eps, float weight_decay, float shrink, float step_size,
                 float inv_c2_sqrt);

/// GELU (the erf form, as PyTorch's default): y = x * Phi(x), erf to 1.5e-7.
void tandem_gelu(const float *restrict x, float *restrict y, size_t n);

/// Adds GELU's vector-Jacobian product: gx += g * (Phi(x) + x * phi(x)).
void tandem_gelu_backward(const float *restrict x, const float *restrict g, float *restrict gx, size_t n);

/// A convolution's geometry for one image: input [c,h,w], kernel kh x kw, output [ho, wo].
typedef struct {
    long c, h, w, kh, kw, stride, pad, ho, wo;
} tandem_conv_geometry;

/// col [c*kh*kw, ho*wo] from one image x [c,h,w] (zeros where the kernel reads padding).
void tandem_im2col(const tandem_conv_geometry *g, const float *restrict x, float *restrict col);

/// Adds col [c*kh*kw, ho*wo] back onto one image's gradient gx [c,h,w] (im2col's adjoint).
void tandem_col2im_add(const tandem_conv_geometry *g, const float *restrict col, float *restrict gx);

#endif

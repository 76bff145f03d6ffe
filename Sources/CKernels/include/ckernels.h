// Hot elementwise loops in C, where the compiler can be told what Swift cannot: restrict
// pointers (no aliasing checks), an errno-free vector sqrt, and an AVX2 clone chosen at run time
// on CPUs that have it (the baseline x86-64 build would otherwise stay at 4-wide SSE).
#ifndef TANDEM_CKERNELS_H
#define TANDEM_CKERNELS_H
#include <stddef.h>
#include <stdint.h>

/// One Adam/AdamW step over n parameters (see Optim/Adam.swift for the formula).
void tandem_adam(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                 float beta1, float beta2, float eps, float weight_decay, float shrink, float step_size,
                 float inv_c2_sqrt);

/// GELU (the erf form, as PyTorch's default): y = x * Phi(x), erf to 1.5e-7.
void tandem_gelu(const float *restrict x, float *restrict y, size_t n);

/// Adds GELU's vector-Jacobian product: gx += g * (Phi(x) + x * phi(x)).
void tandem_gelu_backward(const float *restrict x, const float *restrict g, float *restrict gx, size_t n);

/// sums[ch] += sum of channel ch of x [n, c, s] (Float32 rows of s, added up in Float64), for the
/// channels c0 ..< c1 (a block of them per thread: each channel's sum in the same order on any).
void tandem_channel_sums(const float *restrict x, long n, long c, long s, long c0, long c1, double *restrict sums);

/// squares[ch] += sum of (x - mean[ch])^2 over channel ch of x [n, c, s], channels c0 ..< c1.
void tandem_channel_squares(const float *restrict x, long n, long c, long s, long c0, long c1,
                            const float *restrict mean, double *restrict squares);

/// y = x * scale[ch] + shift[ch] over x [n, c, s].
void tandem_channel_affine(const float *restrict x, float *restrict y, long n, long c, long s,
                           const float *restrict scale, const float *restrict shift);

/// Batch norm's backward sums: sums[ch] += sum g, sums[c + ch] += sum g * (x - mean[ch]) * inv_std[ch],
/// channels c0 ..< c1.
void tandem_batch_norm_backward_sums(const float *restrict g, const float *restrict x, long n, long c, long s,
                                     long c0, long c1, const float *restrict mean, const float *restrict inv_std,
                                     double *restrict sums);

/// Batch norm's input gradient: gx += k[ch] * (g - mean_g[ch] - (x - mean[ch]) * slope[ch]).
void tandem_batch_norm_backward_input(const float *restrict g, const float *restrict x, float *restrict gx, long n,
                                      long c, long s, const float *restrict k, const float *restrict mean_g,
                                      const float *restrict mean, const float *restrict slope);

/// Layer norm over rows of d features: y = (x - mean) / std * w + b; stats gets mean and 1/std per row.
void tandem_layer_norm(const float *restrict x, float *restrict y, long rows, long d, const float *restrict w,
                       const float *restrict b, float eps, float *restrict stats);

/// Layer norm's backward from the forward's stats; gx, gw, gb accumulate and may each be NULL.
void tandem_layer_norm_backward(const float *restrict x, const float *restrict g, long rows, long d,
                                const float *restrict w, const float *restrict stats, float *restrict gx,
                                float *restrict gw, float *restrict gb);

/// y = max(x, 0), NaN kept (as PyTorch's relu).
void tandem_relu(const float *restrict x, float *restrict y, size_t n);

/// gx += g where x > 0.
void tandem_relu_backward(const float *restrict x, const float *restrict g, float *restrict gx, size_t n);

/// Row-wise softmax of a t x t block in place; with causal, row r covers columns 0...r and the
/// rest become 0.
void tandem_softmax_block(float *restrict s, long t, int causal);

/// Softmax backward in place on a t x t block: dp = p * (dp - rowsum(dp * p)), 0 where masked.
void tandem_softmax_backward_block(const float *restrict p, float *restrict dp, long t, int causal);

/// A convolution's geometry for one image: input [c,h,w], kernel kh x kw, output [ho, wo].
typedef struct {
    long c, h, w, kh, kw, stride, pad, ho, wo;
} tandem_conv_geometry;

/// col [c*kh*kw, ho*wo] from one image x [c,h,w] (zeros where the kernel reads padding).
void tandem_im2col(const tandem_conv_geometry *g, const float *restrict x, float *restrict col);

/// Adds col [c*kh*kw, ho*wo] back onto one image's gradient gx [c,h,w] (im2col's adjoint).
void tandem_col2im_add(const tandem_conv_geometry *g, const float *restrict col, float *restrict gx);

/// Whether this CPU has AVX512_BF16's conversion instructions.
int tandem_has_avx512bf16(void);

/// dst = src rounded to bfloat16 (nearest even, NaN quiet, denormals to zero); `native` takes
/// the AVX512_BF16 instruction (only where tandem_has_avx512bf16()), with the same bits.
void tandem_f32_to_bf16(const float *restrict src, uint16_t *restrict dst, long n, int native);

/// The same for a rows x cols matrix with leading dimension ld, into a compact rows x cols one.
void tandem_f32_to_bf16_2d(const float *restrict src, long rows, long cols, long ld, uint16_t *restrict dst,
                           int native);

/// dst = src widened to float32 (exact).
void tandem_bf16_to_f32(const uint16_t *restrict src, float *restrict dst, long n);

/// A block's work: items begin ..< end of a tandem_parallel_for.
typedef void (*tandem_block_fn)(void *context, long begin, long end);

/// Runs fn over 0 ..< count in blocks of `block` items (the last may be shorter), each block once,
/// on up to tandem_get_threads() threads of libgomp's team (the OpenMP runtime oneDNN runs on, so
/// the two share one pool). Blocks are fixed by count and block, never by the thread count, so a
/// kernel whose blocks write disjoint outputs gives the same bits on any number of threads.
void tandem_parallel_for(long count, long block, tandem_block_fn fn, void *context);

/// Threads Tandem's own kernels use (1 by default; the trainer sets train.threads).
void tandem_set_threads(int threads);
int tandem_get_threads(void);

/// Threads of oneDNN's products (0: unset, the caller's default).
void tandem_set_product_threads(int threads);
int tandem_get_product_threads(void);

/// Cores in this process's CPU affinity mask (what mpirun's or Slurm's binding allows), at least 1.
int tandem_allowed_cores(void);

#endif

// Batch normalization's per-channel passes over [n, c, s] tensors, and ReLU: in C because their
// reductions need several accumulators to vectorize (Swift and C alike keep a single float sum in
// order) and their elementwise loops need restrict. Every sum runs in a fixed order: same bits
// on every call.
#include "ckernels.h"
#include "internal.h"

// Lane sums (internal.h) in Float64, because these sums cancel: a channel's gradient sums are small
// differences of large terms, and Adam turns their rounding into whole steps.
static inline double combine(const double *acc) {
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

// sum(x[0..<len]).
static inline double row_sum(const float *restrict x, long len) {
    double s[LANES] = {0};
    long i = 0;
    for (; i + LANES <= len; i += LANES)
        for (int l = 0; l < LANES; l++) s[l] += x[i + l];
    double total = combine(s);
    for (; i < len; i++) total += x[i];
    return total;
}

// sum((x[0..<len] - mu)^2).
static inline double row_squares(const float *restrict x, long len, float mu) {
    double q[LANES] = {0};
    long i = 0;
    for (; i + LANES <= len; i += LANES) {
        for (int l = 0; l < LANES; l++) {
            const double d = (double)x[i + l] - mu;
            q[l] += d * d;
        }
    }
    double total = combine(q);
    for (; i < len; i++) {
        const double d = (double)x[i] - mu;
        total += d * d;
    }
    return total;
}

TANDEM_CLONES
void tandem_channel_sums(const float *restrict x, long n, long c, long s, long c0, long c1, double *restrict sums) {
    for (long i = 0; i < n; i++)
        for (long ch = c0; ch < c1; ch++) sums[ch] += row_sum(x + (i * c + ch) * s, s);
}

TANDEM_CLONES
void tandem_channel_squares(const float *restrict x, long n, long c, long s, long c0, long c1,
                            const float *restrict mean, double *restrict squares) {
    for (long i = 0; i < n; i++)
        for (long ch = c0; ch < c1; ch++) squares[ch] += row_squares(x + (i * c + ch) * s, s, mean[ch]);
}

TANDEM_CLONES
void tandem_channel_affine(const float *restrict x, float *restrict y, long n, long c, long s,
                           const float *restrict scale, const float *restrict shift) {
    for (long i = 0; i < n; i++) {
        for (long ch = 0; ch < c; ch++) {
            const float *xr = x + (i * c + ch) * s;
            float *yr = y + (i * c + ch) * s;
            const float a = scale[ch], b = shift[ch];
            for (long j = 0; j < s; j++) yr[j] = xr[j] * a + b;
        }
    }
}

TANDEM_CLONES
void tandem_batch_norm_backward_sums(const float *restrict g, const float *restrict x, long n, long c, long s,
                                     long c0, long c1, const float *restrict mean, const float *restrict inv_std,
                                     double *restrict sums) {
    for (long i = 0; i < n; i++) {
        for (long ch = c0; ch < c1; ch++) {
            const float *gr = g + (i * c + ch) * s, *xr = x + (i * c + ch) * s;
            const float mu = mean[ch], inv = inv_std[ch];
            double sg[LANES] = {0}, sgx[LANES] = {0};
            long j = 0;
            for (; j + LANES <= s; j += LANES) {
                for (int l = 0; l < LANES; l++) {
                    sg[l] += gr[j + l];
                    sgx[l] += (double)gr[j + l] * (((double)xr[j + l] - mu) * inv);
                }
            }
            double tg = combine(sg), tgx = combine(sgx);
            for (; j < s; j++) {
                tg += gr[j];
                tgx += (double)gr[j] * (((double)xr[j] - mu) * inv);
            }
            sums[ch] += tg;
            sums[c + ch] += tgx;
        }
    }
}

TANDEM_CLONES
void tandem_batch_norm_backward_input(const float *restrict g, const float *restrict x, float *restrict gx, long n,
                                      long c, long s, const float *restrict k, const float *restrict mean_g,
                                      const float *restrict mean, const float *restrict slope) {
    for (long i = 0; i < n; i++) {
        for (long ch = 0; ch < c; ch++) {
            const float *gr = g + (i * c + ch) * s, *xr = x + (i * c + ch) * s;
            float *out = gx + (i * c + ch) * s;
            const float kc = k[ch], mg = mean_g[ch], mu = mean[ch], sl = slope[ch];
            for (long j = 0; j < s; j++) out[j] += kc * (gr[j] - mg - (xr[j] - mu) * sl);
        }
    }
}

TANDEM_CLONES
void tandem_relu(const float *restrict x, float *restrict y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] <= 0 ? 0 : x[i];  // NaN <= 0 is false: NaN kept
}

TANDEM_CLONES
void tandem_relu_backward(const float *restrict x, const float *restrict g, float *restrict gx, size_t n) {
    for (size_t i = 0; i < n; i++) gx[i] += x[i] > 0 ? g[i] : 0;
}

// Layer norm over rows of d: mean and 1/std per row in stats[2r], stats[2r+1].
TANDEM_CLONES
void tandem_layer_norm(const float *restrict x, float *restrict y, long rows, long d, const float *restrict w,
                       const float *restrict b, float eps, float *restrict stats) {
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * d;
        float s[LANES] = {0}, q[LANES] = {0};
        long j = 0;
        for (; j + LANES <= d; j += LANES)
            for (int l = 0; l < LANES; l++) s[l] += row[j + l];
        float sum = lane_total(s);
        for (; j < d; j++) sum += row[j];
        const float mean = sum / (float)d;
        for (j = 0; j + LANES <= d; j += LANES)
            for (int l = 0; l < LANES; l++) q[l] += (row[j + l] - mean) * (row[j + l] - mean);
        float squares = lane_total(q);
        for (; j < d; j++) squares += (row[j] - mean) * (row[j] - mean);
        const float inv = 1.0f / __builtin_sqrtf(squares / (float)d + eps);
        stats[2 * r] = mean;
        stats[2 * r + 1] = inv;
        float *o = y + r * d;
        for (j = 0; j < d; j++) o[j] = (row[j] - mean) * inv * w[j] + b[j];
    }
}

// Layer norm's backward: gx += inv (g w - mean(g w) - xhat mean(g w xhat)); gw += g xhat; gb += g
// (any of the three may be NULL).
TANDEM_CLONES
void tandem_layer_norm_backward(const float *restrict x, const float *restrict g, long rows, long d,
                                const float *restrict w, const float *restrict stats, float *restrict gx,
                                float *restrict gw, float *restrict gb) {
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * d, *gr = g + r * d;
        const float mean = stats[2 * r], inv = stats[2 * r + 1];
        float sg[LANES] = {0}, sgx[LANES] = {0};
        long j = 0;
        for (; j + LANES <= d; j += LANES) {
            for (int l = 0; l < LANES; l++) {
                const float xhat = (row[j + l] - mean) * inv, dxhat = gr[j + l] * w[j + l];
                sg[l] += dxhat;
                sgx[l] += dxhat * xhat;
            }
        }
        float sum_g = lane_total(sg), sum_gx = lane_total(sgx);
        for (; j < d; j++) {
            const float xhat = (row[j] - mean) * inv, dxhat = gr[j] * w[j];
            sum_g += dxhat;
            sum_gx += dxhat * xhat;
        }
        if (gw)
            for (j = 0; j < d; j++) gw[j] += gr[j] * ((row[j] - mean) * inv);
        if (gb)
            for (j = 0; j < d; j++) gb[j] += gr[j];
        if (!gx) continue;
        const float mean_g = sum_g / (float)d, mean_gx = sum_gx / (float)d;
        float *dst = gx + r * d;
        for (j = 0; j < d; j++) dst[j] += inv * (gr[j] * w[j] - mean_g - (row[j] - mean) * inv * mean_gx);
    }
}

// Attention's softmax over t x t blocks (forward and backward, causal or not): glibc's scalar
// expf and in-order float sums kept the Swift loops scalar.
#include "ckernels.h"
#include "internal.h"

// sum of a[i] * b[i] (b NULL: of a[i]) in eight lanes, then the tail in order.
static inline float dot(const float *restrict a, const float *restrict b, long n) {
    float acc[LANES] = {0};
    long i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; l++) acc[l] += a[i + l] * (b ? b[i + l] : 1.0f);
    float s = lane_total(acc);
    for (; i < n; i++) s += a[i] * (b ? b[i] : 1.0f);
    return s;
}

TANDEM_CLONES
void tandem_softmax_block(float *restrict s, long t, int causal) {
    for (long r = 0; r < t; r++) {
        float *row = s + r * t;
        const long width = causal ? r + 1 : t;
        float m = row[0];
        for (long c = 1; c < width; c++) m = row[c] > m ? row[c] : m;
        for (long c = 0; c < width; c++) row[c] = tandem_expf(row[c] - m);
        const float inv = 1.0f / dot(row, 0, width);
        for (long c = 0; c < width; c++) row[c] *= inv;
        for (long c = width; c < t; c++) row[c] = 0;
    }
}

TANDEM_CLONES
void tandem_softmax_backward_block(const float *restrict p, float *restrict dp, long t, int causal) {
    for (long r = 0; r < t; r++) {
        const float *row = p + r * t;
        float *drow = dp + r * t;
        const long width = causal ? r + 1 : t;
        const float d = dot(drow, row, width);
        for (long c = 0; c < width; c++) drow[c] = row[c] * (drow[c] - d);
        for (long c = width; c < t; c++) drow[c] = 0;
    }
}

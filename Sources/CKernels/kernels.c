#include "ckernels.h"
#include "internal.h"

TANDEM_CLONES
void tandem_adam(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                 float beta1, float beta2, float eps, float weight_decay, float shrink, float step_size,
                 float inv_c2_sqrt) {
    const float ob1 = 1.0f - beta1, ob2 = 1.0f - beta2;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + weight_decay * p[i];
        float mi = beta1 * m[i] + ob1 * gi;
        float vi = beta2 * v[i] + ob2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * shrink - step_size * mi / (__builtin_elementwise_sqrt(vi) * inv_c2_sqrt + eps);
    }
}

// erf by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7), odd in x.
static inline float tandem_erff(float x) {
    const float a = __builtin_fabsf(x);
    const float t = 1.0f / (1.0f + 0.3275911f * a);
    const float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f
                       + t * (-1.453152027f + t * 1.061405429f))));
    return __builtin_copysignf(1.0f - poly * tandem_expf(-a * a), x);
}

TANDEM_CLONES
void tandem_gelu(const float *restrict x, float *restrict y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + tandem_erff(x[i] * 0.707106781f));
}

TANDEM_CLONES
void tandem_gelu_backward(const float *restrict x, const float *restrict g, float *restrict gx, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const float cdf = 0.5f * (1.0f + tandem_erff(x[i] * 0.707106781f));
        const float pdf = tandem_expf(-0.5f * x[i] * x[i]) * 0.398942280f;
        gx[i] += g[i] * (cdf + x[i] * pdf);
    }
}

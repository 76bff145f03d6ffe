#include "ckernels.h"

#if defined(__x86_64__) && defined(__ELF__)
#define TANDEM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TANDEM_CLONES
#endif

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

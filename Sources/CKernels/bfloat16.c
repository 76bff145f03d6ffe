// float32 -> bfloat16 casts for bf16 matrix products (Tensor/Precision.swift). Round to nearest
// even, NaN kept quiet, and denormal inputs flushed to (signed) zero, which is what the
// AVX512_BF16 instruction does: the portable loop and the instruction give the same bits, so a
// run's numbers do not depend on which one this CPU takes.
#include "ckernels.h"
#include "internal.h"
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static inline uint16_t to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t exponent = u & 0x7f800000u;
    if (exponent == 0x7f800000u) {  // infinity, or NaN made quiet
        return (uint16_t)((u >> 16) | ((u & 0x007fffffu) ? 0x40u : 0));
    }
    if (exponent == 0) return (uint16_t)((u >> 16) & 0x8000u);  // zero and denormals
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

TANDEM_CLONES
static void cast_portable(const float *restrict src, uint16_t *restrict dst, long n) {
    for (long i = 0; i < n; i++) dst[i] = to_bf16(src[i]);
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bf16,avx512vl")))
static void cast_avx512bf16(const float *restrict src, uint16_t *restrict dst, long n) {
    long i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + i + 16), _mm512_loadu_ps(src + i));
        _mm512_storeu_si512((void *)(dst + i), (__m512i)v);
    }
    for (; i < n; i++) dst[i] = to_bf16(src[i]);
}
#endif

int tandem_has_avx512bf16(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

void tandem_f32_to_bf16(const float *restrict src, uint16_t *restrict dst, long n, int native) {
#if defined(__x86_64__)
    if (native) {
        cast_avx512bf16(src, dst, n);
        return;
    }
#endif
    (void)native;
    cast_portable(src, dst, n);
}

void tandem_f32_to_bf16_2d(const float *restrict src, long rows, long cols, long ld, uint16_t *restrict dst,
                           int native) {
    if (ld == cols) {
        tandem_f32_to_bf16(src, dst, rows * cols, native);
        return;
    }
    for (long r = 0; r < rows; r++) tandem_f32_to_bf16(src + r * ld, dst + r * cols, cols, native);
}

TANDEM_CLONES
void tandem_bf16_to_f32(const uint16_t *restrict src, float *restrict dst, long n) {
    for (long i = 0; i < n; i++) {
        uint32_t u = (uint32_t)src[i] << 16;
        memcpy(dst + i, &u, 4);
    }
}

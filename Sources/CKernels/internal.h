// Shared by the C kernels (not part of the module's interface).
#ifndef TANDEM_INTERNAL_H
#define TANDEM_INTERNAL_H

// An AVX2 clone of each hot loop, chosen at run time on CPUs that have it (the baseline x86-64
// build would otherwise stay at 4-wide SSE).
#if defined(__x86_64__) && defined(__ELF__)
#define TANDEM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TANDEM_CLONES
#endif

// Reductions run in this many partial sums, each in order, combined in a fixed tree: the compiler
// makes the lanes vector registers (a single running sum it may not reorder, so it stays scalar).
#define LANES 8

static inline float lane_total(const float *acc) {
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

// e^x for GELU and softmax: 2^k p(r) with r = x - k ln 2 in [-ln2/2, ln2/2] (Cody-Waite split) and a degree-6
// Taylor polynomial, relative error below 2e-7; branch-free so the loops around it vectorize
// (glibc's expf and erff are scalar calls).
static inline float tandem_expf(float x) {
    x = __builtin_fminf(__builtin_fmaxf(x, -87.0f), 88.0f);
    const float k = __builtin_roundf(x * 1.44269504f);
    const float r = (x - k * 0.693145752f) - k * 1.42860677e-6f;
    const float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f + r * (0.0416666679f
                    + r * (0.00833333377f + r * 0.00138888892f)))));
    union { int i; float f; } s = { ((int)k + 127) << 23 };
    return p * s.f;
}

#endif

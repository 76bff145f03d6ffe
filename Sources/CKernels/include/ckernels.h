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

#endif

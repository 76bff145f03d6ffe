// im2col and its adjoint for Tensor+Conv.swift: pure data movement, so the loops are copies the
// compiler turns into vector moves (the Swift closures it replaced cost a third of a 3x3 conv).
#include "ckernels.h"
#include <string.h>

// For kernel column kj, the output columns whose input column lies inside the image: [lo, hi).
static inline void valid_columns(const tandem_conv_geometry *g, long kj, long *lo, long *hi) {
    long l = (g->pad - kj + g->stride - 1) / g->stride;
    long h = (g->w + g->pad - kj + g->stride - 1) / g->stride;
    l = l < 0 ? 0 : (l > g->wo ? g->wo : l);
    h = h > g->wo ? g->wo : h;
    *lo = l;
    *hi = h < l ? l : h;
}

void tandem_im2col(const tandem_conv_geometry *g, const float *restrict x, float *restrict col) {
    const long pixels = g->ho * g->wo;
    for (long ch = 0; ch < g->c; ch++) {
        for (long ki = 0; ki < g->kh; ki++) {
            for (long kj = 0; kj < g->kw; kj++) {
                long lo, hi;
                valid_columns(g, kj, &lo, &hi);
                float *row = col + ((ch * g->kh + ki) * g->kw + kj) * pixels;
                for (long oh = 0; oh < g->ho; oh++) {
                    float *dst = row + oh * g->wo;
                    const long ih = oh * g->stride - g->pad + ki;
                    if (ih < 0 || ih >= g->h) {
                        memset(dst, 0, sizeof(float) * g->wo);
                        continue;
                    }
                    const float *src = x + (ch * g->h + ih) * g->w - g->pad + kj;
                    for (long ow = 0; ow < lo; ow++) dst[ow] = 0;
                    if (g->stride == 1) {
                        memcpy(dst + lo, src + lo, sizeof(float) * (hi - lo));
                    } else {
                        for (long ow = lo; ow < hi; ow++) dst[ow] = src[ow * g->stride];
                    }
                    for (long ow = hi; ow < g->wo; ow++) dst[ow] = 0;
                }
            }
        }
    }
}

void tandem_col2im_add(const tandem_conv_geometry *g, const float *restrict col, float *restrict gx) {
    const long pixels = g->ho * g->wo;
    for (long ch = 0; ch < g->c; ch++) {
        for (long ki = 0; ki < g->kh; ki++) {
            for (long kj = 0; kj < g->kw; kj++) {
                long lo, hi;
                valid_columns(g, kj, &lo, &hi);
                const float *row = col + ((ch * g->kh + ki) * g->kw + kj) * pixels;
                for (long oh = 0; oh < g->ho; oh++) {
                    const long ih = oh * g->stride - g->pad + ki;
                    if (ih < 0 || ih >= g->h) continue;
                    const float *src = row + oh * g->wo;
                    float *dst = gx + (ch * g->h + ih) * g->w - g->pad + kj;
                    if (g->stride == 1) {
                        for (long ow = lo; ow < hi; ow++) dst[ow] += src[ow];
                    } else {
                        for (long ow = lo; ow < hi; ow++) dst[ow * g->stride] += src[ow];
                    }
                }
            }
        }
    }
}

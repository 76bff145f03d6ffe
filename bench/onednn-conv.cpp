// oneDNN (Debian libdnnl-dev 2.6) convolution speed on the resnet and cnn workloads' layer shapes,
// for the evaluation in docs/benchmarks.md ("oneDNN against im2col + OpenBLAS"). Prints, per
// shape, milliseconds per batch for forward + backward-weights + backward-data:
//   nchw   - plain NCHW tensors in and out (what Tandem's tensors are: a drop-in replacement)
//   any    - oneDNN's own blocked layouts (what PyTorch gets), reorders from/to NCHW included
//   blocked- the same without the reorders (the bound if every op of the network spoke blocked)
// Then oneDNN's matmul against OpenBLAS's sgemm on the dense workloads' GEMMs (GFLOP/s).
// Build and run: launch/bench onednn  (g++ -O2 bench/onednn-conv.cpp -ldnnl -lopenblas; OMP_NUM_THREADS=1)
#include <cblas.h>
#include <dnnl.hpp>
#include <chrono>
#include <cstdio>
#include <vector>
#include <algorithm>
#include <tuple>

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

struct Shape { const char *name; int n, c, h, o, k, s, p; };

static double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static memory filled(const memory::desc &md, const engine &eng, float v) {
    memory m(md, eng);
    float *p = static_cast<float *>(m.get_data_handle());
    size_t count = md.get_size() / sizeof(float);
    for (size_t i = 0; i < count; i++) p[i] = v * float((i * 2654435761u) % 1000) / 1000.0f;
    return m;
}

// Median over rounds of one fwd+bwd pass in ms; fmt = tag::nchw or tag::any.
static double measure(const Shape &s, tag fmt, bool reorders, engine &eng, stream &st) {
    int ho = (s.h + 2 * s.p - s.k) / s.s + 1;
    memory::dims src{s.n, s.c, s.h, s.h}, wei{s.o, s.c, s.k, s.k}, dst{s.n, s.o, ho, ho};
    memory::dims strides{s.s, s.s}, pad{s.p, s.p};
    auto md = [&](memory::dims d, tag plain) { return memory::desc(d, dt::f32, fmt == tag::any ? tag::any : plain); };
    auto fd = convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct,
        md(src, tag::nchw), md(wei, tag::oihw), md(dst, tag::nchw), strides, pad, pad);
    auto fpd = convolution_forward::primitive_desc(fd, eng);
    auto bdd = convolution_backward_data::desc(algorithm::convolution_direct,
        md(src, tag::nchw), md(wei, tag::oihw), md(dst, tag::nchw), strides, pad, pad);
    auto bdpd = convolution_backward_data::primitive_desc(bdd, eng, fpd);
    auto bwd = convolution_backward_weights::desc(algorithm::convolution_direct,
        md(src, tag::nchw), md(wei, tag::oihw), md(dst, tag::nchw), strides, pad, pad);
    auto bwpd = convolution_backward_weights::primitive_desc(bwd, eng, fpd);

    memory::desc plainSrc(src, dt::f32, tag::nchw), plainDst(dst, dt::f32, tag::nchw);
    auto x = filled(plainSrc, eng, 1), gy = filled(plainDst, eng, 1), y0 = filled(plainDst, eng, 0);
    auto gx0 = filled(plainSrc, eng, 0);
    auto xs = filled(fpd.src_desc(), eng, 1), w = filled(fpd.weights_desc(), eng, 0.1f);
    auto y = filled(fpd.dst_desc(), eng, 0), gys = filled(bwpd.diff_dst_desc(), eng, 1);
    auto gw = filled(bwpd.diff_weights_desc(), eng, 0), gx = filled(bdpd.diff_src_desc(), eng, 0);
    auto wd = filled(bdpd.weights_desc(), eng, 0.1f), gyd = filled(bdpd.diff_dst_desc(), eng, 1);
    convolution_forward f(fpd);
    convolution_backward_data bd(bdpd);
    convolution_backward_weights bw(bwpd);
    std::vector<double> times;
    int reps = std::max(3, int(3e8 / (2.0 * s.n * s.o * ho * ho * s.c * s.k * s.k)));
    for (int round = 0; round < 7; round++) {
        double t = now();
        for (int r = 0; r < reps; r++) {
            if (reorders && fmt == tag::any) reorder(x, xs).execute(st, x, xs);
            f.execute(st, {{DNNL_ARG_SRC, xs}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, y}});
            if (reorders && fmt == tag::any) {
                reorder(y, y0).execute(st, y, y0);
                reorder(gy, gys).execute(st, gy, gys);
                if (gyd.get_desc() != gys.get_desc()) reorder(gys, gyd).execute(st, gys, gyd);
            }
            bw.execute(st, {{DNNL_ARG_SRC, xs}, {DNNL_ARG_DIFF_DST, gys}, {DNNL_ARG_DIFF_WEIGHTS, gw}});
            if (s.c > 1) {
                bd.execute(st, {{DNNL_ARG_DIFF_DST, gyd}, {DNNL_ARG_WEIGHTS, wd}, {DNNL_ARG_DIFF_SRC, gx}});
                if (reorders && fmt == tag::any) reorder(gx, gx0).execute(st, gx, gx0);
            }
        }
        st.wait();
        times.push_back((now() - t) / reps * 1e3);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

// GFLOP/s of C[m,n] = A[m,k] B[k,n] (B transposed when tb, as Linear's forward), best of 7 rounds.
static void matmul_row(int m, int k, int n, bool tb, engine &eng, stream &st) {
    memory::desc a_md({m, k}, dt::f32, tag::ab), c_md({m, n}, dt::f32, tag::ab);
    memory::desc b_md({k, n}, dt::f32, tb ? tag::ba : tag::ab);
    auto pd = matmul::primitive_desc(matmul::desc(a_md, b_md, c_md), eng);
    matmul mm(pd);
    auto a = filled(a_md, eng, 1), b = filled(b_md, eng, 1), c = filled(c_md, eng, 0);
    auto pa = static_cast<float *>(a.get_data_handle()), pb = static_cast<float *>(b.get_data_handle());
    auto pc = static_cast<float *>(c.get_data_handle());
    int reps = std::max(5, int(2e8 / (2.0 * m * n * k)));
    double best[2] = {1e9, 1e9};
    for (int round = 0; round < 7; round++) {
        double t = now();
        for (int r = 0; r < reps; r++) mm.execute(st, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
        st.wait();
        best[0] = std::min(best[0], (now() - t) / reps);
        t = now();
        for (int r = 0; r < reps; r++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1, pa, k, pb,
                        tb ? k : n, 0, pc, n);
        best[1] = std::min(best[1], (now() - t) / reps);
    }
    double flops = 2.0 * m * n * k;
    std::printf("%5d x %5d x %5d %s %12.1f %12.1f\n", m, k, n, tb ? "NT" : "NN", flops / best[0] / 1e9,
                flops / best[1] / 1e9);
}

int main() {
    engine eng(engine::kind::cpu, 0);
    stream st(eng);
    std::vector<Shape> shapes = {
        {"resnet stem 1->16 3x3 28", 64, 1, 28, 16, 3, 1, 1},
        {"resnet 16->16 3x3 28", 64, 16, 28, 16, 3, 1, 1},
        {"resnet 16->32 3x3 s2 28", 64, 16, 28, 32, 3, 2, 1},
        {"resnet 32->32 3x3 14", 64, 32, 14, 32, 3, 1, 1},
        {"resnet 16->32 1x1 s2 28", 64, 16, 28, 32, 1, 2, 0},
        {"resnet 32->64 3x3 s2 14", 64, 32, 14, 64, 3, 2, 1},
        {"resnet 64->64 3x3 7", 64, 64, 7, 64, 3, 1, 1},
        {"resnet 32->64 1x1 s2 14", 64, 32, 14, 64, 1, 2, 0},
        {"cnn 1->32 3x3 28", 64, 1, 28, 32, 3, 1, 0},
        {"cnn 32->64 3x3 13", 64, 32, 13, 64, 3, 1, 0},
    };
    std::printf("oneDNN %d.%d.%d conv fwd+bwd, batch 64, ms per batch (median of 7)\n",
        dnnl_version()->major, dnnl_version()->minor, dnnl_version()->patch);
    std::printf("%-28s %9s %9s %9s\n", "shape", "nchw", "any", "blocked");
    for (auto &s : shapes) {
        double a = measure(s, tag::nchw, false, eng, st);
        double b = measure(s, tag::any, true, eng, st);
        double c = measure(s, tag::any, false, eng, st);
        std::printf("%-28s %9.3f %9.3f %9.3f\n", s.name, a, b, c);
    }
    std::printf("\nmatmul GFLOP/s, best of 7 alternating rounds      oneDNN     OpenBLAS\n");
    for (auto [m, k, n, tb] : {std::tuple{64, 784, 128, true}, {64, 784, 1024, true}, {64, 1024, 1024, true},
                               {1024, 64, 1024, false}, {64, 1024, 1024, false}, {128, 128, 512, true}})
        matmul_row(m, k, n, tb, eng, st);
}

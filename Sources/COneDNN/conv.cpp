// See include/tandem_onednn.h. One object per convolution shape, used by one thread at a time
// (its mutex): the stream and the reorder and convolution primitives are the object's own.
#include "tandem_onednn.h"

#include <dnnl.hpp>
#include <cstdio>
#include <mutex>
#include <string>

extern "C" void omp_set_num_threads(int);  // libgomp, oneDNN's threading runtime in Debian

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {
// Scratchpads are the caller's (user mode): the library's default shares one among all
// primitives and allows no primitive to run on a thread other than the one that made it, and
// Tandem's plans are shared by threads (simulated ranks). Each call gets its own.
primitive_attr user_scratchpad() {
    primitive_attr attr;
    attr.set_scratchpad_mode(scratchpad_mode::user);
    return attr;
}

// A reorder from `from` to `to`, adding onto `to` when `sum` (a sum post-op).
reorder make_reorder(const memory &from, const memory &to, bool sum) {
    primitive_attr attr;
    if (sum) {
        post_ops ops;
        ops.append_sum(1.0f);
        attr.set_post_ops(ops);
    }
    return reorder(reorder::primitive_desc(from, to, attr));
}
}  // namespace

struct tandem_onednn_conv {
    std::mutex lock;
    int threads;
    engine eng{engine::kind::cpu, 0};
    stream st{eng};
    memory::dims src_d, wei_d, dst_d, strides, pads;
    // bf16: the products' inputs (src, weights, diff_dst) in bfloat16, the reorders from the
    // caller's float32 doing the cast; outputs and gradients stay float32.
    dt in = dt::f32;
    // The caller's NCHW / OIHW buffers: handles set per call.
    memory user_x, user_w, user_y, user_gy, user_gw, user_gx;
    convolution_forward::primitive_desc fpd;
    convolution_forward fwd;
    reorder x_to_src, w_to_wei, dst_to_y, dst_to_y_sum;
    // Made on the first backward (evaluation never needs them).
    bool has_backward = false;
    convolution_backward_weights::primitive_desc bwpd;
    convolution_backward_data::primitive_desc bdpd;
    convolution_backward_weights bwd_weights;
    convolution_backward_data bwd_data;
    reorder x_to_bw_src, gy_to_bw, bw_to_gw, w_to_bd, gy_to_bd, bd_to_gx;

    memory::desc any(const memory::dims &d, dt type = dt::f32) const { return memory::desc(d, type, tag::any); }

    void make_backward() {
        auto bwd = convolution_backward_weights::desc(algorithm::convolution_direct, any(src_d, in), any(wei_d),
                                                      any(dst_d, in), strides, pads, pads);
        bwpd = convolution_backward_weights::primitive_desc(bwd, user_scratchpad(), eng, fpd);
        auto bdd = convolution_backward_data::desc(algorithm::convolution_direct, any(src_d), any(wei_d, in),
                                                   any(dst_d, in), strides, pads, pads);
        bdpd = convolution_backward_data::primitive_desc(bdd, user_scratchpad(), eng, fpd);
        bwd_weights = convolution_backward_weights(bwpd);
        bwd_data = convolution_backward_data(bdpd);
        x_to_bw_src = make_reorder(user_x, memory(bwpd.src_desc(), eng, DNNL_MEMORY_NONE), false);
        gy_to_bw = make_reorder(user_gy, memory(bwpd.diff_dst_desc(), eng, DNNL_MEMORY_NONE), false);
        bw_to_gw = make_reorder(memory(bwpd.diff_weights_desc(), eng, DNNL_MEMORY_NONE), user_gw, true);
        w_to_bd = make_reorder(user_w, memory(bdpd.weights_desc(), eng, DNNL_MEMORY_NONE), false);
        gy_to_bd = make_reorder(user_gy, memory(bdpd.diff_dst_desc(), eng, DNNL_MEMORY_NONE), false);
        bd_to_gx = make_reorder(memory(bdpd.diff_src_desc(), eng, DNNL_MEMORY_NONE), user_gx, true);
        has_backward = true;
    }
};

extern "C" tandem_onednn_conv *tandem_onednn_conv_create(long n, long c, long h, long w, long o, long kh, long kw,
                                                         long stride, long pad, int bf16, int threads, char *err,
                                                         size_t err_len) {
    try {
        // Primitives fix their thread count when made: set it before, not only when they run.
        omp_set_num_threads(threads);
        auto *cv = new tandem_onednn_conv();
        cv->threads = threads;
        cv->in = bf16 ? dt::bf16 : dt::f32;
        const long ho = (h + 2 * pad - kh) / stride + 1, wo = (w + 2 * pad - kw) / stride + 1;
        cv->src_d = {n, c, h, w};
        cv->wei_d = {o, c, kh, kw};
        cv->dst_d = {n, o, ho, wo};
        cv->strides = {stride, stride};
        cv->pads = {pad, pad};
        auto &eng = cv->eng;
        auto fd = convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct,
                                            cv->any(cv->src_d, cv->in), cv->any(cv->wei_d, cv->in),
                                            cv->any(cv->dst_d), cv->strides, cv->pads, cv->pads);
        cv->fpd = convolution_forward::primitive_desc(fd, user_scratchpad(), eng);
        // Without native bf16 oneDNN may offer a slow reference kernel: not for Tandem.
        if (bf16 && std::string(cv->fpd.impl_info_str()).find("ref") != std::string::npos) {
            std::snprintf(err, err_len, "oneDNN has only a reference bf16 convolution here");
            delete cv;
            return nullptr;
        }
        auto user = [&](const memory::dims &d, tag t) { return memory({d, dt::f32, t}, eng, DNNL_MEMORY_NONE); };
        cv->user_x = user(cv->src_d, tag::nchw);
        cv->user_w = user(cv->wei_d, tag::oihw);
        cv->user_y = user(cv->dst_d, tag::nchw);
        cv->user_gy = user(cv->dst_d, tag::nchw);
        cv->user_gw = user(cv->wei_d, tag::oihw);
        cv->user_gx = user(cv->src_d, tag::nchw);
        cv->fwd = convolution_forward(cv->fpd);
        memory src(cv->fpd.src_desc(), eng, DNNL_MEMORY_NONE), wei(cv->fpd.weights_desc(), eng, DNNL_MEMORY_NONE),
            dst(cv->fpd.dst_desc(), eng, DNNL_MEMORY_NONE);
        cv->x_to_src = make_reorder(cv->user_x, src, false);
        cv->w_to_wei = make_reorder(cv->user_w, wei, false);
        cv->dst_to_y = make_reorder(dst, cv->user_y, false);
        cv->dst_to_y_sum = make_reorder(dst, cv->user_y, true);
        return cv;
    } catch (const std::exception &e) {
        std::snprintf(err, err_len, "%s", e.what());
        return nullptr;
    }
}

// Blocked buffers live for one call only: a plan kept for an evaluation batch of 1000 would
// otherwise hold hundreds of MB.
extern "C" int tandem_onednn_conv_forward(tandem_onednn_conv *cv, const float *x, const float *weight, float *y,
                                          int accumulate) {
    try {
        std::lock_guard<std::mutex> guard(cv->lock);
        omp_set_num_threads(cv->threads);
        auto &st = cv->st;
        auto &eng = cv->eng;
        cv->user_x.set_data_handle(const_cast<float *>(x));
        cv->user_w.set_data_handle(const_cast<float *>(weight));
        cv->user_y.set_data_handle(y);
        memory src(cv->fpd.src_desc(), eng), wei(cv->fpd.weights_desc(), eng), dst(cv->fpd.dst_desc(), eng);
        cv->x_to_src.execute(st, cv->user_x, src);
        cv->w_to_wei.execute(st, cv->user_w, wei);
        memory scratch(cv->fpd.scratchpad_desc(), eng);
        cv->fwd.execute(
            st, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCRATCHPAD, scratch}});
        (accumulate ? cv->dst_to_y_sum : cv->dst_to_y).execute(st, dst, cv->user_y);
        st.wait();
        return 0;
    } catch (const std::exception &) {
        return 1;
    }
}

extern "C" int tandem_onednn_conv_backward(tandem_onednn_conv *cv, const float *x, const float *weight,
                                           const float *gy, float *gw, float *gx) {
    try {
        std::lock_guard<std::mutex> guard(cv->lock);
        omp_set_num_threads(cv->threads);
        if (!cv->has_backward) cv->make_backward();
        auto &st = cv->st;
        auto &eng = cv->eng;
        cv->user_gy.set_data_handle(const_cast<float *>(gy));
        // Both gradients read gy: where their primitives want it in the same layout, one reorder
        // serves both (it is as large as the convolution's output).
        const bool shared_gy = gw && gx && cv->bwpd.diff_dst_desc() == cv->bdpd.diff_dst_desc();
        memory gy_for_weights;
        if (gw) {
            cv->user_x.set_data_handle(const_cast<float *>(x));
            cv->user_gw.set_data_handle(gw);
            memory src(cv->bwpd.src_desc(), eng), diff_dst(cv->bwpd.diff_dst_desc(), eng),
                diff_wei(cv->bwpd.diff_weights_desc(), eng);
            cv->x_to_bw_src.execute(st, cv->user_x, src);
            cv->gy_to_bw.execute(st, cv->user_gy, diff_dst);
            gy_for_weights = diff_dst;
            memory scratch(cv->bwpd.scratchpad_desc(), eng);
            cv->bwd_weights.execute(st, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diff_dst},
                                         {DNNL_ARG_DIFF_WEIGHTS, diff_wei}, {DNNL_ARG_SCRATCHPAD, scratch}});
            cv->bw_to_gw.execute(st, diff_wei, cv->user_gw);
        }
        if (gx) {
            cv->user_w.set_data_handle(const_cast<float *>(weight));
            cv->user_gx.set_data_handle(gx);
            memory wei(cv->bdpd.weights_desc(), eng), diff_src(cv->bdpd.diff_src_desc(), eng);
            memory diff_dst = shared_gy ? gy_for_weights : memory(cv->bdpd.diff_dst_desc(), eng);
            cv->w_to_bd.execute(st, cv->user_w, wei);
            if (!shared_gy) cv->gy_to_bd.execute(st, cv->user_gy, diff_dst);
            memory scratch(cv->bdpd.scratchpad_desc(), eng);
            cv->bwd_data.execute(st, {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_WEIGHTS, wei},
                                      {DNNL_ARG_DIFF_SRC, diff_src}, {DNNL_ARG_SCRATCHPAD, scratch}});
            cv->bd_to_gx.execute(st, diff_src, cv->user_gx);
        }
        st.wait();
        return 0;
    } catch (const std::exception &) {
        return 1;
    }
}

extern "C" void tandem_onednn_conv_destroy(tandem_onednn_conv *cv) { delete cv; }

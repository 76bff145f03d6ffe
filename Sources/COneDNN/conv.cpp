// See include/tandem_onednn.h. One object per convolution shape, used by one thread at a time
// (its mutex): the stream and the blocked buffers are the object's own.
#include "tandem_onednn.h"

#include <dnnl.hpp>
#include <cstdio>
#include <mutex>

extern "C" void omp_set_num_threads(int);  // libgomp, oneDNN's threading runtime in Debian

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {
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
    // The caller's NCHW / OIHW buffers: handles set per call.
    memory user_x, user_w, user_y, user_gy, user_gw, user_gx;
    // Blocked buffers in the layouts the primitives chose.
    memory src, wei, dst, bw_src, bw_diff_dst, bw_diff_wei, bd_wei, bd_diff_dst, bd_diff_src;
    convolution_forward fwd;
    convolution_backward_weights bwd_weights;
    convolution_backward_data bwd_data;
    reorder x_to_src, w_to_wei, dst_to_y, dst_to_y_sum, x_to_bw_src, gy_to_bw, bw_to_gw, w_to_bd, gy_to_bd,
        bd_to_gx;
};

extern "C" tandem_onednn_conv *tandem_onednn_conv_create(long n, long c, long h, long w, long o, long kh, long kw,
                                                         long stride, long pad, int threads, char *err,
                                                         size_t err_len) {
    try {
        auto *cv = new tandem_onednn_conv();
        cv->threads = threads;
        const long ho = (h + 2 * pad - kh) / stride + 1, wo = (w + 2 * pad - kw) / stride + 1;
        memory::dims src_d{n, c, h, w}, wei_d{o, c, kh, kw}, dst_d{n, o, ho, wo}, strides{stride, stride},
            pads{pad, pad};
        auto any = [](const memory::dims &d) { return memory::desc(d, dt::f32, tag::any); };
        auto &eng = cv->eng;
        auto fd = convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, any(src_d),
                                            any(wei_d), any(dst_d), strides, pads, pads);
        auto fpd = convolution_forward::primitive_desc(fd, eng);
        auto bwd = convolution_backward_weights::desc(algorithm::convolution_direct, any(src_d), any(wei_d),
                                                      any(dst_d), strides, pads, pads);
        auto bwpd = convolution_backward_weights::primitive_desc(bwd, eng, fpd);
        auto bdd = convolution_backward_data::desc(algorithm::convolution_direct, any(src_d), any(wei_d),
                                                   any(dst_d), strides, pads, pads);
        auto bdpd = convolution_backward_data::primitive_desc(bdd, eng, fpd);

        auto user = [&](const memory::dims &d, tag t) { return memory({d, dt::f32, t}, eng, DNNL_MEMORY_NONE); };
        cv->user_x = user(src_d, tag::nchw);
        cv->user_w = user(wei_d, tag::oihw);
        cv->user_y = user(dst_d, tag::nchw);
        cv->user_gy = user(dst_d, tag::nchw);
        cv->user_gw = user(wei_d, tag::oihw);
        cv->user_gx = user(src_d, tag::nchw);
        cv->src = memory(fpd.src_desc(), eng);
        cv->wei = memory(fpd.weights_desc(), eng);
        cv->dst = memory(fpd.dst_desc(), eng);
        cv->bw_src = memory(bwpd.src_desc(), eng);
        cv->bw_diff_dst = memory(bwpd.diff_dst_desc(), eng);
        cv->bw_diff_wei = memory(bwpd.diff_weights_desc(), eng);
        cv->bd_wei = memory(bdpd.weights_desc(), eng);
        cv->bd_diff_dst = memory(bdpd.diff_dst_desc(), eng);
        cv->bd_diff_src = memory(bdpd.diff_src_desc(), eng);
        cv->fwd = convolution_forward(fpd);
        cv->bwd_weights = convolution_backward_weights(bwpd);
        cv->bwd_data = convolution_backward_data(bdpd);
        cv->x_to_src = make_reorder(cv->user_x, cv->src, false);
        cv->w_to_wei = make_reorder(cv->user_w, cv->wei, false);
        cv->dst_to_y = make_reorder(cv->dst, cv->user_y, false);
        cv->dst_to_y_sum = make_reorder(cv->dst, cv->user_y, true);
        cv->x_to_bw_src = make_reorder(cv->user_x, cv->bw_src, false);
        cv->gy_to_bw = make_reorder(cv->user_gy, cv->bw_diff_dst, false);
        cv->bw_to_gw = make_reorder(cv->bw_diff_wei, cv->user_gw, true);
        cv->w_to_bd = make_reorder(cv->user_w, cv->bd_wei, false);
        cv->gy_to_bd = make_reorder(cv->user_gy, cv->bd_diff_dst, false);
        cv->bd_to_gx = make_reorder(cv->bd_diff_src, cv->user_gx, true);
        return cv;
    } catch (const std::exception &e) {
        std::snprintf(err, err_len, "%s", e.what());
        return nullptr;
    }
}

extern "C" int tandem_onednn_conv_forward(tandem_onednn_conv *cv, const float *x, const float *weight, float *y,
                                          int accumulate) {
    try {
        std::lock_guard<std::mutex> guard(cv->lock);
        omp_set_num_threads(cv->threads);
        auto &st = cv->st;
        cv->user_x.set_data_handle(const_cast<float *>(x));
        cv->user_w.set_data_handle(const_cast<float *>(weight));
        cv->user_y.set_data_handle(y);
        cv->x_to_src.execute(st, cv->user_x, cv->src);
        cv->w_to_wei.execute(st, cv->user_w, cv->wei);
        cv->fwd.execute(st, {{DNNL_ARG_SRC, cv->src}, {DNNL_ARG_WEIGHTS, cv->wei}, {DNNL_ARG_DST, cv->dst}});
        (accumulate ? cv->dst_to_y_sum : cv->dst_to_y).execute(st, cv->dst, cv->user_y);
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
        auto &st = cv->st;
        cv->user_gy.set_data_handle(const_cast<float *>(gy));
        if (gw) {
            cv->user_x.set_data_handle(const_cast<float *>(x));
            cv->user_gw.set_data_handle(gw);
            cv->x_to_bw_src.execute(st, cv->user_x, cv->bw_src);
            cv->gy_to_bw.execute(st, cv->user_gy, cv->bw_diff_dst);
            cv->bwd_weights.execute(st, {{DNNL_ARG_SRC, cv->bw_src}, {DNNL_ARG_DIFF_DST, cv->bw_diff_dst},
                                         {DNNL_ARG_DIFF_WEIGHTS, cv->bw_diff_wei}});
            cv->bw_to_gw.execute(st, cv->bw_diff_wei, cv->user_gw);
        }
        if (gx) {
            cv->user_w.set_data_handle(const_cast<float *>(weight));
            cv->user_gx.set_data_handle(gx);
            cv->w_to_bd.execute(st, cv->user_w, cv->bd_wei);
            cv->gy_to_bd.execute(st, cv->user_gy, cv->bd_diff_dst);
            cv->bwd_data.execute(st, {{DNNL_ARG_DIFF_DST, cv->bd_diff_dst}, {DNNL_ARG_WEIGHTS, cv->bd_wei},
                                      {DNNL_ARG_DIFF_SRC, cv->bd_diff_src}});
            cv->bd_to_gx.execute(st, cv->bd_diff_src, cv->user_gx);
        }
        st.wait();
        return 0;
    } catch (const std::exception &) {
        return 1;
    }
}

extern "C" void tandem_onednn_conv_destroy(tandem_onednn_conv *cv) { delete cv; }

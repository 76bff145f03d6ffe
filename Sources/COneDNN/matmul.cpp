// See include/tandem_onednn.h: one object per product shape (sizes and strides of the three
// operands, alpha, beta), used by one thread at a time (its mutex).
#include "tandem_onednn.h"

#include <dnnl.hpp>
#include <cstdio>
#include <mutex>

extern "C" void omp_set_num_threads(int);

using namespace dnnl;
using dt = memory::data_type;

struct tandem_onednn_matmul {
    std::mutex lock;
    int threads;
    engine eng{engine::kind::cpu, 0};
    stream st{eng};
    memory a, b, c;
    dnnl::matmul primitive;
};

extern "C" tandem_onednn_matmul *tandem_onednn_matmul_create(int ndims, const long *a_dims, const long *a_strides,
                                                             const long *b_dims, const long *b_strides,
                                                             const long *c_dims, const long *c_strides, float alpha,
                                                             float beta, int threads, char *err, size_t err_len) {
    try {
        omp_set_num_threads(threads);  // primitives fix their thread count when made
        auto *mm = new tandem_onednn_matmul();
        mm->threads = threads;
        auto desc = [ndims](const long *dims, const long *strides) {
            return memory::desc(memory::dims(dims, dims + ndims), dt::f32, memory::dims(strides, strides + ndims));
        };
        memory::desc a_md = desc(a_dims, a_strides), b_md = desc(b_dims, b_strides), c_md = desc(c_dims, c_strides);
        primitive_attr attr;
        if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
        if (beta != 0.0f) {
            post_ops ops;
            ops.append_sum(beta);
            attr.set_post_ops(ops);
        }
        auto pd = matmul::primitive_desc(matmul::desc(a_md, b_md, c_md), attr, mm->eng);
        mm->primitive = dnnl::matmul(pd);
        mm->a = memory(a_md, mm->eng, DNNL_MEMORY_NONE);
        mm->b = memory(b_md, mm->eng, DNNL_MEMORY_NONE);
        mm->c = memory(c_md, mm->eng, DNNL_MEMORY_NONE);
        return mm;
    } catch (const std::exception &e) {
        std::snprintf(err, err_len, "%s", e.what());
        return nullptr;
    }
}

extern "C" int tandem_onednn_matmul_run(tandem_onednn_matmul *mm, const float *a, const float *b, float *c) {
    try {
        std::lock_guard<std::mutex> guard(mm->lock);
        omp_set_num_threads(mm->threads);
        mm->a.set_data_handle(const_cast<float *>(a));
        mm->b.set_data_handle(const_cast<float *>(b));
        mm->c.set_data_handle(c);
        mm->primitive.execute(mm->st, {{DNNL_ARG_SRC, mm->a}, {DNNL_ARG_WEIGHTS, mm->b}, {DNNL_ARG_DST, mm->c}});
        mm->st.wait();
        return 0;
    } catch (const std::exception &) {
        return 1;
    }
}

extern "C" void tandem_onednn_matmul_destroy(tandem_onednn_matmul *mm) { delete mm; }

// See include/tandem_onednn.h: one object per product shape (sizes and strides of the three
// operands, alpha, beta), used by one thread at a time (its mutex).
#include "tandem_onednn.h"

#include <dnnl.hpp>
#include <cstdio>
#include <mutex>
#include <string>

extern "C" void omp_set_num_threads(int);

using namespace dnnl;
using dt = memory::data_type;

struct tandem_onednn_matmul {
    std::mutex lock;
    int threads;
    engine eng{engine::kind::cpu, 0};
    stream st{eng};
    memory a, b, c, scratch;  // the scratchpad is the plan's own (user mode: plans migrate between threads)
    dnnl::matmul primitive;
};

extern "C" tandem_onednn_matmul *tandem_onednn_matmul_create(int ndims, const long *a_dims, const long *a_strides,
                                                             const long *b_dims, const long *b_strides,
                                                             const long *c_dims, const long *c_strides, float alpha,
                                                             float beta, int bf16, int threads, char *err,
                                                             size_t err_len) {
    try {
        omp_set_num_threads(threads);  // primitives fix their thread count when made
        auto *mm = new tandem_onednn_matmul();
        mm->threads = threads;
        auto desc = [ndims](const long *dims, const long *strides, dt type) {
            return memory::desc(memory::dims(dims, dims + ndims), type, memory::dims(strides, strides + ndims));
        };
        dt in = bf16 ? dt::bf16 : dt::f32;  // bf16 inputs accumulate in f32 into an f32 C
        memory::desc a_md = desc(a_dims, a_strides, in), b_md = desc(b_dims, b_strides, in),
                     c_md = desc(c_dims, c_strides, dt::f32);
        primitive_attr attr;
        attr.set_scratchpad_mode(scratchpad_mode::user);
        if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
        if (beta != 0.0f) {
            post_ops ops;
            ops.append_sum(beta);
            attr.set_post_ops(ops);
        }
        auto pd = matmul::primitive_desc(matmul::desc(a_md, b_md, c_md), attr, mm->eng);
        // Without native bf16 oneDNN may still offer a slow reference kernel: not for Tandem.
        if (bf16 && std::string(pd.impl_info_str()).find("ref") != std::string::npos) {
            std::snprintf(err, err_len, "oneDNN has only a reference bf16 matmul here (%s)", pd.impl_info_str());
            delete mm;
            return nullptr;
        }
        mm->primitive = dnnl::matmul(pd);
        mm->a = memory(a_md, mm->eng, DNNL_MEMORY_NONE);
        mm->b = memory(b_md, mm->eng, DNNL_MEMORY_NONE);
        mm->c = memory(c_md, mm->eng, DNNL_MEMORY_NONE);
        mm->scratch = memory(pd.scratchpad_desc(), mm->eng);
        return mm;
    } catch (const std::exception &e) {
        std::snprintf(err, err_len, "%s", e.what());
        return nullptr;
    }
}

extern "C" int tandem_onednn_matmul_run(tandem_onednn_matmul *mm, const void *a, const void *b, float *c) {
    try {
        std::lock_guard<std::mutex> guard(mm->lock);
        omp_set_num_threads(mm->threads);
        mm->a.set_data_handle(const_cast<void *>(a));
        mm->b.set_data_handle(const_cast<void *>(b));
        mm->c.set_data_handle(c);
        mm->primitive.execute(mm->st, {{DNNL_ARG_SRC, mm->a}, {DNNL_ARG_WEIGHTS, mm->b}, {DNNL_ARG_DST, mm->c},
                                       {DNNL_ARG_SCRATCHPAD, mm->scratch}});
        mm->st.wait();
        return 0;
    } catch (const std::exception &) {
        return 1;
    }
}

extern "C" void tandem_onednn_matmul_destroy(tandem_onednn_matmul *mm) { delete mm; }

extern "C" const char *tandem_onednn_isa(void) {
    switch (dnnl::get_effective_cpu_isa()) {
    case cpu_isa::avx512_core_amx: return "avx512_core_amx";
    case cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case cpu_isa::avx512_core: return "avx512_core";
    case cpu_isa::avx2_vnni: return "avx2_vnni";
    case cpu_isa::avx2: return "avx2";
    case cpu_isa::avx: return "avx";
    case cpu_isa::sse41: return "sse41";
    default: return "other";
    }
}

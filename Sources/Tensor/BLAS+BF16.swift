import CKernels

/// bf16 products (inside `Autocast.run(.bf16)`): both inputs cast to compact bfloat16 copies
/// (a scope's weights once, from its cache), then one oneDNN bf16 matmul into the float32 output.
extension BLAS {
    static func bf16Gemm(
        _ context: Autocast.Context, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        // As stored: op(A) = A^T reads a k x m matrix.
        let (ar, ac) = transA ? (k, m) : (m, k)
        let (br, bc) = transB ? (n, k) : (k, n)
        let ca = context.cast(a, rows: ar, columns: ac, ld: lda, slot: 0)
        let cb = context.cast(b, rows: br, columns: bc, ld: ldb, slot: 1)
        bf16Product(
            ca, .rowMajor(rows: m, columns: k, ld: ac, transposed: transA), cb,
            .rowMajor(rows: k, columns: n, ld: bc, transposed: transB), c, .rowMajor(rows: m, columns: n, ld: ldc),
            alpha: alpha, beta: beta)
    }

    /// C = alpha A B + beta C from bfloat16 A and B: oneDNN's bf16 kernel, or where this CPU has
    /// none, the same rounded values widened back and multiplied in float32.
    static func bf16Product(
        _ a: BF16Buffer, _ la: StridedMatrices, _ b: BF16Buffer, _ lb: StridedMatrices,
        _ c: UnsafeMutablePointer<Float>,
        _ lc: StridedMatrices, alpha: Float, beta: Float, native: Bool = Autocast.isNative
    ) {
        if native,
            let plan = OneDNNMatmulPlan.plan(for: .init(a: la, b: lb, c: lc, alpha: alpha, beta: beta, bf16: true))
        {
            plan.run(a.base, b.base, c)
            return
        }
        let (wa, wb) = (a.widened(count: la.extent), b.widened(count: lb.extent))
        fp32BatchedGemm(wa.base, la, wb.base, lb, c, lc, alpha: alpha, beta: beta)
    }
}

extension BF16Buffer {
    /// A compact bfloat16 copy of strided matrices, with its layout: row-major, or column-major
    /// where the source's rows are the unit-stride axis (a transposed view stays one).
    static func compact(_ p: UnsafePointer<Float>, _ l: StridedMatrices, _ context: Autocast.Context, slot: Int)
        -> (BF16Buffer, StridedMatrices)
    {
        let last = l.dims.count - 1
        if l.strides[last] != 1 && l.strides[last - 1] == 1 {
            let (buffer, layout) = compact(p, l.transposed, context, slot: slot)
            return (buffer, layout.transposed)
        }
        let (rows, columns) = (l.rows, l.columns)
        let buffer = context.scratch(slot, count: l.batchCount * rows * columns)
        for index in 0..<l.batchCount {
            let src = p + l.offset(ofBatch: index)
            let dst = buffer.base + index * rows * columns
            if l.strides[last] == 1 {
                tandem_f32_to_bf16_2d(src, rows, columns, l.strides[last - 1], dst, native)
            } else {  // neither axis has unit stride: element by element (no caller does this now)
                for r in 0..<rows {
                    for col in 0..<columns {
                        tandem_f32_to_bf16(
                            src + r * l.strides[last - 1] + col * l.strides[last], dst + r * columns + col, 1, 0)
                    }
                }
            }
        }
        return (buffer, l.compacted)
    }
}

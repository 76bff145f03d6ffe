/// 2-D convolution as im2col + one sgemm over the whole batch.
///
/// The batch's patches form one matrix col [C*kh*kw, N*Ho*Wo], so the forward pass and each of
/// the two gradients is a single large GEMM (a per-image GEMM with K = 9 would starve sgemm).
struct ConvGeometry {
    let n, c, h, w, o, kh, kw, stride, pad, ho, wo: Int
    var patch: Int { c * kh * kw }
    var pixels: Int { ho * wo }
    var columns: Int { n * ho * wo }

    /// For kernel column kj: output columns whose input column is inside the image, [lo, hi).
    @inline(__always) func validColumns(_ kj: Int) -> (Int, Int) {
        let lo = Swift.max(0, (pad - kj + stride - 1) / stride)
        let hi = Swift.min(wo, (w + pad - kj + stride - 1) / stride)
        return (lo, Swift.max(lo, hi))
    }

    /// Visits every (row of col, image, output row): the matching input row pointer or nil (padding).
    @inline(__always) func forEachPatchRow(_ body: (_ colRow: Int, _ ki: Int, _ kj: Int, _ inRow: Int?) -> Void) {
        for ch in 0..<c { for ki in 0..<kh { for kj in 0..<kw {
            let r = (ch * kh + ki) * kw + kj
            for img in 0..<n { for oh in 0..<ho {
                let ih = oh * stride - pad + ki
                let colRow = r * columns + img * pixels + oh * wo
                body(colRow, ki, kj, ih >= 0 && ih < h ? ((img * c + ch) * h + ih) * w : nil)
            } }
        } } }
    }

    func im2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>) {
        forEachPatchRow { colRow, _, kj, inRow in
            let dst = col + colRow
            guard let inRow else { dst.initialize(repeating: 0, count: wo); return }
            let (lo, hi) = validColumns(kj)
            for ow in 0..<lo { dst[ow] = 0 }
            let src = x + inRow - pad + kj
            if stride == 1 { for ow in lo..<hi { dst[ow] = src[ow] } }
            else { for ow in lo..<hi { dst[ow] = src[ow * stride] } }
            for ow in hi..<wo { dst[ow] = 0 }
        }
    }

    func col2imAdd(_ col: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>) {
        forEachPatchRow { colRow, _, kj, inRow in
            guard let inRow else { return }
            let (lo, hi) = validColumns(kj)
            let src = col + colRow, dst = gx + inRow - pad + kj
            if stride == 1 { for ow in lo..<hi { dst[ow] += src[ow] } }
            else { for ow in lo..<hi { dst[ow * stride] += src[ow] } }
        }
    }
}

extension Tensor {
    /// Convolution of x [N,C,H,W] with weight [O,C,kh,kw] and optional bias [O] -> [N,O,Ho,Wo].
    public static func conv2d(_ x: Tensor, weight wt: Tensor, bias b: Tensor?,
                              stride: Int = 1, padding: Int = 0) -> Tensor {
        let outShape = checked { try Shapes.conv2d(x.shape, weight: wt.shape, stride: stride, padding: padding) }
        if let b { precondition(b.shape == [wt.shape[0]], "conv2d: bias \(b.shape) does not fit weight \(wt.shape)") }
        let geo = ConvGeometry(n: x.shape[0], c: x.shape[1], h: x.shape[2], w: x.shape[3], o: wt.shape[0],
                               kh: wt.shape[2], kw: wt.shape[3], stride: stride, pad: padding,
                               ho: outShape[2], wo: outShape[3])
        let col = TensorStorage(count: geo.patch * geo.columns, zeroed: false)
        geo.im2col(x.data, col.base)
        let tmp = TensorStorage(count: geo.o * geo.columns, zeroed: false)
        BLAS.gemm(m: geo.o, n: geo.columns, k: geo.patch, a: wt.data, lda: geo.patch, b: col.base, ldb: geo.columns,
                  c: tmp.base, ldc: geo.columns)
        // [O, N*P] -> [N, O, P], adding the bias on the way.
        let y = empty(outShape), ys = y.data, P = geo.pixels
        for img in 0..<geo.n {
            for oc in 0..<geo.o {
                let src = tmp.base + oc * geo.columns + img * P, dst = ys + (img * geo.o + oc) * P
                let bias = b?.data[oc] ?? 0
                for p in 0..<P { dst[p] = src[p] + bias }
            }
        }
        return record(y, "conv2d", b.map { [x, wt, $0] } ?? [x, wt]) { out in
            let g = out.grad!.data
            let gP = tmp   // reuse: [O, N*P] layout of the output gradient
            for img in 0..<geo.n {
                for oc in 0..<geo.o {
                    (gP.base + oc * geo.columns + img * P).update(from: g + (img * geo.o + oc) * P, count: P)
                }
            }
            if wt.requiresGrad {   // dW = dY col^T
                BLAS.gemm(transB: true, m: geo.o, n: geo.patch, k: geo.columns, a: gP.base, lda: geo.columns,
                          b: col.base, ldb: geo.columns, beta: 1, c: wt.gradData(), ldc: geo.patch)
            }
            if let b, b.requiresGrad {
                let gb = b.gradData()
                for oc in 0..<geo.o {
                    let row = gP.base + oc * geo.columns
                    var s: Float = 0
                    for j in 0..<geo.columns { s += row[j] }
                    gb[oc] += s
                }
            }
            if x.requiresGrad {    // dcol = W^T dY, folded back onto the image
                BLAS.gemm(transA: true, m: geo.patch, n: geo.columns, k: geo.o, a: wt.data, lda: geo.patch,
                          b: gP.base, ldb: geo.columns, c: col.base, ldc: geo.columns)
                geo.col2imAdd(col.base, x.gradData())
            }
        }
    }
}

/// 2-D convolution as im2col + sgemm, one image at a time.
///
/// Per image, the patch matrix col [C*kh*kw, Ho*Wo] is small enough to stay in cache while its GEMM runs, and the
/// GEMM's output [O, Ho*Wo] is already the image's NCHW slice: no batch-sized temporaries and
/// no layout permutes (a whole-batch GEMM measured slower here: its permutes and its 5 MB
/// temporaries cost more than sgemm gains on the larger shape).
struct ConvGeometry {
    let c, h, w, o, kh, kw, stride, pad, ho, wo: Int
    var patch: Int { c * kh * kw }
    var pixels: Int { ho * wo }

    /// For kernel column kj: output columns whose input column is inside the image, [lo, hi).
    /// Both are clamped to [0, wo]: with padding wide relative to the image (a "same" 5x5 on a
    /// 1-pixel-wide map) a kernel column can see only padding, and then the range is empty.
    @inline(__always) func validColumns(_ kj: Int) -> (Int, Int) {
        let lo = Swift.min(wo, Swift.max(0, (pad - kj + stride - 1) / stride))
        let hi = Swift.min(wo, (w + pad - kj + stride - 1) / stride)
        return (lo, Swift.max(lo, hi))
    }

    /// Visits every (row of col, output row): the offset of the matching input row, or nil in padding.
    @inline(__always) func forEachPatchRow(_ body: (_ colRow: Int, _ kj: Int, _ inRow: Int?) -> Void) {
        for ch in 0..<c {
            for ki in 0..<kh {
                for kj in 0..<kw {
                    let r = (ch * kh + ki) * kw + kj
                    for oh in 0..<ho {
                        let ih = oh * stride - pad + ki
                        body(r * pixels + oh * wo, kj, ih >= 0 && ih < h ? (ch * h + ih) * w : nil)
                    }
                }
            }
        }
    }

    /// col [patch, pixels] from one image [C, H, W].
    func im2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>) {
        forEachPatchRow { colRow, kj, inRow in
            let dst = col + colRow
            guard let inRow else {
                dst.initialize(repeating: 0, count: wo)
                return
            }
            let (lo, hi) = validColumns(kj)
            for ow in 0..<lo { dst[ow] = 0 }
            let src = x + inRow - pad + kj
            if stride == 1 {
                for ow in lo..<hi { dst[ow] = src[ow] }
            } else {
                for ow in lo..<hi { dst[ow] = src[ow * stride] }
            }
            for ow in hi..<wo { dst[ow] = 0 }
        }
    }

    /// Adds col [patch, pixels] back onto one image's gradient [C, H, W].
    func col2imAdd(_ col: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>) {
        forEachPatchRow { colRow, kj, inRow in
            guard let inRow else { return }
            let (lo, hi) = validColumns(kj)
            let src = col + colRow
            let dst = gx + inRow - pad + kj
            if stride == 1 {
                for ow in lo..<hi { dst[ow] += src[ow] }
            } else {
                for ow in lo..<hi { dst[ow * stride] += src[ow] }
            }
        }
    }
}

extension Tensor {
    /// Convolution of x [N,C,H,W] with weight [O,C,kh,kw] and optional bias [O] -> [N,O,Ho,Wo].
    public static func conv2d(
        _ x: Tensor, weight wt: Tensor, bias b: Tensor?,
        stride: Int = 1, padding: Int = 0
    ) -> Tensor {
        let outShape = checked { try Shapes.conv2d(x.shape, weight: wt.shape, stride: stride, padding: padding) }
        if let b { precondition(b.shape == [wt.shape[0]], "conv2d: bias \(b.shape) does not fit weight \(wt.shape)") }
        let geo = ConvGeometry(
            c: x.shape[1], h: x.shape[2], w: x.shape[3], o: wt.shape[0],
            kh: wt.shape[2], kw: wt.shape[3], stride: stride, pad: padding,
            ho: outShape[2], wo: outShape[3])
        let images = x.shape[0]
        let inSize = geo.c * geo.h * geo.w
        let outSize = geo.o * geo.pixels
        let pixels = geo.pixels
        let patch = geo.patch
        // Every image's patches are kept for the weight gradient when one will be needed
        // (computing them twice cost more than the memory); otherwise one image's worth is reused.
        let keep = wt.requiresGrad && isRecordingGradients
        let cols = TensorStorage(count: patch * pixels * (keep ? images : 1), zeroed: false)
        let y = empty(outShape)
        for img in 0..<images {
            let yi = y.data + img * outSize
            let col = cols.base + (keep ? img * patch * pixels : 0)
            if let b { for oc in 0..<geo.o { (yi + oc * pixels).initialize(repeating: b.data[oc], count: pixels) } }
            geo.im2col(x.data + img * inSize, col)
            BLAS.gemm(
                m: geo.o, n: pixels, k: patch, a: wt.data, lda: patch, b: col, ldb: pixels,
                beta: b == nil ? 0 : 1, c: yi, ldc: pixels)
        }
        return record(y, "conv2d", b.map { [x, wt, $0] } ?? [x, wt]) { _, g in
            let gw = wt.requiresGrad ? wt.gradData() : nil
            let gb = b.flatMap { $0.requiresGrad ? $0.gradData() : nil }
            let gx = x.requiresGrad ? x.gradData() : nil
            let scratch = gx != nil ? TensorStorage(count: patch * pixels, zeroed: false) : nil
            for img in 0..<images {
                let gi = g + img * outSize
                if let gw {  // dW += dY_i col_i^T
                    BLAS.gemm(
                        transB: true, m: geo.o, n: patch, k: pixels, a: gi, lda: pixels,
                        b: cols.base + img * patch * pixels, ldb: pixels,
                        beta: 1, c: gw, ldc: patch)
                }
                if let gb { for oc in 0..<geo.o { gb[oc] += Kernels.sum(gi + oc * pixels, pixels) } }
                if let gx, let scratch {  // dcol = W^T dY_i, folded back onto the image
                    BLAS.gemm(
                        transA: true, m: patch, n: pixels, k: geo.o, a: wt.data, lda: patch, b: gi, ldb: pixels,
                        c: scratch.base, ldc: pixels)
                    geo.col2imAdd(scratch.base, gx + img * inSize)
                }
            }
        }
    }
}

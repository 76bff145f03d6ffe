import CKernels

extension Tensor {
    /// Images per block of the threaded im2col path.
    static let convImageBlock = 8

    /// Whether a convolution's per-image products are ones OpenBLAS takes (below oneDNN's size
    /// threshold, outside a bf16 scope): then its images run in blocks on Tandem's threads. The
    /// choice does not depend on the thread count, so neither do the results.
    static func suitsBlockedIm2col(_ geo: ConvGeometry) -> Bool {
        Autocast.context == nil && geo.o * geo.pixels * geo.patch < BLAS.oneDNNMinimumWork
    }

    /// im2col + one OpenBLAS sgemm per image, images in fixed blocks on Tandem's threads (the
    /// first layers and 1x1 convolutions, which oneDNN does not take). The weight gradient adds
    /// one partial sum per block, in block order: the same bits on any number of threads.
    static func blockedIm2colConv2d(
        _ x: Tensor, weight wt: Tensor, bias b: Tensor?, geometry geo: ConvGeometry, outShape: [Int]
    ) -> Tensor {
        let images = x.shape[0]
        let (inSize, outSize, pixels, patch) = (geo.c * geo.h * geo.w, geo.o * geo.pixels, geo.pixels, geo.patch)
        let y = empty(outShape)
        if let b { broadcastBias(b, into: y) }
        let (xs, ws, ys) = (x.data, wt.data, y.data)
        Parallel.forEachBlock(images, block: convImageBlock) { begin, end in
            let cols = TensorStorage(count: patch * pixels, zeroed: false)
            for img in begin..<end {
                geo.im2col(xs + img * inSize, cols.base)
                BLAS.openBLASGemm(
                    m: geo.o, n: pixels, k: patch, a: ws, lda: patch, b: cols.base, ldb: pixels,
                    beta: b == nil ? 0 : 1, c: ys + img * outSize, ldc: pixels)
            }
        }
        return record(y, "conv2d", b.map { [x, wt, $0] } ?? [x, wt]) { out, g in
            blockedIm2colBackward(x, wt, g, geometry: geo)
            if let b, b.requiresGrad { addBiasGradient(g, shape: out.shape, into: b.gradData()) }
        }
    }

    /// dW (partials per block, added in order) and dX (per image, folded back by col2im).
    private static func blockedIm2colBackward(
        _ x: Tensor, _ wt: Tensor, _ g: UnsafeMutablePointer<Float>, geometry geo: ConvGeometry
    ) {
        let images = x.shape[0]
        let (inSize, outSize, pixels, patch) = (geo.c * geo.h * geo.w, geo.o * geo.pixels, geo.pixels, geo.patch)
        let gw = wt.requiresGrad ? wt.gradData() : nil
        let gx = x.requiresGrad ? x.gradData() : nil
        let weights = geo.o * patch
        let partials = gw.map { _ in TensorStorage(count: (images + convImageBlock - 1) / convImageBlock * weights) }
        let (xs, ws) = (x.data, wt.data)
        Parallel.forEachBlock(images, block: convImageBlock) { begin, end in
            let cols = TensorStorage(count: patch * pixels, zeroed: false)
            let partial = partials.map { $0.base + begin / convImageBlock * weights }
            for img in begin..<end {
                let gi = g + img * outSize
                if let partial {  // the block's dW += dY_i col_i^T
                    geo.im2col(xs + img * inSize, cols.base)
                    BLAS.openBLASGemm(
                        transB: true, m: geo.o, n: patch, k: pixels, a: gi, lda: pixels, b: cols.base, ldb: pixels,
                        beta: img == begin ? 0 : 1, c: partial, ldc: patch)
                }
                if let gx {  // dcol = W^T dY_i, folded back onto the image
                    BLAS.openBLASGemm(
                        transA: true, m: patch, n: pixels, k: geo.o, a: ws, lda: patch, b: gi, ldb: pixels,
                        c: cols.base, ldc: pixels)
                    geo.col2imAdd(cols.base, gx + img * inSize)
                }
            }
        }
        if let gw, let partials {
            for block in 0..<(images + convImageBlock - 1) / convImageBlock {
                let p = partials.base + block * weights
                for i in 0..<weights { gw[i] += p[i] }
            }
        }
    }
}

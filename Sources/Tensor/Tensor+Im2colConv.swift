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

    /// im2col + one sgemm per image (see ConvGeometry). Where `suitsBlockedIm2col`, the images run
    /// in fixed blocks of `convImageBlock` on Tandem's threads, each with its own patch buffer and
    /// OpenBLAS call, and the weight gradient adds one partial sum per block, in block order: the
    /// same bits on any number of threads. Otherwise all images are one block on the caller's
    /// thread through `BLAS.gemm` (its autocast scope and oneDNN dispatch are that thread's), the
    /// weight gradient accumulated in place.
    static func im2colConv2d(
        _ x: Tensor, weight wt: Tensor, bias b: Tensor?, geometry geo: ConvGeometry, outShape: [Int]
    ) -> Tensor {
        let threaded = suitsBlockedIm2col(geo)
        let images = x.shape[0]
        let block = threaded ? convImageBlock : Swift.max(images, 1)
        let (inSize, outSize, pixels, patch) = (geo.c * geo.h * geo.w, geo.o * geo.pixels, geo.pixels, geo.patch)
        let y = empty(outShape)
        if let b { broadcastBias(b, into: y) }
        let (xs, ws, ys) = (x.data, wt.data, y.data)
        Parallel.forEachBlock(images, block: block) { begin, end in
            let cols = TensorStorage(count: patch * pixels, zeroed: false)
            for img in begin..<end {
                geo.im2col(xs + img * inSize, cols.base)
                imageProduct(
                    threaded, m: geo.o, n: pixels, k: patch, a: ws, lda: patch, b: cols.base, ldb: pixels,
                    beta: b == nil ? 0 : 1, c: ys + img * outSize, ldc: pixels)
            }
        }
        return record(y, "conv2d", b.map { [x, wt, $0] } ?? [x, wt]) { out, g in
            im2colBackward(x, wt, g, geometry: geo, threaded: threaded, block: block)
            if let b, b.requiresGrad { addBiasGradient(g, shape: out.shape, into: b.gradData()) }
        }
    }

    /// dW (threaded: partials per block, added in order; otherwise in place) and dX (per image,
    /// folded back by col2im).
    private static func im2colBackward(
        _ x: Tensor, _ wt: Tensor, _ g: UnsafeMutablePointer<Float>, geometry geo: ConvGeometry, threaded: Bool,
        block: Int
    ) {
        let images = x.shape[0]
        let (inSize, outSize, pixels, patch) = (geo.c * geo.h * geo.w, geo.o * geo.pixels, geo.pixels, geo.patch)
        let gw = wt.requiresGrad ? wt.gradData() : nil
        let gx = x.requiresGrad ? x.gradData() : nil
        let weights = geo.o * patch
        let partials = threaded ? gw.map { _ in TensorStorage(count: (images + block - 1) / block * weights) } : nil
        let (xs, ws) = (x.data, wt.data)
        Parallel.forEachBlock(images, block: block) { begin, end in
            let cols = TensorStorage(count: patch * pixels, zeroed: false)
            let into = partials.map { $0.base + begin / block * weights } ?? gw
            for img in begin..<end {
                let gi = g + img * outSize
                if let into {  // dW += dY_i col_i^T, the patches made again while they fit in cache
                    geo.im2col(xs + img * inSize, cols.base)
                    imageProduct(
                        threaded, transB: true, m: geo.o, n: patch, k: pixels, a: gi, lda: pixels, b: cols.base,
                        ldb: pixels, beta: partials != nil && img == begin ? 0 : 1, c: into, ldc: patch)
                }
                if let gx {  // dcol = W^T dY_i, folded back onto the image
                    imageProduct(
                        threaded, transA: true, m: patch, n: pixels, k: geo.o, a: ws, lda: patch, b: gi, ldb: pixels,
                        beta: 0, c: cols.base, ldc: pixels)
                    geo.col2imAdd(cols.base, gx + img * inSize)
                }
            }
        }
        if let gw, let partials {
            for k in 0..<(images + block - 1) / block {
                let p = partials.base + k * weights
                for i in 0..<weights { gw[i] += p[i] }
            }
        }
    }

    /// One image's product: OpenBLAS directly on the pool's threads, `BLAS.gemm` on the caller's.
    private static func imageProduct(
        _ threaded: Bool, transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if threaded {
            BLAS.openBLASGemm(
                transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c,
                ldc: ldc)
        } else {
            BLAS.gemm(
                transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c,
                ldc: ldc)
        }
    }
}

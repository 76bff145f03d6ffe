import CKernels

/// 2-D convolution as im2col + sgemm, one image at a time.
///
/// Per image, the patch matrix col [C*kh*kw, Ho*Wo] is small enough to stay in cache while its GEMM runs, and the
/// GEMM's output [O, Ho*Wo] is already the image's NCHW slice: no batch-sized temporaries and
/// no layout permutes (a whole-batch GEMM measured slower here: its permutes and its 5 MB
/// temporaries cost more than sgemm gains on the larger shape). The backward pass makes each
/// image's patches again rather than keeping the batch's (29 MB for a 16-channel 3x3 layer at
/// 28x28): with the C im2col that costs no more time and saves that memory.
struct ConvGeometry {
    let c, h, w, o, kh, kw, stride, pad, ho, wo: Int
    var patch: Int { c * kh * kw }
    var pixels: Int { ho * wo }

    /// The C kernels' view of this geometry.
    var cGeometry: tandem_conv_geometry {
        tandem_conv_geometry(
            c: c, h: h, w: w, kh: kh, kw: kw, stride: stride, pad: pad, ho: ho, wo: wo)
    }

    /// col [patch, pixels] from one image [C, H, W].
    func im2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>) {
        var g = cGeometry
        tandem_im2col(&g, x, col)
    }

    /// Adds col [patch, pixels] back onto one image's gradient [C, H, W].
    func col2imAdd(_ col: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>) {
        var g = cGeometry
        tandem_col2im_add(&g, col, gx)
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
        let cols = TensorStorage(count: patch * pixels, zeroed: false)
        let y = empty(outShape)
        for img in 0..<images {
            let yi = y.data + img * outSize
            if let b { for oc in 0..<geo.o { (yi + oc * pixels).initialize(repeating: b.data[oc], count: pixels) } }
            geo.im2col(x.data + img * inSize, cols.base)
            BLAS.gemm(
                m: geo.o, n: pixels, k: patch, a: wt.data, lda: patch, b: cols.base, ldb: pixels,
                beta: b == nil ? 0 : 1, c: yi, ldc: pixels)
        }
        return record(y, "conv2d", b.map { [x, wt, $0] } ?? [x, wt]) { _, g in
            let gw = wt.requiresGrad ? wt.gradData() : nil
            let gb = b.flatMap { $0.requiresGrad ? $0.gradData() : nil }
            let gx = x.requiresGrad ? x.gradData() : nil
            let scratch = gx != nil ? TensorStorage(count: patch * pixels, zeroed: false) : nil
            for img in 0..<images {
                let gi = g + img * outSize
                if let gw {  // dW += dY_i col_i^T, the patches made again while they fit in cache
                    geo.im2col(x.data + img * inSize, cols.base)
                    BLAS.gemm(
                        transB: true, m: geo.o, n: patch, k: pixels, a: gi, lda: pixels, b: cols.base, ldb: pixels,
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

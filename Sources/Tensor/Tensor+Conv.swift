import CKernels

/// 2-D convolution as im2col + sgemm, one image at a time.
///
/// Per image, the patch matrix col [C*kh*kw, Ho*Wo] is small enough to stay in cache while its GEMM runs, and the
/// GEMM's output [O, Ho*Wo] is already the image's NCHW slice: no batch-sized temporaries and
/// no layout permutes (a whole-batch GEMM measured slower here: its permutes and its 5 MB
/// temporaries cost more than sgemm gains on the larger shape). The backward pass makes each
/// image's patches again rather than keeping the batch's (29 MB for a 16-channel 3x3 layer at
/// 28x28): with the C im2col that costs no more time and saves that memory.
struct ConvGeometry: Hashable, Sendable {
    let c, h, w, o, kh, kw, stride, pad, ho, wo: Int
    var patch: Int { c * kh * kw }
    var pixels: Int { ho * wo }

    /// Whether oneDNN's direct convolution beat im2col on shapes like this one (docs/benchmarks.md,
    /// `tandem-bench conv`): not for 1x1 kernels (16->32 stride 2: 2.3 vs 0.8 ms per batch of 64) nor
    /// one input channel (1->32 3x3: 1.1 vs 0.7 ms); 1.7-2.2x faster on the 3x3 layers with more.
    var suitsOneDNN: Bool { c > 1 && kh * kw > 1 }

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
        stride: Int = 1, padding: Int = 0, algorithm: ConvAlgorithm = .current
    ) -> Tensor {
        let outShape = checked { try Shapes.conv2d(x.shape, weight: wt.shape, stride: stride, padding: padding) }
        if let b { precondition(b.shape == [wt.shape[0]], "conv2d: bias \(b.shape) does not fit weight \(wt.shape)") }
        let geo = ConvGeometry(
            c: x.shape[1], h: x.shape[2], w: x.shape[3], o: wt.shape[0],
            kh: wt.shape[2], kw: wt.shape[3], stride: stride, pad: padding,
            ho: outShape[2], wo: outShape[3])
        // Inside a bf16 autocast scope, oneDNN's bf16 kernel where this CPU has one (its backward
        // runs bf16 too: the plan is the op's); elsewhere, and for im2col, fp32 or bf16 products.
        let bf16 = Autocast.context != nil && Autocast.isNative
        if algorithm == .oneDNN, geo.suitsOneDNN,
            let plan = (bf16 ? OneDNNConvPlan.plan(for: .init(n: x.shape[0], geometry: geo, bf16: true)) : nil)
                ?? OneDNNConvPlan.plan(for: .init(n: x.shape[0], geometry: geo))
        {
            return oneDNNConv2d(x, weight: wt, bias: b, plan: plan, outShape: outShape)
        }
        return im2colConv2d(x, weight: wt, bias: b, geometry: geo, outShape: outShape)
    }

    /// oneDNN's convolution: bias (if any) first, the convolution added onto it.
    static func oneDNNConv2d(_ x: Tensor, weight wt: Tensor, bias b: Tensor?, plan: OneDNNConvPlan, outShape: [Int])
        -> Tensor
    {
        let y = empty(outShape)
        if let b { broadcastBias(b, into: y) }
        plan.forward(x.data, wt.data, y.data, add: b != nil)
        return record(y, "conv2d", b.map { [x, wt, $0] } ?? [x, wt]) { out, g in
            let gw = wt.requiresGrad ? wt.gradData() : nil
            let gx = x.requiresGrad ? x.gradData() : nil
            if gw != nil || gx != nil { plan.backward(x.data, wt.data, g, gw: gw, gx: gx) }
            if let b, b.requiresGrad { addBiasGradient(g, shape: out.shape, into: b.gradData()) }
        }
    }

    /// Every output channel of y [N, O, H, W] set to its bias (the convolution is then added).
    static func broadcastBias(_ b: Tensor, into y: Tensor) {
        let (o, pixels, ys, bs) = (y.shape[1], y.shape[2] * y.shape[3], y.data, b.data)
        Parallel.forEachBlock(y.shape[0], block: Swift.max(1, Parallel.elementBlock / Swift.max(1, o * pixels))) {
            for img in $0..<$1 {
                for oc in 0..<o { (ys + (img * o + oc) * pixels).initialize(repeating: bs[oc], count: pixels) }
            }
        }
    }

    /// The bias gradient: gb[oc] += the sum of channel oc of g [N, O, H, W], image by image.
    static func addBiasGradient(_ g: UnsafePointer<Float>, shape: [Int], into gb: UnsafeMutablePointer<Float>) {
        // Channels in blocks on Tandem's threads; each channel adds its images in order.
        let (images, o, pixels) = (shape[0], shape[1], shape[2] * shape[3])
        Parallel.forEachBlock(o, block: Swift.max(1, Parallel.elementBlock / Swift.max(1, images * pixels))) {
            for oc in $0..<$1 {
                for img in 0..<images { gb[oc] += Kernels.sum(g + (img * o + oc) * pixels, pixels) }
            }
        }
    }
}

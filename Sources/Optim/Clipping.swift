import Tensor

/// Scales all gradients so that their global L2 norm is at most `maxNorm` (PyTorch's
/// clip_grad_norm_); returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    clipNorm(parameters.compactMap(\.grad), maxNorm: maxNorm)
}

/// Scales `gradients` in place so that their global L2 norm is at most `maxNorm`; returns the
/// norm before clipping.
@discardableResult
public func clipGradientNorm(_ gradients: Gradients, maxNorm: Float) -> Float {
    clipNorm(gradients.named.map(\.tensor), maxNorm: maxNorm)
}

private func clipNorm(_ gradients: [Tensor], maxNorm: Float) -> Float {
    var total: Double = 0
    for g in gradients {
        let d = g.data
        for i in 0..<g.count { total += Double(d[i]) * Double(d[i]) }
    }
    let norm = Float(total.squareRoot())
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        for g in gradients {
            let d = g.data
            for i in 0..<g.count { d[i] *= coefficient }
        }
    }
    return norm
}

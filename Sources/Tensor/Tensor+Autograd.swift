import Foundation
import Glibc

/// Whether ops record the tape on this thread. Thread-local, so simulated ranks on threads
/// can evaluate (no grad) while others train.
enum GradMode {
    static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()
    // No value stored (the default) means enabled.
    @inline(__always) static var isEnabled: Bool { pthread_getspecific(key) == nil }
    static func setEnabled(_ on: Bool) {
        pthread_setspecific(key, on ? nil : UnsafeRawPointer(bitPattern: 1))
    }
}

/// Runs `body` without recording the tape (evaluation, optimizer updates).
public func withoutGrad<R>(_ body: () throws -> R) rethrows -> R {
    let was = GradMode.isEnabled
    GradMode.setEnabled(false)
    defer { GradMode.setEnabled(was) }
    return try body()
}

/// Whether ops on this thread currently record the tape.
public var isRecordingGradients: Bool { GradMode.isEnabled }

extension Tensor {
    /// Makes `out` a node of the tape with `parents` when recording and any parent needs a gradient.
    @inline(__always)
    static func record(
        _ out: Tensor, _ op: String, _ parents: [Tensor],
        _ push: @escaping (_ out: Tensor, _ grad: UnsafeMutablePointer<Float>) -> Void
    ) -> Tensor {
        out.op = op
        if AnomalyDetection.enabled { AnomalyDetection.inspect(out) }
        if GradMode.isEnabled && parents.contains(where: { $0.requiresGrad }) {
            out.requiresGrad = true
            out.parents = parents
            out.pushGrad = push
        }
        return out
    }

    /// The gradient buffer to accumulate into, created zero-filled on first use.
    @inline(__always) public func gradData() -> UnsafeMutablePointer<Float> {
        if let g = grad { return g.data }
        let g = Tensor(zeros: shape)
        grad = g
        return g.data
    }

    /// Adds `n = count` values to the gradient.
    @inline(__always) func accumulateGrad(_ src: UnsafePointer<Float>) {
        let g = gradData()
        for i in 0..<count { g[i] += src[i] }
    }

    /// Reverse-mode differentiation from this tensor.
    ///
    /// Walks the tape in reverse topological order; each node pushes its gradient to its
    /// parents, and gradients of a value used twice add up. With no `seed` the tensor must hold
    /// one element (a loss) and its gradient is 1. Leaves' `onGradReady` fires as soon as their
    /// last consumer has run. Intermediate gradients and the tape are released afterwards.
    public func backward(seed: Tensor? = nil) {
        precondition(requiresGrad, "backward: tensor (op \(op), shape \(shape)) does not require grad")
        let order = topologicalOrder()
        var pending: [ObjectIdentifier: Int] = [:]
        for node in order {
            for p in node.parents where p.requiresGrad { pending[ObjectIdentifier(p), default: 0] += 1 }
        }
        if let seed {
            precondition(seed.shape == shape, "backward: seed shape \(seed.shape) differs from \(shape)")
            // A non-leaf's gradient is only read by its own push, so the seed can serve as it.
            if grad == nil { grad = pushGrad != nil ? seed : seed.detached() } else { accumulateGrad(seed.data) }
        } else {
            precondition(count == 1, "backward: tensor of shape \(shape) needs an explicit seed")
            gradData()[0] += 1
        }
        for node in order.reversed() {
            if let push = node.pushGrad, let grad = node.grad { push(node, grad.data) }
            for p in node.parents where p.requiresGrad {
                let id = ObjectIdentifier(p)
                let left = pending[id]! - 1
                pending[id] = left
                if left == 0 && p.pushGrad == nil { p.onGradReady?(p) }
            }
            if node.pushGrad != nil {
                node.grad = nil
                node.pushGrad = nil
                node.parents = []
            }
        }
        if pushGrad == nil && parents.isEmpty { onGradReady?(self) }
    }

    /// Nodes reachable from self, each after all of its parents.
    func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var seen = Set<ObjectIdentifier>()
        var stack: [(Tensor, Int)] = [(self, 0)]
        seen.insert(ObjectIdentifier(self))
        while let (node, next) = stack.popLast() {
            if next < node.parents.count {
                stack.append((node, next + 1))
                let p = node.parents[next]
                if p.requiresGrad && seen.insert(ObjectIdentifier(p)).inserted { stack.append((p, 0)) }
            } else {
                order.append(node)
            }
        }
        return order
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() {
        if let g = grad { g.data.initialize(repeating: 0, count: g.count) }
    }
}

/// Debug mode's search for the op that first produced a NaN or an infinity.
public enum AnomalyDetection {
    /// When on, every op's output is scanned (slow; for `--debug`).
    nonisolated(unsafe) public static var enabled = false
    private static let lock = NSLock()
    nonisolated(unsafe) private static var first: String?

    /// "op (shape)" of the first non-finite output since the last `reset()`.
    public static var firstNonFiniteOp: String? {
        lock.lock()
        defer { lock.unlock() }
        return first
    }

    /// Clears the recorded op name (between tests).
    public static func reset() {
        lock.lock()
        first = nil
        lock.unlock()
    }

    static func inspect(_ t: Tensor) {
        let p = t.data
        for i in 0..<t.count where !p[i].isFinite {
            lock.lock()
            if first == nil { first = "\(t.op) (output shape \(t.shape), value \(p[i]) at element \(i))" }
            lock.unlock()
            return
        }
    }
}

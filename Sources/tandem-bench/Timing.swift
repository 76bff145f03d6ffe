import Glibc

/// Monotonic seconds.
func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Best seconds per call of each contender, measured in alternating rounds so that a noisy
/// neighbour slows both alike. Each round runs a contender for about `roundSeconds`.
func race(_ contenders: [() -> Void], rounds: Int = 7, roundSeconds: Double = 0.05) -> [Double] {
    for c in contenders { c() }  // warm-up: page faults, BLAS buffers
    var best = [Double](repeating: .infinity, count: contenders.count)
    for _ in 0..<rounds {
        for (i, c) in contenders.enumerated() {
            var calls = 0
            let t0 = now()
            var t = t0
            repeat {
                c()
                calls += 1
                t = now()
            } while t - t0 < roundSeconds
            best[i] = min(best[i], (t - t0) / Double(calls))
        }
    }
    return best
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func fmt(_ x: Double, _ digits: Int = 1) -> String {
    var p = 1.0
    for _ in 0..<digits { p *= 10 }
    let r = (x * p).rounded() / p
    return digits == 0 ? String(Int(r)) : String(r)
}

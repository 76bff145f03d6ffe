/// Subsets of a dataset by sample index, and the seeded, class-stratified validation split.
extension Dataset {
    /// The samples `ids`, in that order (their features and targets copied), from `source`.
    public func subset(_ ids: [Int], source: String) throws -> Dataset {
        let per = sampleShape.reduce(1, *)
        func gather<T>(_ values: [T], width: Int) -> [T] {
            var out: [T] = []
            out.reserveCapacity(ids.count * width)
            for id in ids { out.append(contentsOf: values[id * width..<(id + 1) * width]) }
            return out
        }
        let f: Features
        switch features {
        case .bytes(let b): f = .bytes(gather(b, width: per))
        case .floats(let x): f = .floats(gather(x, width: per))
        case .mapped(let m): f = .mapped(m.rows(ids))
        case .source(let s): f = .source(s.rows(ids))
        }
        let t: Targets
        switch targets {
        case .classes(let l, let c): t = .classes(gather(l, width: 1), classes: c)
        case .values(let v, let w): t = .values(gather(v, width: w), width: w)
        case .tokens(let l, let c, let length): t = .tokens(gather(l, width: length), classes: c, length: length)
        }
        return try Dataset(features: f, targets: t, sampleShape: sampleShape, source: source)
    }

    /// Splits the sample indices into training and validation: `fraction` of each class (of all
    /// samples for targets that are not classes), picked by a seeded permutation, each side in
    /// the dataset's order. The same seed, data and fraction give the same split on every rank.
    public func validationSplit(fraction: Double, seed: UInt64) -> (train: [Int], validation: [Int]) {
        let order = Permutation.shuffled(count: count, seed: seed, epoch: 0x7A11)
        var classOf: (Int) -> Int = { _ in 0 }
        var groups = 1
        if case .classes(let labels, let classes) = targets {
            classOf = { Int(labels[$0]) }
            groups = classes
        }
        var sizes = [Int](repeating: 0, count: groups)
        for i in 0..<count { sizes[classOf(i)] += 1 }
        // Each class gives its rounded share (at least one sample when it has two or more).
        var quota = sizes.map { n in n < 2 ? 0 : min(n - 1, max(1, Int((Double(n) * fraction).rounded()))) }
        var held = [Bool](repeating: false, count: count)
        for i in order where quota[classOf(i)] > 0 {
            held[i] = true
            quota[classOf(i)] -= 1
        }
        let train = (0..<count).filter { !held[$0] }
        let validation = (0..<count).filter { held[$0] }
        return (train, validation)
    }
}

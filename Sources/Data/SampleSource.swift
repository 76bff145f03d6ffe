/// Samples of your own type, read one at a time as batches need them: a dataset that is not a
/// file Tandem reads (a database, a generator, arrays in another layout). Wrap one with
/// `Dataset(source:name:)`; subsets, validation splits and batches then work as for any dataset.
///
/// ```swift
/// struct Squares: SampleSource {
///     let count = 1000
///     let sampleShape = [1]
///     var targets: Dataset.Targets { .values((0..<count).map { Float($0 * $0) / 1e6 }, width: 1) }
///     func loadSample(_ index: Int, into destination: UnsafeMutablePointer<Float>) {
///         destination[0] = Float(index) / 1000
///     }
/// }
/// ```
public protocol SampleSource: Sendable {
    /// Number of samples.
    var count: Int { get }
    /// Shape of one sample, e.g. [1, 28, 28] or [features].
    var sampleShape: [Int] { get }
    /// What each sample is to be predicted as (class labels, values or token targets).
    var targets: Dataset.Targets { get }
    /// Writes sample `index`'s values (the product of `sampleShape`) to `destination`. Called
    /// from the batch-building thread (prefetching may build batches in the background).
    func loadSample(_ index: Int, into destination: UnsafeMutablePointer<Float>)
}

/// A `SampleSource` seen through a row map (a subset or prefix), as `Dataset.Features.source`.
public struct SourceRows: Sendable {
    /// The wrapped source.
    public let source: any SampleSource
    /// Sample i is the source's sample `rows[i]` (nil: sample i).
    let rows: [Int]?
    /// Samples in this view.
    public var count: Int { rows?.count ?? source.count }

    init(_ source: any SampleSource, rows: [Int]? = nil) {
        self.source = source
        self.rows = rows
    }

    /// Sample `i` of this view, scaled and shifted.
    func load(_ i: Int, into destination: UnsafeMutablePointer<Float>, per: Int, scale: Float, shift: Float) {
        source.loadSample(rows.map { $0[i] } ?? i, into: destination)
        if scale != 1 || shift != 0 { for j in 0..<per { destination[j] = destination[j] * scale + shift } }
    }

    /// The view of samples `ids` of this view.
    func rows(_ ids: [Int]) -> SourceRows { SourceRows(source, rows: rows.map { r in ids.map { r[$0] } } ?? ids) }
}

extension Dataset {
    /// A dataset over a `SampleSource`: checked as any dataset is (targets match the count,
    /// labels in range); `name` names it in messages.
    public convenience init(source: some SampleSource, name: String) throws {
        try self.init(
            features: .source(SourceRows(source)), targets: source.targets, sampleShape: source.sampleShape,
            source: name)
    }
}

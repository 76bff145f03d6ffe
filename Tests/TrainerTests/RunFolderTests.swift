import Foundation
import Tandem
import Testing

@testable import Trainer

/// The run folder's layout: what --fresh clears is exactly what Tandem writes.
@Suite struct RunFolderTests {
    /// A trained run with restore_best's file, a half-written checkpoint and a user's files:
    /// clearing removes Tandem's (all of them) and names what it leaves.
    @Test func clearRemovesTandemsFilesOnly() throws {
        let dir = tempDir()
        _ = try train(config(steps: 4), ranks: 1, runDir: dir)
        let folder = RunFolder(dir + "/")
        let fm = FileManager.default
        let newest = try #require(folder.checkpointCandidates.first)
        try fm.copyItem(atPath: newest + "/" + Checkpoint.modelFile, toPath: newest + "/" + Checkpoint.bestModelFile)
        try fm.createDirectory(atPath: folder.checkpoints + "/step-00000009.tmp", withIntermediateDirectories: true)
        let mine = folder.checkpoints + "/step-00000099"
        try fm.createDirectory(atPath: mine, withIntermediateDirectories: true)
        #expect(fm.createFile(atPath: mine + "/notes.txt", contents: Data("mine".utf8)))
        #expect(fm.createFile(atPath: dir + "/README", contents: Data("mine".utf8)))
        var warnings: [String] = []
        folder.clear { warnings.append($0) }
        #expect(folder.checkpointCandidates == [mine])
        #expect(!fm.fileExists(atPath: folder.checkpoints + "/step-00000009.tmp"))
        #expect(!fm.fileExists(atPath: folder.metrics) && !fm.fileExists(atPath: folder.config))
        #expect(fm.fileExists(atPath: dir + "/README") && fm.fileExists(atPath: mine + "/notes.txt"))
        #expect(warnings.count == 1 && warnings[0].contains("step-00000099"), "\(warnings)")
        #expect(folder.path == dir)
    }
}

/// A prefetched batch belongs to the step it was made for.
@Suite struct PrefetchTests {
    /// A non-finite step's replay asks for its own samples while the next step's batch is in
    /// flight: it gets its own, and the next step still gets the prefetched one.
    @Test func aPrefetchIsTakenOnlyForItsOwnIds() throws {
        let data = try blobs(count: 128, seed: 5)
        let sampler = try ShardedSampler(
            count: 128, batchSize: 32, rank: 0, worldSize: 1, seed: 5, shuffle: true, dropLast: true)
        let stream = DataStream(sampler: sampler, data: TrainingData(train: data, test: data), seed: 5)
        let order = stream.order(for: 0)
        let first = sampler.step(at: Cursor(), order: order)
        let second = sampler.step(at: first.next, order: order)
        stream.prefetch(ids: second.ids, epoch: 0)
        let replay = stream.trainBatch(first.ids, epoch: 0)
        #expect(replay.ids == first.ids && stream.isPrefetching)
        #expect(replay.x.scalars == stream.train.make(ids: first.ids, epoch: 0, augment: true).x.scalars)
        let next = stream.trainBatch(second.ids, epoch: 0)
        #expect(next.ids == second.ids && !stream.isPrefetching)
    }
}

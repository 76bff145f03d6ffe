import Distributed
import Foundation
// Coverage-guided fuzzing of Tandem's readers with libFuzzer (docs/RELIABILITY.md):
//   swift build -c release --scratch-path .build-fuzz --product tandem-fuzz \
//       -Xswiftc -sanitize=fuzzer -Xlinker --undefined=LLVMFuzzerRunDriver -Xlinker --export-dynamic
//   TANDEM_FUZZ_TARGET=safetensors .build-fuzz/release/tandem-fuzz -max_total_time=600 corpus/
// Built without the fuzzer (as `swift build` does), it replays the files given as arguments.
import FuzzTargets

enum Harness {
    /// The reader under test, from TANDEM_FUZZ_TARGET (a static: C callbacks cannot capture).
    static let reader: FuzzTargets.Reader = {
        let name = ProcessInfo.processInfo.environment["TANDEM_FUZZ_TARGET"] ?? ""
        guard let reader = FuzzTargets.Reader(rawValue: name) else {
            let names = FuzzTargets.Reader.allCases.map(\.rawValue).joined(separator: ", ")
            write(toStandardError: "tandem-fuzz: set TANDEM_FUZZ_TARGET to one of \(names)\n")
            exit(2)
        }
        return reader
    }()
}
let reader = Harness.reader

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzTargets.run(Harness.reader, data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

typealias Callback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
typealias Driver =
    @convention(c) (
        UnsafeMutablePointer<Int32>,
        UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        Callback
    ) -> Int32
// `--write-seeds DIR`: the valid starting inputs, one file each (a fresh corpus).
if CommandLine.arguments.dropFirst().first == "--write-seeds", CommandLine.arguments.count == 3 {
    let dir = CommandLine.arguments[2]
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    for (i, seed) in FuzzTargets.seeds(reader).enumerated() {
        _ = FileManager.default.createFile(atPath: dir + "/seed-\(i)", contents: Data(seed))
    }
    exit(0)
}
if let symbol = dlsym(nil, "LLVMFuzzerRunDriver") {  // RTLD_DEFAULT (glibc: NULL)
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(unsafeBitCast(symbol, to: Driver.self)(&argc, &argv, fuzzOne))
}
// No libFuzzer linked in: replay inputs (files, or every file of a folder).
var count = 0
for path in CommandLine.arguments.dropFirst() {
    var isDir: ObjCBool = false
    _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
    let files =
        isDir.boolValue
        ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 } : [path]
    for f in files {
        guard let d = FileManager.default.contents(atPath: f) else { continue }
        FuzzTargets.run(reader, [UInt8](d))
        count += 1
    }
}
print("tandem-fuzz: replayed \(count) inputs through \(reader.rawValue) without a crash")

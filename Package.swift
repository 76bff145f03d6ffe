// swift-tools-version: 6.0
import PackageDescription

// No unsafe compiler flags, so the package can be a versioned dependency: the hot loops work on
// raw pointers (no dynamic exclusivity checks inside them; measured: -enforce-exclusivity=unchecked
// made no difference beyond noise), and the one loop Swift would not vectorize is C (CKernels).
// Targets that `import Tandem` also list the modules it re-exports: SwiftPM rebuilds a client
// when a module it depends on changes, and a re-export alone left clients stale (old symbols at
// link time, old class layouts at run time).
let stack: [Target.Dependency] = ["Tandem", "Tensor", "NN", "Optim", "Data", "Distributed", "Trainer"]

let package = Package(
    name: "Tandem",
    products: [
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Optim", targets: ["Optim"]),
        .library(name: "Data", targets: ["Data"]),
        .library(name: "Distributed", targets: ["Distributed"]),
        .library(name: "Trainer", targets: ["Trainer"]),
        .library(name: "Tandem", targets: ["Tandem"]),
        .library(name: "ONNX", targets: ["ONNX"]),
        .executable(name: "tandem", targets: ["TandemCLI"]),
        .executable(name: "tandem-bench", targets: ["tandem-bench"]),
        .executable(name: "tandem-example", targets: ["tandem-example"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // ONNX's protocol buffers (Sources/ONNX/Generated, made once by launch/generate-onnx and committed).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // `swift package generate-documentation --target Tandem` (the DocC catalog; see README).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        // libgomp: Tandem's kernels run on the OpenMP team oneDNN uses (CKernels/parallel.c).
        .target(name: "CKernels", linkerSettings: [.linkedLibrary("gomp")]),
        // oneDNN's convolutions (Debian libdnnl-dev) behind a C interface; C++ inside.
        .target(
            name: "COneDNN",
            linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("gomp")]),
        .target(name: "Tensor", dependencies: ["CBLAS", "CKernels", "COneDNN"]),
        .target(name: "NN", dependencies: ["Tensor"]),
        .target(name: "Optim", dependencies: ["Tensor"]),
        .target(name: "Data", dependencies: ["Tensor", "CZlib"]),
        .target(name: "Distributed", dependencies: ["CMPI", "Tensor"]),
        .target(
            name: "Trainer",
            dependencies: [
                "Tensor", "NN", "Optim", "Data", "Distributed", "CZlib",
                .product(name: "Logging", package: "swift-log"), "Yams",
            ]),
        // One import for Swift users: re-exports every layer of the stack.
        .target(name: "Tandem", dependencies: ["Tensor", "NN", "Optim", "Data", "Distributed", "Trainer"]),
        // ONNX export of trained models (`tandem export`).
        .target(
            name: "ONNX", dependencies: ["NN", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // The `tandem` command. Its folder is not Sources/tandem: beside Sources/Tandem that is one
        // path on a case-insensitive file system (macOS), and a clone there broke.
        .executableTarget(
            name: "TandemCLI",
            dependencies: stack + [
                "ONNX", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The README's custom-model example (a Swift program using the Trainer API).
        .executableTarget(name: "tandem-example", dependencies: stack),
        .executableTarget(name: "tandem-bench", dependencies: ["Tensor", "CBLAS", "CMPI", "Distributed"]),
        // Fixture loading and the op-check helpers shared by the test targets.
        .target(name: "TestSupport", dependencies: ["Tensor"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Optim", "TestSupport"]),
        .testTarget(name: "DataTests", dependencies: ["Data", "CZlib"]),
        .target(name: "CommChecks", dependencies: ["Distributed", "Tensor"], path: "Tests/CommChecks"),
        .testTarget(
            name: "TrainerTests",
            dependencies: stack + ["TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "CommChecks", "Tensor", "TestSupport"]),
        // Every reader of untrusted input behind one entry point: bounded mutation tests in the
        // suite, and the libFuzzer harness (built with -sanitize=fuzzer, see docs/RELIABILITY.md).
        .target(name: "FuzzTargets", dependencies: stack + ["CZlib"], path: "Tests/FuzzTargets"),
        .testTarget(name: "FuzzTests", dependencies: ["FuzzTargets", "Trainer"]),
        .executableTarget(name: "tandem-fuzz", dependencies: ["FuzzTargets"], path: "Tests/FuzzHarness"),
        // Driven under mpirun by launch/test.
        .executableTarget(
            name: "tandem-mpi-check", dependencies: ["Distributed", "CommChecks"], path: "Tests/MPICheck"),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)

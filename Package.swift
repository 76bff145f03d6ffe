// swift-tools-version: 6.0
import PackageDescription

// Release builds of the numeric targets: exclusivity checks off in hot loops (they are
// per-access runtime calls on class properties); everything else stays default.
let fast: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"])]

let package = Package(
    name: "Tandem",
    products: [
        .library(name: "Tensor", targets: ["Tensor"]),
        .executable(name: "tandem-bench", targets: ["tandem-bench"]),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .target(name: "Tensor", dependencies: ["CBLAS"], swiftSettings: fast),
        .executableTarget(name: "tandem-bench", dependencies: ["Tensor", "CBLAS"],
                          swiftSettings: fast),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
    ],
    swiftLanguageModes: [.v5]
)

// swift-tools-version: 6.0
// A Swift package outside Tandem that uses it as a user would: by path, through the `Tandem`
// product's public API only (an `internal` slip in Tandem fails this build). launch/consumer-test
// builds it and runs it alone and under mpirun.
import Foundation
import PackageDescription

// The repository's root, two folders up; its package identity is its folder's name.
let tandem = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

let package = Package(
    name: "TandemConsumer",
    dependencies: [.package(path: tandem.path)],
    targets: [
        .executableTarget(
            name: "consumer", dependencies: [.product(name: "Tandem", package: tandem.lastPathComponent)])
    ],
    swiftLanguageModes: [.v6]
)

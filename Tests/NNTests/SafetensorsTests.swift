import Foundation
import Testing
import NN

@Suite struct SafetensorsTests {
    let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]), b = Tensor([-1.5], shape: [1])

    @Test func roundTrip() throws {
        let bytes = Safetensors.encode([("a", a), ("b.x", b)], metadata: ["format": "pt", "step": "7"])
        let back = try Safetensors.decode(bytes, file: "t")
        #expect(back.tensors.map(\.name) == ["a", "b.x"])
        #expect(back["a"]!.scalars == a.scalars && back["a"]!.shape == [2, 3] && back["b.x"]!.scalars == [-1.5])
        #expect(back.metadata == ["format": "pt", "step": "7"])
    }

    /// The byte layout, checked by hand: u64 LE header length, JSON header, raw LE floats.
    @Test func byteLayoutIsTheFormat() throws {
        let bytes = Safetensors.encode([("w", a)])
        let n = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
        #expect(bytes[4..<8].allSatisfy { $0 == 0 })
        #expect((8 + n) % 8 == 0)
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        #expect(header.trimmingCharacters(in: .whitespaces) == #"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}"#)
        #expect(bytes.count == 8 + n + 24)
        let first = bytes[(8 + n)..<(8 + n + 4)]
        #expect(Array(first) == [0x00, 0x00, 0x80, 0x3F])   // 1.0f little-endian
    }

    func expectError(_ bytes: [UInt8], _ fragment: String, tensor: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(sourceLocation: sourceLocation) {
            _ = try Safetensors.decode(bytes, file: "bad.safetensors")
        } throws: { e in
            guard let e = e as? SafetensorsError else { return false }
            return e.file == "bad.safetensors" && e.tensor == tensor && e.message.contains(fragment)
        }
    }

    func file(header: String, data: Int) -> [UInt8] {
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var out = [UInt8]()
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { out += $0 }
        return out + h + [UInt8](repeating: 0, count: data)
    }

    @Test func malformedFilesAreRefusedWithTheirReason() {
        expectError([1, 2, 3], "too short")
        expectError(file(header: "{}", data: 0).enumerated().map { $0.offset == 0 ? 0xFF : $0.element }, "header length")
        expectError(file(header: "[1,2]", data: 0), "not a JSON object")
        expectError(file(header: #"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: 4), "dtype F16", tensor: "w")
        expectError(file(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8), "needs 12 bytes", tensor: "w")
        expectError(file(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: 8), "outside", tensor: "w")
        expectError(file(header: #"{"u":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: 12),
                    "overlap", tensor: "v")
        expectError(file(header: #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: 4), "shape", tensor: "w")
        expectError(file(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: 8), "trailing")
        expectError(file(header: #"{"__metadata__":{"a":1}}"#, data: 0), "__metadata__")
        // Truncated: a valid file with its last bytes cut off.
        let good = Safetensors.encode([("w", a)])
        expectError(Array(good.dropLast(5)), "outside", tensor: "w")
    }

    @Test func missingFileNamesThePath() {
        #expect(throws: SafetensorsError(file: "/nonexistent/x.safetensors", tensor: nil, message: "cannot be read (missing or not a file)")) {
            try Safetensors.read("/nonexistent/x.safetensors")
        }
    }
}

import Foundation
import NN
import Testing

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
        #expect(
            header.trimmingCharacters(in: .whitespaces) == #"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}"#
        )
        #expect(bytes.count == 8 + n + 24)
        let first = bytes[(8 + n)..<(8 + n + 4)]
        #expect(Array(first) == [0x00, 0x00, 0x80, 0x3F])  // 1.0f little-endian
    }

    func expectError(
        _ bytes: [UInt8], _ fragment: String, tensor: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(sourceLocation: sourceLocation) {
            _ = try Safetensors.decode(bytes, file: "bad.safetensors")
        } throws: { e in
            guard let e = e as? SafetensorsError else { return false }
            return e.file == "bad.safetensors" && e.tensor == tensor && e.message.contains(fragment)
        }
    }

    func file(header: String, data: Int) -> [UInt8] { file(header: Array(header.utf8), data: data) }

    func file(header: [UInt8], data: Int) -> [UInt8] {
        var h = header
        while h.count % 8 != 0 { h.append(0x20) }
        var out = [UInt8]()
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { out += $0 }
        return out + h + [UInt8](repeating: 0, count: data)
    }

    @Test func malformedFilesAreRefusedWithTheirReason() {
        expectError([1, 2, 3], "too short")
        expectError(
            file(header: "{}", data: 0).enumerated().map { $0.offset == 0 ? 0xFF : $0.element }, "header length")
        expectError(file(header: "[1,2]", data: 0), "not a JSON object")
        expectError(
            file(header: #"{"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#, data: 2), "dtype U8", tensor: "w")
        expectError(
            file(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8), "needs 12 bytes",
            tensor: "w")
        expectError(
            file(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: 8), "outside", tensor: "w")
        expectError(
            file(
                header:
                    #"{"u":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                data: 12),
            "overlap", tensor: "v")
        expectError(
            file(header: #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: 4), "shape", tensor: "w")
        expectError(file(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: 8), "trailing")
        expectError(file(header: #"{"__metadata__":{"a":1}}"#, data: 0), "__metadata__")
        // Truncated: a valid file with its last bytes cut off.
        let good = Safetensors.encode([("w", a)])
        expectError(Array(good.dropLast(5)), "outside", tensor: "w")
    }

    /// Hostile headers: sizes that overflow, encodings that are not UTF-8, numbers that are not
    /// integers, and huge tensor counts. Each is an error (or a bounded result), never a trap.
    @Test func hostileHeadersAreRefused() {
        expectError(
            file(
                header: #"{"a":{"dtype":"F32","shape":[100000000000000,100000000000000],"data_offsets":[0,0]}}"#,
                data: 0),
            "has more elements than the file's 0 data bytes can hold", tensor: "a")
        expectError(
            file(header: #"{"a":{"dtype":"F32","shape":[3000000000,1000000000],"data_offsets":[0,0]}}"#, data: 0),
            "has more elements", tensor: "a")
        expectError(
            file(header: #"{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,0]}}"#, data: 0),
            "larger than", tensor: "a")
        expectError(
            file(header: #"{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}"#, data: 8), "integers", tensor: "a"
        )
        expectError(
            file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8e0]}}"#, data: 8), "integers", tensor: "a"
        )
        expectError(
            file(header: #"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#, data: 4), "integers",
            tensor: "a")
        var utf16 = [UInt8](
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#.utf16.flatMap {
                [UInt8($0 & 0xFF), UInt8($0 >> 8)]
            })
        expectError(file(header: String(decoding: utf16, as: UTF8.self), data: 8), "not UTF-8")
        utf16.insert(contentsOf: [0xFF, 0xFE], at: 0)
        var raw = [UInt8]()
        withUnsafeBytes(of: UInt64(utf16.count).littleEndian) { raw += $0 }
        expectError(raw + utf16 + [UInt8](repeating: 0, count: 8), "not UTF-8")
        expectError(file(header: Array(#"{"a"#.utf8) + [0xFF] + Array(#"":{}}"#.utf8), data: 0), "not valid UTF-8")
        expectError(
            file(
                header:
                    #"{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[],"data_offsets":[4,8]}}"#,
                data: 8), "twice")
        expectError(file(header: String(repeating: "[", count: 200), data: 0), "JSON object")
        expectError(
            file(
                header: #"{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4],"x":"#
                    + String(repeating: "[", count: 100) + "}}", data: 4), "nested", tensor: "a")
    }

    /// 200,000 empty tensors decode in bounded memory, and a model that does not want them
    /// reports them in one short line.
    @Test func manyEmptyTensorsStayCheap() throws {
        let entries = (0..<200_000).map { #""t\#($0)":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}"# }
        let bytes = file(header: "{" + entries.joined(separator: ",") + "}", data: 0)
        let contents = try Safetensors.decode(bytes, file: "many.safetensors")
        #expect(contents.tensors.count == 200_000)
        let model = Linear(inFeatures: 2, outFeatures: 1)
        #expect { try model.load(contents.tensors, source: "many.safetensors") } throws: { e in
            let line = "\(e)"
            return line.count < 600 && line.contains("and 199988 more") && !line.contains("\n")
        }
    }

    /// What PyTorch users save: F64, F16 and BF16 weights and I64 counters load as Float32.
    @Test func otherDTypesLoadAsFloat32() throws {
        var data: [UInt8] = []
        for d in [1.5, -2.25] as [Double] { withUnsafeBytes(of: d.bitPattern.littleEndian) { data += $0 } }
        for h in [Float16(1.5), Float16(0.1)] { withUnsafeBytes(of: h.bitPattern.littleEndian) { data += $0 } }
        for b in [UInt16(0x3f80), 0xc000] { withUnsafeBytes(of: b.littleEndian) { data += $0 } }  // 1.0, -2.0
        withUnsafeBytes(of: Int64(7).littleEndian) { data += $0 }
        let header =
            #"{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"#
            + #""b":{"dtype":"F16","shape":[2],"data_offsets":[16,20]},"#
            + #""c":{"dtype":"BF16","shape":[2],"data_offsets":[20,24]},"#
            + #""n":{"dtype":"I64","shape":[],"data_offsets":[24,32]}}"#
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var bytes = [UInt8]()
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { bytes += $0 }
        let c = try Safetensors.decode(bytes + h + data, file: "torch.safetensors")
        #expect(try #require(c["a"]).scalars == [1.5, -2.25])
        #expect(try #require(c["b"]).scalars == [1.5, Float(Float16(0.1))])
        #expect(try #require(c["c"]).scalars == [1.0, -2.0])
        #expect(try #require(c["n"]).scalars == [7] && c["n"]?.shape == [])
        expectError(
            file(header: #"{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}"#, data: 8), "needs 16 bytes",
            tensor: "a")
    }

    @Test func missingFileNamesThePath() {
        #expect(
            throws: SafetensorsError(
                file: "/nonexistent/x.safetensors", tensor: nil, message: "cannot be read (missing or not a file)")
        ) {
            try Safetensors.read("/nonexistent/x.safetensors")
        }
    }
}

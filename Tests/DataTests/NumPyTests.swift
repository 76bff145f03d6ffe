import Foundation
import Testing

@testable import Data

/// The .npy header reader and the row conversion, on bytes written here (NumPy itself writes
/// the files of Tests/Interop/numpy_check.py, which launch/interop-tests runs).
@Suite struct NumPyTests {
    func file(_ bytes: [UInt8]) throws -> FileBytes {
        let path = temporaryFolder("npy") + "/a.npy"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return try FileBytes(path: path)
    }

    @Test func roundTripsFloat32Rows() throws {
        let values = (0..<24).map { Float($0) * 0.5 - 3 }
        let f = try file(NPY.encode(shape: [4, 2, 3], float32: values))
        let h = try NPY.header(in: f, name: "a")
        #expect(h.shape == [4, 2, 3] && h.dtype == NPY.DType(descr: "<f4") && h.dataOffset % 64 == 0)
        let a = try NumericArray(file: f, header: h, name: "a")
        #expect(a.count == 4 && a.rowValues == 6 && a.allValues() == values)
        #expect(a.rows([3, 1]).allValues() == Array(values[18..<24] + values[6..<12]))
        var row = [Float](repeating: 0, count: 6)
        row.withUnsafeMutableBufferPointer { a.load(2, into: $0.baseAddress!, scale: 2, shift: 1) }
        #expect(row == values[12..<18].map { $0 * 2 + 1 })
    }

    /// Headers as other writers spell them: double quotes, no trailing comma, Python 2's `L`.
    @Test(arguments: [
        "{\"descr\": \">i2\", \"fortran_order\": False, \"shape\": (3,)}",
        "{'shape': (3L,), 'fortran_order': False, 'descr': '>i2'}",
        "{ 'descr':'>i2','fortran_order':False,'shape':( 3 , ) , }",
    ])
    func readsHeaderSpellings(dict: String) throws {
        let text = Array(dict.utf8) + [0x0A]
        let bytes =
            [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.count), 0] + text + [0xFF, 0xFE, 0, 7, 1, 0]
        let f = try file(bytes)
        let a = try NumericArray(file: f, header: try NPY.header(in: f, name: "a"), name: "a")
        #expect(a.allValues() == [-2, 7, 256])  // big-endian int16
    }

    @Test func refusesWhatItCannotRead() throws {
        func expectError(_ dict: String, _ fragment: String) throws {
            let text = Array(dict.utf8)
            let f = try file([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.count), 0] + text + [0, 0, 0, 0])
            #expect { _ = try NPY.header(in: f, name: "a") } throws: { "\($0)".contains(fragment) }
        }
        try expectError("{'descr': '<f2', 'fortran_order': False, 'shape': (1,)}", "dtype '<f2' is not supported")
        try expectError("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", "truncated")
        try expectError("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "expected an extent")
        try expectError("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "extent")
        try expectError("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,)}", "fortran_order")
        try expectError("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "expected '}'")
        try expectError("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", "structured")
    }
}

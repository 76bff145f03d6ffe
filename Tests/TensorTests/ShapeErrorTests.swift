import Tensor
import TestSupport
import Testing

/// Shape rules throw errors naming the op and both shapes; ops stop with that message.
@Suite struct ShapeErrorTests {
    @Test func broadcastMismatchNamesOpAndShapes() throws {
        #expect(throws: ShapeError("add", "shapes [2, 3] and [4] do not broadcast (axis 1: 3 vs 4)")) {
            try Shapes.broadcast([2, 3], [4], op: "add")
        }
        #expect(try Shapes.broadcast([2, 1, 3], [4, 1], op: "add") == [2, 4, 3])
    }

    @Test func matmulMismatches() {
        #expect(throws: ShapeError("matmul", "inner dimensions differ: [2, 3] x [4, 5]")) {
            try Shapes.matmul([2, 3], [4, 5])
        }
        #expect(throws: ShapeError.self) { try Shapes.matmul([2, 3, 4], [3, 4, 5]) }
        #expect(throws: ShapeError.self) { try Shapes.matmul([4], [4, 5]) }
    }

    @Test func invalidAxisAndRank() throws {
        #expect(throws: ShapeError("sum", "axis 2 is out of range for rank 2")) {
            try Shapes.axis(2, rank: 2, op: "sum")
        }
        #expect(try Shapes.axis(-1, rank: 3, op: "sum") == 2)
        #expect(throws: ShapeError("conv2d", "input must have rank 4, got shape [3, 8, 8]")) {
            try Shapes.conv2d([3, 8, 8], weight: [4, 3, 3, 3], stride: 1, padding: 0)
        }
        #expect(throws: ShapeError("conv2d", "input [1, 2, 8, 8] has 2 channels, weight [4, 3, 3, 3] expects 3")) {
            try Shapes.conv2d([1, 2, 8, 8], weight: [4, 3, 3, 3], stride: 1, padding: 0)
        }
        #expect(throws: ShapeError.self) {
            try Shapes.pool2d([1, 1, 2, 2], kernel: 3, stride: 1, padding: 0, op: "max_pool2d")
        }
    }

    @Test func opWithMismatchedShapesStopsWithTheMessage() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor(zeros: [2, 3]) + Tensor(zeros: [4])
        }
        await #expect(processExitsWith: .failure) {
            _ = Tensor.matmul(Tensor(zeros: [2, 3]), Tensor(zeros: [2, 3]))
        }
        await #expect(processExitsWith: .failure) {
            _ = Tensor(zeros: [2, 3]).softmax(alongAxis: 2)
        }
    }
}

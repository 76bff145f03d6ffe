import Foundation
import NN
import SwiftProtobuf

/// Builds one ONNX graph: nodes in order, weights as initializers, values named uniquely. Values
/// carry the shape a sample gives them (the batch extent first, as 1), which chooses the ops.
struct GraphBuilder {
    /// A value in the graph and its shape (batch extent as 1).
    struct Value {
        var name: String
        var shape: [Int]
    }

    private(set) var graph = Onnx_GraphProto()
    private var counter = 0

    /// A fresh value name with `hint` in it.
    mutating func name(_ hint: String) -> String {
        counter += 1
        return "\(hint)_\(counter)"
    }

    /// Adds a node; returns its outputs' names (`outputs` of them).
    @discardableResult
    mutating func node(
        _ op: String, _ inputs: [String], outputs: Int = 1, hint: String? = nil,
        _ attributes: [Onnx_AttributeProto] = []
    ) -> [String] {
        var n = Onnx_NodeProto()
        n.opType = op
        n.input = inputs
        n.output = (0..<outputs).map { _ in name(hint ?? op.lowercased()) }
        n.name = n.output[0] + "_node"
        n.attribute = attributes
        graph.node.append(n)
        return n.output
    }

    /// A float32 initializer holding `values` with `dims`.
    mutating func constant(_ values: [Float], dims: [Int], hint: String) -> String {
        var t = Onnx_TensorProto()
        t.name = name(hint)
        t.dims = dims.map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }  // x86 and ARM are little-endian, as ONNX
        graph.initializer.append(t)
        return t.name
    }

    /// A tensor's values as an initializer of its own shape (or `dims`).
    mutating func weight(_ t: Tensor, dims: [Int]? = nil, hint: String) -> String {
        constant(t.scalars, dims: dims ?? t.shape, hint: hint)
    }

    /// An int64 initializer (shapes, axes).
    mutating func int64s(_ values: [Int], hint: String) -> String {
        var t = Onnx_TensorProto()
        t.name = name(hint)
        t.dims = [Int64(values.count)]
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        t.int64Data = values.map(Int64.init)
        graph.initializer.append(t)
        return t.name
    }

    /// An int64 scalar initializer (an index).
    mutating func int64Scalar(_ value: Int, hint: String) -> String {
        var t = Onnx_TensorProto()
        t.name = name(hint)
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        t.int64Data = [Int64(value)]
        graph.initializer.append(t)
        return t.name
    }

    /// A graph input or output with a dynamic batch axis ("N").
    static func valueInfo(_ name: String, shape: [Int], type: Onnx_TensorProto.DataType) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(type.rawValue)
        tensor.shape.dim = shape.enumerated().map { i, d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if i == 0 { dim.dimParam = "N" } else { dim.dimValue = Int64(d) }
            return dim
        }
        v.type.tensorType = tensor
        return v
    }
}

/// ONNX attributes, one constructor per kind.
enum Attribute {
    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = value
        return a
    }

    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values.map(Int64.init)
        return a
    }
}

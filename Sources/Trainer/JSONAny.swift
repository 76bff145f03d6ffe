import Foundation

/// Arbitrary JSON carried through Codable (the config inside trainer.json).
public struct JSONAny: Codable {
    /// The plain value (dictionaries, arrays, numbers, strings, booleans, NSNull).
    public let value: Any
    /// Wraps a plain value.
    public init(_ v: Any) { value = v }
    /// Decodes any JSON value.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            value = NSNull()
        } else if let i = try? c.decode(Int.self) {
            value = i
        }  // before Bool: 1 must stay a number
        else if let d = try? c.decode(Double.self) {
            value = d
        } else if let b = try? c.decode(Bool.self) {
            value = b
        } else if let s = try? c.decode(String.self) {
            value = s
        } else if let a = try? c.decode([JSONAny].self) {
            value = a.map(\.value)
        } else {
            value = try c.decode([String: JSONAny].self).mapValues(\.value)
        }
    }
    /// Encodes the value as JSON.
    public func encode(to encoder: Encoder) throws { try JSONValue(value).encode(to: encoder) }
}

/// Plain values as JSON for Encodable.
struct JSONValue: Encodable {
    let value: Any
    init(_ v: Any) { value = v }
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
    func encode(to encoder: Encoder) throws {
        switch value {
        case let m as [String: Any]:
            var c = encoder.container(keyedBy: Key.self)
            for (k, v) in m.sorted(by: { $0.key < $1.key }) { try c.encode(JSONValue(v), forKey: Key(stringValue: k)) }
        case let a as [Any]:
            var c = encoder.unkeyedContainer()
            for v in a { try c.encode(JSONValue(v)) }
        case let n as NSNumber:
            // Every number (Swift or JSONSerialization's) bridges to NSNumber; its objCType tells
            // a Bool ("c") from a floating-point value ("d", "f") from an integer.
            var c = encoder.singleValueContainer()
            switch String(cString: n.objCType) {
            case "c": try c.encode(n.boolValue)
            case "d", "f": try c.encode(n.doubleValue)
            default: try c.encode(n.int64Value)
            }
        case let s as String:
            var c = encoder.singleValueContainer()
            try c.encode(s)
        default:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        }
    }
}

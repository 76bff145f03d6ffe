/// Missing or malformed data: one line naming the file (and line or record) and what to do.
public struct DataError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Missing or malformed data: one line naming the file (and line or record) and what to do.
public struct DataError: Error, CustomStringConvertible, Equatable {
    /// The line for the user, naming the file.
    public let message: String
    /// An error with its one-line message.
    public init(_ message: String) { self.message = message }
    /// The message as one line.
    public var description: String { message }
}

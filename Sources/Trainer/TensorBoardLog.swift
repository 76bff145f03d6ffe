import Foundation

/// Rank 0's TensorBoard event file, RUN_DIR/tensorboard/events.out.tfevents.<time>.<host>: the
/// same figures as metrics.jsonl as scalars (`train/loss`, `test/accuracy`, `train/lr`,
/// `train/samples_per_s`, `train/comm_wait_ms`, ...) and the resolved config as text.
///
/// The file is made again from metrics.jsonl whenever a run starts or resumes (after that file
/// was cut at the resume step), so a resumed run continues the same curves without repeated
/// steps. Records are TensorFlow's: length, masked CRC-32C of the length, an `Event` protocol
/// buffer, masked CRC-32C of it.
final class TensorBoardLog {
    let directory: String
    private let handle: FileHandle

    /// Replaces every event file in `directory` with one holding `lines` (metrics.jsonl's) and
    /// the config text.
    init(directory: String, lines: [String], config: String) throws {
        self.directory = directory
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for old in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where old.hasPrefix(RunFolder.eventFilePrefix)
        {
            try fm.removeItem(atPath: directory + "/" + old)
        }
        let now = Date().timeIntervalSince1970
        let path = directory + "/" + RunFolder.eventFilePrefix + "\(Int(now)).\(ProcessInfo.processInfo.hostName)"
        guard fm.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw TrainerError("tandem: cannot create \(path)")
        }
        self.handle = handle
        var bytes = TensorBoardLog.record(Event(wallTime: now, step: 0, fileVersion: "brain.Event:2").encoded)
        bytes += TensorBoardLog.record(Event(wallTime: now, step: 0, text: ("config", config)).encoded)
        for line in lines {
            if let event = TensorBoardLog.event(fromMetricsLine: line, wallTime: now) {
                bytes += TensorBoardLog.record(event.encoded)
            }
        }
        try handle.write(contentsOf: bytes)
    }

    deinit { try? handle.close() }

    /// Appends one metrics line's scalars.
    func append(_ line: String) throws {
        guard let event = TensorBoardLog.event(fromMetricsLine: line, wallTime: Date().timeIntervalSince1970) else {
            return
        }
        try handle.write(contentsOf: TensorBoardLog.record(event.encoded))
    }

    /// The scalars of one metrics.jsonl line, tagged `split/key`.
    static func event(fromMetricsLine line: String, wallTime: Double) -> Event? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let step = object["step"] as? Int, let split = object["split"] as? String
        else { return nil }
        let keys = ["loss", "accuracy", "lr", "samples_per_s", "comm_wait_ms", "straggler_wait_ms"]
        let values = keys.compactMap { key in (object[key] as? Double).map { ("\(split)/\(key)", Float($0)) } }
        return Event(wallTime: wallTime, step: step, scalars: values)
    }

    /// A TFRecord: length, its masked CRC-32C, the data, its masked CRC-32C (all little-endian).
    static func record(_ data: [UInt8]) -> Data {
        var length = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { length[i] = UInt8(truncatingIfNeeded: UInt64(data.count) >> (8 * i)) }
        func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        return Data(length + le32(maskedCRC32C(length)) + data + le32(maskedCRC32C(data)))
    }

    /// CRC-32C (Castagnoli), masked as TensorFlow's records store it.
    static func maskedCRC32C(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = crcTable[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        crc = ~crc
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    private static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
        return c
    }
}

/// The few fields of TensorFlow's `Event` (event.proto) and `Summary` (summary.proto) that scalars
/// and a text summary need, encoded as protocol buffers.
struct Event {
    var wallTime: Double
    var step: Int
    var fileVersion: String? = nil
    var scalars: [(tag: String, value: Float)] = []
    var text: (tag: String, value: String)? = nil

    var encoded: [UInt8] {
        var out: [UInt8] = [0x09]  // wall_time = 1, 64-bit
        out += (0..<8).map { UInt8(truncatingIfNeeded: wallTime.bitPattern >> (8 * $0)) }
        out += [0x10] + Event.varint(UInt64(bitPattern: Int64(step)))  // step = 2
        if let fileVersion { out += Event.field(3, Array(fileVersion.utf8)) }
        var summary: [UInt8] = []
        for (tag, value) in scalars {  // Summary.value = 1: Value { tag = 1, simple_value = 2 }
            let bits = value.bitPattern
            summary += Event.field(
                1,
                Event.field(1, Array(tag.utf8)) + [0x15] + (0..<4).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) })
        }
        if let (tag, value) = text {
            // Value { tag = 1, metadata = 9 { plugin_data = 1 { plugin_name = 1: "text" } },
            //         tensor = 8 { dtype = 1: DT_STRING (7), tensor_shape = 2: {}, string_val = 8 } }
            let metadata = Event.field(1, Event.field(1, Array("text".utf8)))
            let tensor = [0x08, 0x07] + Event.field(2, []) + Event.field(8, Array(value.utf8))
            summary += Event.field(
                1, Event.field(1, Array(tag.utf8)) + Event.field(9, metadata) + Event.field(8, tensor))
        }
        if !summary.isEmpty { out += Event.field(5, summary) }  // summary = 5
        return out
    }

    /// A length-delimited field.
    static func field(_ number: UInt64, _ bytes: [UInt8]) -> [UInt8] {
        varint(number << 3 | 2) + varint(UInt64(bytes.count)) + bytes
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value
        var out: [UInt8] = []
        repeat {
            out.append(UInt8(v & 0x7F) | (v >= 0x80 ? 0x80 : 0))
            v >>= 7
        } while v != 0
        return out
    }
}

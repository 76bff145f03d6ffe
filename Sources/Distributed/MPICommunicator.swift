import CMPI
import Foundation

/// Open MPI as the distributed engine. One object owns MPI_Init_thread and MPI_Finalize; every
/// call's return code is checked and turned into a `CommError` carrying MPI_Error_string, the
/// call and the rank. Blocking collectives run under the watchdog.
public final class MPICommunicator: Communicator {
    /// This process's rank, 0..<size.
    public let rank: Int
    /// Number of ranks.
    public let size: Int
    /// What carries the messages, for the start line (mpi, local, simulated).
    public var kind: String { "mpi" }
    let comm: MPI_Comm
    /// The watchdog every collective runs under.
    public let watchdog: Watchdog
    private var finalized = false

    /// Initialises MPI (thread support: multiple, so the watchdog thread may call MPI_Abort).
    /// `timeoutSetting` is what the user calls the timeout (named when it fires).
    public init(timeout: Double = 300, timeoutSetting: String = "the collective timeout") throws {
        var provided: Int32 = 0
        let rc = MPI_Init_thread(nil, nil, cmpi_thread_multiple(), &provided)
        guard rc == cmpi_success() else {
            throw CommError(rank: -1, call: "MPI_Init_thread", message: MPICommunicator.errorString(rc))
        }
        do { try MPICommunicator.checkThreadLevel(provided: provided) } catch {
            MPI_Finalize()
            throw error
        }
        comm = cmpi_comm_world()
        _ = MPI_Comm_set_errhandler(comm, cmpi_errors_return())
        var r: Int32 = 0
        var s: Int32 = 0
        _ = MPI_Comm_rank(comm, &r)
        _ = MPI_Comm_size(comm, &s)
        rank = Int(r)
        size = Int(s)
        watchdog = Watchdog(timeout: timeout, setting: timeoutSetting, rank: rank) { message in
            printLine(toStandardError: message)
            MPI_Abort(cmpi_comm_world(), 3)  // the communicator this class uses
            _exit(3)
        }
    }

    /// The watchdog calls MPI_Abort from its own thread, which MPI allows only at
    /// MPI_THREAD_MULTIPLE; an MPI built without thread support grants less, and then Tandem stops
    /// instead of risking undefined behaviour when a collective stalls.
    public static func checkThreadLevel(provided: Int32) throws {
        guard provided < cmpi_thread_multiple() else { return }
        let names = ["MPI_THREAD_SINGLE", "MPI_THREAD_FUNNELED", "MPI_THREAD_SERIALIZED"]
        let granted = names.indices.contains(Int(provided)) ? names[Int(provided)] : "level \(provided)"
        throw CommError(
            rank: -1, call: "MPI_Init_thread",
            message:
                "granted \(granted), but Tandem's watchdog needs MPI_THREAD_MULTIPLE (it may call MPI_Abort from its "
                + "own thread); use an MPI built with thread support (Open MPI: "
                + "--enable-mpi-thread-multiple, the default since 3.0)"
        )
    }

    /// Ends MPI (after a barrier-free shutdown; call once, at the end of the run).
    public func finalize() {
        guard !finalized else { return }
        finalized = true
        MPI_Finalize()
    }

    static func errorString(_ code: Int32) -> String {
        var buf = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
        var len: Int32 = 0
        MPI_Error_string(code, &buf, &len)
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @inline(__always) func check(_ rc: Int32, _ call: String) throws {
        if rc != cmpi_success() {
            throw CommError(rank: rank, call: call, message: MPICommunicator.errorString(rc))
        }
    }

    /// Waits until every rank has called it.
    public func barrier() throws {
        try watchdog.watch("barrier") { try check(MPI_Barrier(comm), "MPI_Barrier") }
    }

    /// Overwrites `buffer` on every rank with root's bytes.
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        try watchdog.watch("broadcast \(buffer.count) bytes from rank \(root)") {
            try check(MPI_Bcast(buffer.baseAddress, Int32(buffer.count), cmpi_byte(), Int32(root), comm), "MPI_Bcast")
        }
    }

    /// Replaces `buffer` on every rank by the elementwise sum over ranks.
    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try reduce(buffer.baseAddress, buffer.count, cmpi_float(), cmpi_sum(), "float32")
    }

    /// Replaces `buffer` on every rank by the elementwise sum over ranks (Float64).
    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        try reduce(buffer.baseAddress, buffer.count, cmpi_double(), cmpi_sum(), "float64")
    }

    /// Starts summing `buffer` over ranks; the request completes it.
    public func startAllreduce(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> CommRequest {
        try startReduce(buffer.baseAddress, buffer.count, cmpi_float(), cmpi_sum(), "float32")
    }

    /// Sums bfloat16 bit patterns over ranks with CMPI's bfloat16 operation (one MPI_Allreduce).
    public func allreduceBFloat16(_ buffer: UnsafeMutableBufferPointer<UInt16>) throws {
        try reduce(buffer.baseAddress, buffer.count, cmpi_uint16(), cmpi_bf16_sum(), "bfloat16")
    }

    /// Starts summing bfloat16 bit patterns over ranks; the request completes it.
    public func startAllreduceBFloat16(_ buffer: UnsafeMutableBufferPointer<UInt16>) throws -> CommRequest {
        try startReduce(buffer.baseAddress, buffer.count, cmpi_uint16(), cmpi_bf16_sum(), "bfloat16")
    }

    /// One in-place MPI_Allreduce of `count` values of `type` under the watchdog.
    private func reduce(
        _ base: UnsafeMutableRawPointer?, _ count: Int, _ type: MPI_Datatype, _ op: MPI_Op, _ name: String
    ) throws {
        try watchdog.watch("allreduce \(name) x \(count)") {
            try check(MPI_Allreduce(cmpi_in_place(), base, Int32(count), type, op, comm), "MPI_Allreduce")
        }
    }

    /// One in-place MPI_Iallreduce; the request completes it.
    private func startReduce(
        _ base: UnsafeMutableRawPointer?, _ count: Int, _ type: MPI_Datatype, _ op: MPI_Op, _ name: String
    ) throws -> CommRequest {
        var req = cmpi_request_null()
        try check(MPI_Iallreduce(cmpi_in_place(), base, Int32(count), type, op, comm, &req), "MPI_Iallreduce")
        return MPIRequest(req, owner: self, what: "allreduce \(name) x \(count) (non-blocking)")
    }

    /// Every rank's `send` bytes, in rank order, into `recv` on every rank.
    public func allgather(_ send: UnsafeRawBufferPointer, into recv: UnsafeMutableRawBufferPointer) throws {
        precondition(recv.count == send.count * size, "allgather: receive buffer must hold size * send bytes")
        try watchdog.watch("allgather \(send.count) bytes") {
            try check(
                MPI_Allgather(
                    send.baseAddress, Int32(send.count), cmpi_byte(), recv.baseAddress, Int32(send.count),
                    cmpi_byte(), comm), "MPI_Allgather")
        }
    }

    /// Sends each rank its own slice of `send` and receives every rank's slice for this one.
    public func alltoallv(
        _ send: UnsafePointer<Float>, sendCounts: [Int], sendOffsets: [Int],
        _ recv: UnsafeMutablePointer<Float>, recvCounts: [Int], recvOffsets: [Int]
    ) throws {
        let sc = sendCounts.map(Int32.init)
        let rc = recvCounts.map(Int32.init)
        let sd = sendOffsets.map(Int32.init)
        let rd = recvOffsets.map(Int32.init)
        try watchdog.watch("alltoallv float32 x \(sendCounts.reduce(0, +))") {
            try check(MPI_Alltoallv(send, sc, sd, cmpi_float(), recv, rc, rd, cmpi_float(), comm), "MPI_Alltoallv")
        }
    }

    /// Every rank's `counts[rank]` values, in rank order, into `recv` on every rank.
    public func allgatherv(_ send: UnsafePointer<Float>, _ recv: UnsafeMutablePointer<Float>, counts: [Int]) throws {
        let c = counts.map(Int32.init)
        let d = prefixSums(counts).map(Int32.init)
        try watchdog.watch("allgatherv float32 x \(counts.reduce(0, +))") {
            // In place when send is already this rank's block of recv.
            let inPlace = UnsafeMutableRawPointer(mutating: send) == UnsafeMutableRawPointer(recv + Int(d[rank]))
            try check(
                MPI_Allgatherv(
                    inPlace ? UnsafeRawPointer(cmpi_in_place()) : UnsafeRawPointer(send), c[rank], cmpi_float(),
                    recv, c, d, cmpi_float(), comm), "MPI_Allgatherv")
        }
    }

    /// Ends every rank of the job with `code`, printing `message` once.
    public func abort(code: Int32, message: String) -> Never {
        printLine(toStandardError: message)
        MPI_Abort(comm, code)
        _exit(code)
    }
}

/// An MPI_Request from a non-blocking collective.
final class MPIRequest: CommRequest {
    private var request: MPI_Request?
    private let owner: MPICommunicator
    private let what: String

    init(_ request: MPI_Request?, owner: MPICommunicator, what: String) {
        self.request = request
        self.owner = owner
        self.what = what
    }

    func test() throws -> Bool {
        var flag: Int32 = 0
        try owner.check(MPI_Test(&request, &flag, cmpi_status_ignore()), "MPI_Test")
        return flag != 0
    }

    func wait() throws {
        try owner.watchdog.watch(what) { try owner.check(MPI_Wait(&request, cmpi_status_ignore()), "MPI_Wait") }
    }
}

import Foundation
import Testing

/// The suite's own smoke alarm: `launch/test` runs this with `TANDEM_SELF_CHECK_FAIL=1` and
/// expects the run to fail. If that run passes, failing tests cannot turn the suite red.
@Suite struct SelfCheck {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["TANDEM_SELF_CHECK_FAIL"] == "1"))
    func deliberateFailure() {
        Issue.record("deliberate failure (TANDEM_SELF_CHECK_FAIL=1): launch/test expects this run to fail")
    }
}

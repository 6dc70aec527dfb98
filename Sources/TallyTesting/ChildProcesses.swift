import Foundation
import Synchronization

/// The servers this process started and has not stopped: killed when the process exits, so that a
/// test that fails before it stops its servers leaves no process behind.
enum ChildProcesses {
    private static let running = Mutex<Set<Int32>>([])
    private static let installed = Mutex(false)

    static func started(_ pid: Int32) {
        installed.withLock { done in
            guard !done else { return }
            done = true
            atexit { ChildProcesses.killAll() }
        }
        running.withLock { _ = $0.insert(pid) }
    }

    static func stopped(_ pid: Int32) {
        running.withLock { _ = $0.remove(pid) }
    }

    private static func killAll() {
        for pid in running.withLock({ $0 }) { kill(pid, SIGKILL) }
    }
}

extension Process {
    /// Starts the process and has it killed when the test process exits, if it is still running
    /// then: a test that fails before it stops a `tally` process leaves nothing behind.
    public func runTracked() throws {
        let earlier = self.terminationHandler
        self.terminationHandler = { process in
            ChildProcesses.stopped(process.processIdentifier)
            earlier?(process)
        }
        try self.run()
        ChildProcesses.started(self.processIdentifier)
        // It may have exited (and its handler run) before it was recorded.
        if !self.isRunning { ChildProcesses.stopped(self.processIdentifier) }
    }
}

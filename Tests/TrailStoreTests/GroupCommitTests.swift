import Synchronization
import Testing
@testable import TrailStore

/// Group commit's order of transactions and answers (pure logic: the commits here write nothing).
@Suite struct GroupCommitTests {
    /// A pipelined commit returns before its inputs are answered: the next transaction is written meanwhile,
    /// and each input still gets its own result.
    @Test func aPipelinedTransactionsSuccessorIsWrittenBeforeItIsAnswered() async throws {
        let log = Mutex<[String]>([])
        let held = Mutex<GroupCommit<Int, Int>.Answer?>(nil)
        let group = GroupCommit<Int, Int>(maximumWeight: 1, pipelined: { inputs, answer in
            log.withLock { $0.append("write \(inputs)") }
            let answers: [Result<Int, StoreError>] = inputs.map { .success($0 * 10) }
            let labelled: GroupCommit<Int, Int>.Answer = { results in
                log.withLock { $0.append("answer \(inputs)") }
                answer(results)
            }
            // The first transaction is answered by the second, once that one is written.
            if let first = held.withLock({ state in defer { state = nil }; return state }) {
                first([.success(10)])
                labelled(answers)
            } else {
                held.withLock { $0 = labelled }
            }
        })
        let first = Task { try await group.submit(1, weight: 1) }
        for _ in 0..<1_000 where held.withLock({ $0 == nil }) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(held.withLock { $0 != nil })
        let second = try await group.submit(2, weight: 1)
        #expect(try await first.value == 10)
        #expect(second == 20)
        #expect(log.withLock { $0 } == ["write [1]", "write [2]", "answer [1]", "answer [2]"])
    }
}

public import Logging
public import ServiceLifecycle

/// `trail serve --retention-interval`: runs every tenant's retention rules now and then, as `trail cleanup`
/// would, for as long as the server runs. A failed round is logged and the next one tried; a round that removed
/// something says so at `info`.
public struct RetentionSchedule: Service {
    let retention: Retention
    let interval: Duration
    let logger: Logger

    public init(retention: Retention, interval: Duration, logger: Logger) {
        self.retention = retention
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    for report in try await retention.runAll(dryRun: false, by: .schedule) where report.removed > 0 || report.held > 0 {
                        logger.info("retention removed events", metadata: [
                            "tenant": "\(report.tenant)", "removed": "\(report.removed)", "held": "\(report.held)"])
                    }
                } catch where !Task.isCancelled {
                    logger.warning("retention cleanup failed", metadata: ["error": "\(error)"])
                } catch {}
                try? await Task.sleep(for: interval)
            }
        }
    }
}

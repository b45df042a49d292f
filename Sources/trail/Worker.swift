import ArgumentParser
import Logging
import ServiceLifecycle
import TrailCore
import TrailService
import TrailStore

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Process queued messages, without serving HTTP (next to `trail serve --workers 0`, or in addition).")

    @OptionGroup var log: LogOptions

    @OptionGroup var store: StoreOptions
    @OptionGroup var worker: WorkerOptions

    func validate() throws {
        guard worker.workers >= 1 else { throw ValidationError("trail worker needs --workers 1 or more") }
    }

    func run() async throws {
        log.bootstrap()
        let logger = Logger(label: "trail")
        let configuration = worker.configuration
        let location = try store.location()
        try await store.withStore(creating: true, logger: logger) { eventStore in
            logger.info("Trail worker started", metadata: ["database": "\(location)", "workers": "\(configuration.count)"])
            let group = ServiceGroup(configuration: .init(
                services: [MessageWorkers(store: eventStore, configuration: configuration, logger: logger)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }
}

struct Messages: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List queued messages, or requeue a failed one.",
        subcommands: [List.self, Retry.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List messages, oldest first.")

        @Option(name: .long, help: "pending, processing, completed or failed.")
        var status: String?

        @Option(name: .long, help: "Only this tenant's messages.")
        var tenant: String?

        @Option(name: .long, help: "At most this many.")
        var limit: Int = 100

        @OptionGroup var store: DatabaseOption

        func validate() throws {
            if let status, QueuedMessage.Status(rawValue: status) == nil {
                throw ValidationError("--status must be pending, processing, completed or failed")
            }
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let (status, tenant, limit) = (status.flatMap(QueuedMessage.Status.init(rawValue:)), self.tenant, self.limit)
            let messages = try await store.withStore { store in
                try await store.messages(tenant: tenant, status: status, limit: limit)
            }
            guard !messages.isEmpty else {
                print("No \(status.map { "\($0.rawValue) " } ?? "")messages\(tenant.map { " of tenant \($0)" } ?? "").")
                return
            }
            Table.print(header: ["ID", "STATUS", "TENANT", "ATTEMPTS", "CREATED", "ERROR"], rows: messages.map { message in
                [message.id, message.status.rawValue, message.tenant, String(message.attempts), message.createdAt.formatted(),
                 message.error ?? ""]
            })
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a failed message pending again.")

        @Argument(help: "The message id.")
        var id: String

        @Option(name: .long, help: "The message's tenant.")
        var tenant: String = TenantName.default

        @OptionGroup var store: DatabaseOption

        func run() async throws {
            let (id, tenant) = (self.id, self.tenant)
            let retried = try await store.withStore { store in try await store.retry(tenant: tenant, id: id) }
            guard retried else {
                print("No failed message \(id) in tenant \(tenant).")
                throw ExitCode(1)
            }
            print("\(id): pending again")
        }
    }
}

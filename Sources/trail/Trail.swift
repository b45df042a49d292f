import ArgumentParser

@main
struct Trail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trail",
        abstract: "Trail: a self-hosted audit history service.",
        subcommands: [Serve.self, Worker.self, Migrate.self, Ingest.self, History.self, Export.self, Report.self, Verify.self, Messages.self, Keys.self, RetentionCommand.self, Cleanup.self, Erase.self, PersonalKeysCommand.self, SinksCommand.self, Backup.self]
    )
}

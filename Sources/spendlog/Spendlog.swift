import ArgumentParser
import Glibc
import SpendLog

@main
struct Spendlog: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spendlog",
        abstract: "Record what LLM calls cost and enforce spending limits, without a database.",
        discussion: """
            The log is a directory of JSON-lines segments (docs/FORMAT.md). It is found at \
            --dir, else $SPENDLOG_DIR, else $XDG_DATA_HOME/spendlog, else \
            ~/.local/share/spendlog.

            Exit codes:
              0   success
              1   I/O or other failure (the message names the file)
              3   a spending limit would be exceeded: nothing was recorded
              64  invalid input or usage (the message names the flag or field)
              65  invalid or corrupt data (the message names the file and byte offset)
            """,
        version: "0.1.0",
        subcommands: [
            AppendCommand.self,
            IngestCommand.self,
            ImportCommand.self,
            TailCommand.self,
            SealCommand.self,
            VerifyCommand.self,
            IndexCommand.self,
            CollectCommand.self,
            RetentionCommand.self,
            StatsCommand.self,
            ReportCommand.self,
            TopCommand.self,
            LogsCommand.self,
            ExportCommand.self,
            LimitCommand.self,
            BudgetCommand.self,
            ReserveCommand.self,
            SettleCommand.self,
            ReleaseCommand.self,
            CostCommand.self,
            RepriceCommand.self,
            PricesCommand.self,
            ServeCommand.self,
        ]
    )

    static func main() {
        ExitCodes.rejectInvalidUTF8Arguments()
        ExitCodes.rejectTooManyArguments()
        let arguments = CommandLine.arguments
        if arguments.count > 1, arguments[1] == "append", ProcessEnvironment.value("SPENDLOG_NO_FAST_PATH") == nil,
            let invocation = AppendFastPath.invocation(arguments[2...])
        {
            do {
                try invocation.run(captured: nil)
                return
            } catch {
                finish(error, command: AppendCommand.self)
            }
        }
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            try command.run()
        } catch {
            finish(error, command: type(of: command))
        }
    }

    /// Reports the error of a command that ran and exits with its code.
    static func finish(_ error: any Error, command: any ParsableCommand.Type) -> Never {
        if let error = error as? ValidationError {
            // An argument refused while running: show the subcommand's usage, not the root's.
            let usage = usageString(for: command)
            let path = usage.split(separator: " ").prefix { $0.first.map { !"[<-".contains($0) } ?? false }
            printError(
                "Error: \(error.message)\nUsage: \(usage)\n  See '\(path.joined(separator: " ")) --help' for more information."
            )
            Glibc.exit(ExitCodes.usage)
        }
        exit(withError: error)
    }
}

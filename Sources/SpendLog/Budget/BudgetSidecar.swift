/// `budget/sidecar`: the checkpoint of the counters and the log position it covers, replaced
/// atomically (docs/FORMAT.md, "Budgets"). Only a cache: a missing or damaged one is recounted.
enum BudgetSidecar {
    static func read(_ path: String) throws(SpendLogError) -> [UInt8]? {
        try FileSystem.readWholeFile(path)
    }

    /// `sidecar.tmp`, (fsync), rename over the sidecar, (fsync `budget/`), at the sidecar's crash
    /// points. `sync` false (fsync policy `none`): a checkpoint lost to a power cut is recounted
    /// from the log.
    static func replace(_ path: String, contents: [UInt8], sync: Bool) throws(SpendLogError) {
        try FileSystem.replaceAtomically(
            path, contents: contents, temporary: path + ".tmp", sync: sync,
            steps: FileSystem.ReplaceSteps(
                afterTempWrite: "budget.sidecar.afterTempWrite", beforeRename: "budget.sidecar.beforeRename",
                afterRename: "budget.sidecar.afterRename"))
    }
}

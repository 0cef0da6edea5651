import Foundation
import Testing

@testable import SpendLog

/// Exports loaded by real engines: PostgreSQL (`\copy` through the DDL of docs/SHIPPING.md),
/// OpenTelemetry's own protobuf definitions, and ClickHouse (chDB) reading the segment files.
@Suite struct ExportEngineTests {
    /// Totals per project and model, from `stats --format json`: "requests in out cached write reasoning cost".
    func statsTotals(_ log: ExportLog) throws -> [String: String] {
        let stats = try log.run(["stats", "--by", "project", "--by", "model", "--format", "json"])
        #expect(stats.status == 0, "\(stats.stderr)")
        guard case .array(let rows) = try JSONValue.parse(stats.stdout) else { return [:] }
        var totals: [String: String] = [:]
        for case .object(let members) in rows {
            var m: [String: String] = [:]
            for member in members {
                switch member.value {
                case .string(let s): m[member.key] = s
                case .number(let n): m[member.key] = n
                default: break
                }
            }
            let cost = (try? Money.parse(m["cost_usd"] ?? "")).map(\.decimalString) ?? "?"
            totals[m["project"]! + "|" + m["model"]!] = [
                m["requests"]!, m["input_tokens"]!, m["output_tokens"]!, m["cached_input_tokens"]!,
                m["cache_write_tokens"]!, m["reasoning_tokens"]!, cost,
            ].joined(separator: " ")
        }
        return totals
    }

    /// An engine's answer as tab-separated rows: project, model, count, the five token sums, the
    /// cost, and the days seen (comma-separated); keyed and formatted as ``statsTotals(_:)``.
    func engineTotals(_ output: String) -> (totals: [String: String], days: Set<String>) {
        var totals: [String: String] = [:]
        var days = Set<String>()
        for line in output.split(separator: "\n") {
            let c = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard c.count == 10 else { continue }
            let cost = (try? Money.parse(c[8])).map(\.decimalString) ?? "?"
            totals[c[0] + "|" + c[1]] = (c[2...7] + [cost]).joined(separator: " ")
            for day in c[9].split(separator: ",") { days.insert(day.filter { $0.isNumber || $0 == "-" }) }
        }
        return (totals, days)
    }

    @Test func postgresLoadsCSVExportsAndAgreesWithStats() throws {
        var log = ExportLog("export-pg")
        try log.add(120)
        try log.seal()
        try log.add(40, host: "api")
        let pg = try PostgresCluster(in: log.folder.path + "/pg")
        defer { pg.stop() }
        let shipping = try String(contentsOfFile: TestPaths.packageRoot + "/docs/SHIPPING.md", encoding: .utf8)
        let ddlBlock = try #require(shipping.components(separatedBy: "<!-- ddl -->").dropFirst().first)
        let ddl = ddlBlock.components(separatedBy: "<!-- /ddl -->")[0].replacingOccurrences(of: "```sql", with: "")
            .replacingOccurrences(of: "```", with: "")
        try pg.psql(ddl)

        func load() throws -> Int {
            let export = try log.run(["export", "--cursor", log.cursor, "--format", "csv"])
            #expect(export.status == 0, "\(export.stderr)")
            let file = log.folder.path + "/batch.csv"
            writeFile(file, Data(export.stdout.utf8))
            let out = try pg.psql(
                """
                CREATE TEMP TABLE spendlog_batch (LIKE spendlog_records);
                \\copy spendlog_batch FROM '\(file)' WITH (FORMAT csv, HEADER true)
                INSERT INTO spendlog_records SELECT * FROM spendlog_batch ON CONFLICT (id) DO NOTHING;
                """)
            let tag = out.split(separator: "\n").last { $0.hasPrefix("INSERT 0 ") } ?? ""
            return Int(tag.dropFirst("INSERT 0 ".count)) ?? -1
        }
        func sqlTotals() throws -> [String: String] {
            let out = try pg.psql(
                """
                \\pset format unaligned
                \\pset fieldsep '\\t'
                \\pset tuples_only on
                SELECT project, model, count(*), sum(input_tokens), sum(output_tokens), sum(cached_input_tokens),
                       sum(cache_write_tokens), sum(reasoning_tokens), sum(cost_usd)
                FROM spendlog_records GROUP BY 1, 2;
                """)
            var totals: [String: String] = [:]
            for line in out.split(separator: "\n") {
                let c = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                guard c.count == 9 else { continue }
                let cost = (try? Money.parse(c[8])).map(\.decimalString) ?? "?"
                totals[c[0] + "|" + c[1]] = (c[2...7] + [cost]).joined(separator: " ")
            }
            return totals
        }
        #expect(try load() == 160)
        #expect(try sqlTotals() == statsTotals(log))
        try log.add(33)
        try log.seal()
        try log.add(4, host: "api")
        #expect(try load() == 37, "the second export adds exactly the new rows")
        let totals = try sqlTotals()
        #expect(totals == (try statsTotals(log)))
        #expect(totals.count >= 6)
        // Optional values arrive as NULL, tags as JSON, names with commas and quotes intact.
        let check = try pg.psql(
            """
            \\pset tuples_only on
            SELECT count(*) FILTER (WHERE latency_ms IS NULL), count(*) FILTER (WHERE tags->>'team' = 'a,b'),
                   count(*) FILTER (WHERE project = 'chat, "beta"') FROM spendlog_records;
            """)
        let row = check.split(separator: "\n").last { $0.contains("|") } ?? ""
        let counts = row.split(separator: "|").map { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1 }
        #expect(counts.count == 3 && counts.allSatisfy { $0 > 0 }, "\(check)")
    }

    @Test func otlpLinesParseAsExportLogsServiceRequests() throws {
        var log = ExportLog("export-otlp")
        try log.add(230)
        let jsonl = try log.run(["export", "--format", "jsonl"])
        let otlp = try log.run(["export", "--format", "otlp-json"])
        #expect(otlp.status == 0, "\(otlp.stderr)")
        let records = completeLines(jsonl.stdout)
        let expected = log.folder.path + "/expected.jsonl"
        let flat = try log.run(["export", "--format", "jsonl", "--schema", "otel"])
        writeFile(expected, Data(flat.stdout.utf8))
        let input = log.folder.path + "/otlp.jsonl"
        writeFile(input, Data(otlp.stdout.utf8))
        let script = """
            import json, sys
            from decimal import Decimal
            from google.protobuf import json_format
            from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
            def plain(v):
                kind = v.WhichOneof("value")
                if kind == "int_value": return v.int_value
                if kind == "double_value": return Decimal(repr(v.double_value))
                if kind == "string_value": return v.string_value
                if kind == "bool_value": return v.bool_value
                raise SystemExit("unexpected value kind %s" % kind)
            got = []
            for n, line in enumerate(open(sys.argv[1])):
                req = json_format.Parse(line, ExportLogsServiceRequest())
                for rl in req.resource_logs:
                    for sl in rl.scope_logs:
                        assert sl.schema_url.endswith("/1.40.0"), sl.schema_url
                        for rec in sl.log_records:
                            got.append((rec.time_unix_nano, rec.severity_number,
                                        {a.key: plain(a.value) for a in rec.attributes}))
            want = [json.loads(l, parse_float=Decimal) for l in open(sys.argv[2])]
            assert len(got) == len(want), (len(got), len(want))
            for (t, sev, attrs), w in zip(got, want):
                w = {k: (v if not isinstance(v, Decimal) else Decimal(str(v))) for k, v in w.items()}
                assert attrs == w, (attrs, w)
                assert sev == (17 if w.get("spendlog.status") == "error" else 9)
            print(len(got), n + 1)
            """
        let py = try runProcess(TestPaths.python, ["-c", script, input, expected])
        #expect(py.status == 0, "\(py.stderr)")
        #expect(py.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\(records.count) 3")
    }

    @Test func chdbReadsTheSegmentsWithTheSameTotalsAsStats() throws {
        var log = ExportLog("export-chdb")
        try log.add(90)
        try log.seal()
        // Sealed segments of many frames, each ending at a line end, as large segments are.
        #expect(try resealInSmallFrames(log.dir) > 6)
        try log.add(25, host: "api")
        let script = """
            import chdb, sys
            base = sys.argv[1] + "/segments"
            cols = ("project String, model String, input_tokens Int64, output_tokens Int64, "
                    "cached_input_tokens Int64, cache_write_tokens Int64, reasoning_tokens Int64, cost_usd String, day String")
            q = ("SELECT project, model, count(), sum(input_tokens), sum(output_tokens), sum(cached_input_tokens), "
                 "sum(cache_write_tokens), sum(reasoning_tokens), sum(toDecimal128(cost_usd, 9)), "
                 "arrayStringConcat(arraySort(groupUniqArray(toString(day))), ',') FROM ("
                 "SELECT * FROM file('{b}/*/*.jsonl.zst', JSONEachRow, '{c}') SETTINGS use_hive_partitioning = 1 UNION ALL "
                 "SELECT * FROM file('{b}/*/*.jsonl', JSONEachRow, '{c}') SETTINGS use_hive_partitioning = 1) "
                 "GROUP BY project, model SETTINGS input_format_json_read_numbers_as_strings = 1").format(b=base, c=cols)
            print(chdb.query(q, "TabSeparated"))
            """
        let py = try runProcess(TestPaths.python, ["-c", script, log.dir])
        #expect(py.status == 0, "\(py.stderr)")
        let (totals, days) = engineTotals(py.stdout)
        #expect(totals == (try statsTotals(log)))
        #expect(days == ["2026-11-20", "2026-11-21", "2026-11-22"], "the hive day column")
    }

    /// Spark (pyspark in local mode, Debian's Java 17) reads the sealed `.jsonl.zst` segments as
    /// they are (Hadoop's zstd codec) and the active `.jsonl` ones, with `day` from the folder
    /// names; totals per project and model equal `stats`. Costs are read as text and summed as
    /// DECIMAL(38,9), never as floating point.
    @Test func sparkReadsTheSegmentsWithTheSameTotalsAsStats() throws {
        var log = ExportLog("export-spark")
        try log.add(90)
        try log.seal()
        #expect(try resealInSmallFrames(log.dir) > 6)
        try log.add(25, host: "api")
        let script = """
            import sys
            from pyspark.sql import SparkSession, functions as F
            spark = (SparkSession.builder.master("local[1]").appName("spendlog")
                     .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1")
                     .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                     .getOrCreate())
            spark.sparkContext.setLogLevel("ERROR")
            base = sys.argv[1] + "/segments"
            df = (spark.read.option("primitivesAsString", "true").option("basePath", base)
                  .json([base + "/*/*.jsonl.zst", base + "/*/*.jsonl"]))
            n = lambda c: F.sum(F.col(c).cast("long"))
            rows = (df.groupBy("project", "model").agg(
                F.count(F.lit(1)), n("input_tokens"), n("output_tokens"), n("cached_input_tokens"),
                n("cache_write_tokens"), n("reasoning_tokens"), F.sum(F.col("cost_usd").cast("decimal(38,9)")),
                F.concat_ws(",", F.array_sort(F.collect_set(F.col("day").cast("string"))))).collect())
            for r in rows:
                print("\t".join("" if v is None else str(v) for v in r))
            spark.stop()
            """
        let py = try runProcess(
            TestPaths.python, ["-c", script, log.dir], environment: ["PYSPARK_PYTHON": TestPaths.python])
        #expect(py.status == 0, "\(py.stderr.suffix(3000))")
        let (totals, days) = engineTotals(py.stdout)
        #expect(totals == (try statsTotals(log)), "\(py.stdout.prefix(3000)) \(py.stderr.suffix(2000))")
        #expect(days == ["2026-11-20", "2026-11-21", "2026-11-22"], "the hive day column")
    }
}

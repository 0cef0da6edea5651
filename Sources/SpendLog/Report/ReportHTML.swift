/// The HTML form of a report: one self-contained file (inline CSS and SVG, no script, no fonts,
/// no request of any kind; a Content-Security-Policy forbids them), for the screen and for print.
/// Numbers read for people; each table cell keeps its exact value in `data-value` and `title`.
extension ReportData {
    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f"]
    static let otherColor = "#bab0ac"
    static let contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

    /// A script a live page runs (the dashboard of `spendlog serve`): its source, and the nonce
    /// its Content-Security-Policy allows it by. The policy then also lets the page fetch from its
    /// own origin, and nothing else.
    public struct LiveScript: Sendable {
        /// A fresh random value per page, named in the page's Content-Security-Policy.
        public var nonce: String
        /// The script's JavaScript source, put inline in the page.
        public var source: String

        /// A script and the nonce that lets it run.
        public init(nonce: String, source: String) {
            self.nonce = nonce
            self.source = source
        }
    }

    /// The report as one HTML page; with `live`, that script runs in it (a file written by
    /// `spendlog report` has none).
    public func html(live: LiveScript? = nil) -> String {
        var h = HTMLBuilder()
        h.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        var policy = Self.contentSecurityPolicy
        if let live { policy += "; script-src 'nonce-\(live.nonce)'; connect-src 'self'" }
        h.raw("<meta http-equiv=\"Content-Security-Policy\" content=\"\(policy)\">\n")
        h.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        h.raw("<meta name=\"generator\" content=\"spendlog\">\n<title>")
        h.text(title)
        h.raw("</title>\n<style>\n\(Self.css)</style>\n</head>\n")
        h.raw("<body data-format=\"\(Self.jsonFormatName)\" data-generated-at=\"\(generatedAt.rfc3339)\"")
        h.raw(" data-time-zone=\"")
        h.text(timeZone.name)
        h.raw("\" data-since=\"\(period.since.rfc3339)\" data-until=\"\(period.until.rfc3339)\">\n<main>\n<header>\n<h1>")
        h.text(title)
        h.raw("</h1>\n<p class=\"period\">")
        h.text(
            "\(ReportFormat.localTime(period.since.millisecondsSinceEpoch, zone: timeZone)) to "
                + "\(ReportFormat.localTime(period.until.millisecondsSinceEpoch, zone: timeZone)) (\(timeZone.name))"
                + (period.isMonthToDate ? ", this month so far" : "") + "; compared with "
                + "\(ReportFormat.localTime(period.previousSince.millisecondsSinceEpoch, zone: timeZone)) to "
                + "\(ReportFormat.localTime(period.previousUntil.millisecondsSinceEpoch, zone: timeZone)).")
        h.raw("</p>\n")
        if let filters = filterDescription {
            h.raw("<p class=\"filters\">Filters: ")
            h.text(filters)
            h.raw("</p>\n")
        }
        h.raw("</header>\n")
        unpricedWarning(&h)
        headline(&h)

        section(&h, "daily", "Daily cost by model") { h in
            dailyChart(&h)
        }
        section(&h, "by_project", "Cost by project") { h in
            barChart(&h, rows: byProject.map { ($0.key, $0.metrics.costNanos) }, money: true, total: totals.costNanos)
        }
        section(&h, "by_model", "Cost by model") { h in
            barChart(&h, rows: byModel.map { ($0.key, $0.metrics.costNanos) }, money: true, total: totals.costNanos)
        }
        section(&h, "token_mix", "Token mix") { h in tokenMix(&h) }
        for (id, title, rows) in [
            ("top_users", "Top users", topUsers), ("top_callers", "Top callers", topCallers),
            ("top_tasks", "Top tasks", topTasks),
        ] {
            section(&h, id, title) { h in
                barChart(&h, rows: rows.map { ($0.key, $0.metrics.costNanos) }, money: true, total: totals.costNanos)
            }
        }
        section(&h, "errors_by_model", "Error rate by model") { h in
            errorChart(&h)
        }
        section(&h, "budgets", "Budget utilisation") { h in budgetChart(&h) }
        section(&h, "projection", "Month-end projection") { h in projectionText(&h) }
        section(&h, "totals", "Totals") { _ in }
        section(&h, "change", "Change against the previous period") { _ in }
        if !unpriced.isEmpty { section(&h, "unpriced", "Unpriced models") { _ in } }

        h.raw("<footer>Made by spendlog at \(generatedAt.rfc3339). Figures are rounded for reading; ")
        h.raw("the exact values are in each table cell's <code>title</code> and <code>data-value</code>.</footer>\n")
        h.raw("</main>\n")
        if let live {
            h.raw("<script nonce=\"\(live.nonce)\">\n")
            // `</` would end the element early: scripts are the caller's own text, kept without it.
            h.raw(live.source.split(separator: "</", omittingEmptySubsequences: false).joined(separator: "<\\/"))
            h.raw("\n</script>\n")
        }
        h.raw("</body>\n</html>\n")
        return h.out
    }

    private func section(_ h: inout HTMLBuilder, _ id: String, _ heading: String, chart: (inout HTMLBuilder) -> Void) {
        guard let table = table(id) else { return }
        h.raw("<section id=\"\(id)\">\n<h2>")
        h.text(heading)
        h.raw("</h2>\n")
        if let note = table.note {
            h.raw("<p class=\"note\">")
            h.text(note)
            h.raw("</p>\n")
        }
        chart(&h)
        tableHTML(&h, table)
        h.raw("</section>\n")
    }

    private func tableHTML(_ h: inout HTMLBuilder, _ table: ReportTable) {
        h.raw("<div class=\"table-wrap\"><table data-section=\"\(table.id)\">\n<thead><tr>")
        for (i, column) in table.columns.enumerated() {
            let numeric = table.rows.first?[i].isNumeric ?? false
            h.raw("<th data-key=\"")
            h.text((column.group.map { $0 + ":" } ?? "") + column.key)
            h.raw(numeric ? "\" class=\"num\">" : "\">")
            h.text(column.header)
            h.raw("</th>")
        }
        h.raw("</tr></thead>\n<tbody>\n")
        for row in table.rows {
            h.raw("<tr>")
            for (column, value) in zip(table.columns, row) {
                h.raw("<td data-key=\"")
                h.text((column.group.map { $0 + ":" } ?? "") + column.key)
                h.raw("\" data-value=\"")
                h.text(value.exact)
                if case .text(nil) = value { h.raw("\" data-null=\"1") }
                if case .time(nil) = value { h.raw("\" data-null=\"1") }
                if case .fraction(nil) = value { h.raw("\" data-null=\"1") }
                if case .change(nil) = value { h.raw("\" data-null=\"1") }
                h.raw("\" title=\"")
                h.text(value.exact)
                h.raw(value.isNumeric ? "\" class=\"num\">" : "\">")
                h.text(value.display(zone: timeZone))
                h.raw("</td>")
            }
            h.raw("</tr>\n")
        }
        if table.rows.isEmpty {
            h.raw("<tr class=\"empty\"><td colspan=\"\(table.columns.count)\">No records.</td></tr>\n")
        }
        h.raw("</tbody></table></div>\n")
    }

    private func unpricedWarning(_ h: inout HTMLBuilder) {
        let rows = unpriced
        guard !rows.isEmpty else { return }
        h.raw("<div class=\"warning\" role=\"alert\" id=\"unpriced-warning\" data-unpriced-requests=\"")
        h.raw(String(totals.unpricedRequests))
        h.raw("\"><strong>Unpriced calls:</strong> ")
        h.text(
            "\(ReportFormat.grouped(totals.unpricedRequests)) request\(totals.unpricedRequests == 1 ? "" : "s") "
                + "had no price, so their cost is not in these totals. Add a price, then run "
                + "`spendlog reprice --apply`.")
        h.raw("<ul>")
        for row in rows {
            h.raw("<li data-model=\"")
            h.text(row.key ?? "")
            h.raw("\" data-value=\"\(row.metrics.unpricedRequests)\"><code>")
            h.text(row.key ?? "(none)")
            h.raw("</code>: ")
            h.text(ReportFormat.grouped(row.metrics.unpricedRequests) + " unpriced requests")
            h.raw("</li>")
        }
        h.raw("</ul></div>\n")
    }

    private func headline(_ h: inout HTMLBuilder) {
        h.raw("<section id=\"headline\" class=\"kpis\">\n")
        let tokens = totals.inputTokens &+ totals.outputTokens
        let previousTokens = previousTotals.inputTokens &+ previousTotals.outputTokens
        let cards: [(String, String, String, String, Int64, Int64, String)] = [
            ("cost_usd", "Cost", ReportFormat.compactMoney(totals.costNanos), Money(nanos: totals.costNanos).decimalString,
             totals.costNanos, previousTotals.costNanos, Money(nanos: previousTotals.costNanos).decimalString),
            ("requests", "Requests", ReportFormat.compact(totals.requests), String(totals.requests), totals.requests,
             previousTotals.requests, String(previousTotals.requests)),
            ("total_tokens", "Tokens", ReportFormat.compact(tokens), String(tokens), tokens, previousTokens,
             String(previousTokens)),
        ]
        for (field, label, shown, exact, now, before, beforeExact) in cards {
            let change = ReportMath.change(from: before, to: now)
            h.raw("<div class=\"kpi\" data-field=\"\(field)\" data-value=\"\(exact)\" data-previous=\"\(beforeExact)\"")
            h.raw(" data-change=\"\(change.map { ReportFormat.fixed($0, scale: 100, digits: 2) } ?? "")\">")
            h.raw("<div class=\"label\">\(label)</div><div class=\"value\" title=\"\(exact)\">")
            h.text(shown)
            h.raw("</div><div class=\"delta\(change.map { $0 > 0 ? " up" : $0 < 0 ? " down" : "" } ?? "")\">")
            h.text(
                (change.map(ReportFormat.change) ?? "no data")
                    + " vs previous (" + (field == "cost_usd" ? ReportFormat.money(before) : ReportFormat.grouped(before))
                    + ")")
            h.raw("</div></div>\n")
        }
        if let p = projection {
            h.raw("<div class=\"kpi\" data-field=\"projected_usd\" data-value=\"\(Money(nanos: p.projectedNanos).decimalString)\">")
            h.raw("<div class=\"label\">Projected for \(p.month)</div><div class=\"value\" title=\"")
            h.raw(Money(nanos: p.projectedNanos).decimalString + "\">")
            h.text(ReportFormat.compactMoney(p.projectedNanos))
            h.raw("</div><div class=\"delta\">")
            h.text("at " + ReportFormat.money(p.ratePerDayNanos) + " a day")
            h.raw("</div></div>\n")
        }
        h.raw("</section>\n")
    }

    // MARK: - Charts (inline SVG; Double only for geometry)

    /// A step of 1, 2 or 5 × 10^k so that four steps reach `maximum`.
    static func niceStep(_ maximum: Int64) -> Int64 {
        var scale: Int64 = 1
        while true {
            for m: Int64 in [1, 2, 5] {
                let (step, overflow) = m.multipliedReportingOverflow(by: scale)
                if overflow || step.multipliedReportingOverflow(by: 4).partialValue >= maximum { return step }
            }
            if scale > Int64.max / 10 { return Int64.max / 4 }
            scale *= 10
        }
    }

    private func colorOfChartModel(_ index: Int) -> String {
        index < chartModels.count ? Self.palette[index % Self.palette.count] : Self.otherColor
    }

    private func legend(_ h: inout HTMLBuilder, _ items: [(String, String)]) {
        h.raw("<ul class=\"legend\">")
        for (label, color) in items {
            h.raw("<li><span class=\"swatch\" style=\"background:\(color)\"></span>")
            h.text(label)
            h.raw("</li>")
        }
        h.raw("</ul>\n")
    }

    private func dailyChart(_ h: inout HTMLBuilder) {
        let width = 960.0
        let height = 280.0
        let left = 76.0
        let bottom = 36.0
        let top = 10.0
        let plotW = width - left - 10
        let plotH = height - top - bottom
        let maximum = daily.map(\.metrics.costNanos).max() ?? 0
        let step = Self.niceStep(max(maximum, 1))
        let scaleMax = Double(step) * 4
        h.raw(
            "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"Daily cost by model\" xmlns=\"http://www.w3.org/2000/svg\">\n"
        )
        for i in 0...4 {
            let y = top + plotH - plotH * Double(i) / 4
            h.raw("<line class=\"grid\" x1=\"\(f(left))\" x2=\"\(f(width - 10))\" y1=\"\(f(y))\" y2=\"\(f(y))\"/>")
            h.raw("<text class=\"axis\" x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">")
            h.text(ReportFormat.money(step * Int64(i)))
            h.raw("</text>\n")
        }
        let n = max(daily.count, 1)
        let slot = plotW / Double(n)
        let barW = max(slot * 0.8, 1)
        let labelEvery = max(1, (n + 14) / 15)
        for (i, day) in daily.enumerated() {
            let x = left + slot * Double(i) + (slot - barW) / 2
            var y = top + plotH
            for (j, cost) in day.costByChartModel.enumerated() where cost > 0 {
                let barH = plotH * Double(cost) / scaleMax
                y -= barH
                let name = j < chartModels.count ? chartModels[j] : "other"
                h.raw("<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(barW))\" height=\"\(f(barH))\" fill=\"\(colorOfChartModel(j))\"><title>")
                h.text(day.day + " · " + name + ": " + ReportFormat.money(cost))
                h.raw("</title></rect>")
            }
            if i % labelEvery == 0 {
                h.raw("<text class=\"axis\" x=\"\(f(left + slot * Double(i) + slot / 2))\" y=\"\(f(height - bottom + 16))\" text-anchor=\"middle\">")
                h.text(String(day.day.dropFirst(5)))
                h.raw("</text>")
            }
            h.raw("\n")
        }
        h.raw("</svg>\n")
        var items = chartModels.enumerated().map { ($0.element, colorOfChartModel($0.offset)) }
        if chartHasOther { items.append(("other", Self.otherColor)) }
        legend(&h, items)
    }

    /// Horizontal bars of `rows` (the first 12), each with its value and share of `total`.
    private func barChart(_ h: inout HTMLBuilder, rows all: [(String?, Int64)], money: Bool, total: Int64) {
        let rows = Array(all.prefix(12))
        guard !rows.isEmpty else { return }
        let width = 960.0
        let rowH = 24.0
        let labelW = 230.0
        let valueW = 190.0
        let barMax = width - labelW - valueW
        let maximum = Double(max(rows.map(\.1).max() ?? 0, 1))
        let height = rowH * Double(rows.count) + 4
        h.raw("<svg class=\"chart bars\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">\n")
        for (i, (key, value)) in rows.enumerated() {
            let y = Double(i) * rowH + 2
            let name = key ?? "(none)"
            h.raw("<text class=\"label\" x=\"\(f(labelW - 8))\" y=\"\(f(y + 16))\" text-anchor=\"end\"><title>")
            h.text(name)
            h.raw("</title>")
            h.text(name.count > 32 ? String(name.prefix(31)) + "…" : name)
            h.raw("</text>")
            let w = max(barMax * Double(max(value, 0)) / maximum, value > 0 ? 1 : 0)
            h.raw("<rect x=\"\(f(labelW))\" y=\"\(f(y + 3))\" width=\"\(f(w))\" height=\"\(f(rowH - 6))\" fill=\"\(Self.palette[0])\"/>")
            let share = ReportMath.share(value, of: total).map { " · " + ReportValue.fraction($0).display(zone: .utc) } ?? ""
            h.raw("<text class=\"value\" x=\"\(f(labelW + w + 6))\" y=\"\(f(y + 16))\">")
            h.text((money ? ReportFormat.money(value) : ReportFormat.grouped(value)) + share)
            h.raw("</text>\n")
        }
        h.raw("</svg>\n")
        if all.count > rows.count {
            h.raw("<p class=\"note\">The chart shows the first \(rows.count) of \(all.count); the table has them all.</p>\n")
        }
    }

    private func tokenMix(_ h: inout HTMLBuilder) {
        let m = totals
        let parts: [(String, Int64, String)] = [
            ("Uncached input", m.inputTokens &- m.cachedInputTokens &- m.cacheWriteTokens, "#4e79a7"),
            ("Cache reads", m.cachedInputTokens, "#59a14f"),
            ("Cache writes", m.cacheWriteTokens, "#edc948"),
            ("Output", m.outputTokens &- m.reasoningTokens, "#f28e2b"),
            ("Reasoning", m.reasoningTokens, "#b07aa1"),
        ]
        let all = Double(max(m.inputTokens &+ m.outputTokens, 1))
        let width = 960.0
        h.raw("<svg class=\"chart\" viewBox=\"0 0 960 36\" role=\"img\" aria-label=\"Token mix\" xmlns=\"http://www.w3.org/2000/svg\">")
        var x = 0.0
        for (label, value, color) in parts where value > 0 {
            let w = width * Double(value) / all
            h.raw("<rect x=\"\(f(x))\" y=\"2\" width=\"\(f(w))\" height=\"32\" fill=\"\(color)\"><title>")
            h.text(label + ": " + ReportFormat.grouped(value))
            h.raw("</title></rect>")
            x += w
        }
        h.raw("</svg>\n")
        legend(
            &h,
            parts.map {
                ($0.0 + " " + ReportFormat.compact($0.1) + " ("
                    + (ReportMath.share($0.1, of: m.inputTokens &+ m.outputTokens).map {
                        ReportValue.fraction($0).display(zone: .utc)
                    } ?? "–") + ")", $0.2)
            })
    }

    private func errorChart(_ h: inout HTMLBuilder) {
        let rows = byModel.prefix(12)
        guard !rows.isEmpty else { return }
        let width = 960.0
        let rowH = 24.0
        let labelW = 230.0
        let barMax = width - labelW - 190
        let rates = rows.map { ReportMath.share($0.metrics.errors, of: $0.metrics.requests) ?? 0 }
        let maximum = Double(max(rates.max() ?? 0, 1))
        h.raw("<svg class=\"chart bars\" viewBox=\"0 0 960 \(Int(rowH * Double(rows.count) + 4))\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">\n")
        for (i, (row, rate)) in zip(rows, rates).enumerated() {
            let y = Double(i) * rowH + 2
            let name = row.key ?? "(none)"
            h.raw("<text class=\"label\" x=\"\(f(labelW - 8))\" y=\"\(f(y + 16))\" text-anchor=\"end\">")
            h.text(name.count > 32 ? String(name.prefix(31)) + "…" : name)
            h.raw("</text>")
            let w = barMax * Double(rate) / maximum
            h.raw("<rect x=\"\(f(labelW))\" y=\"\(f(y + 3))\" width=\"\(f(w))\" height=\"\(f(rowH - 6))\" fill=\"#e15759\"/>")
            h.raw("<text class=\"value\" x=\"\(f(labelW + w + 6))\" y=\"\(f(y + 16))\">")
            h.text(
                ReportValue.fraction(rate).display(zone: .utc) + " (" + ReportFormat.grouped(row.metrics.errors) + " of "
                    + ReportFormat.grouped(row.metrics.requests) + ")")
            h.raw("</text>\n")
        }
        h.raw("</svg>\n")
    }

    private func budgetChart(_ h: inout HTMLBuilder) {
        guard !budgets.isEmpty else { return }
        let width = 960.0
        let rowH = 46.0
        let labelW = 300.0
        let track = width - labelW - 20
        h.raw("<svg class=\"chart bars\" viewBox=\"0 0 960 \(Int(rowH * Double(budgets.count) + 4))\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">\n")
        h.raw("<defs><pattern id=\"held\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"3\" height=\"6\" fill=\"#f28e2b\"/></pattern></defs>\n")
        for (i, s) in budgets.enumerated() {
            let r = s.rule
            let y = Double(i) * rowH + 4
            let used = Double(s.spent) + Double(s.held)
            let scale = max(Double(r.maximum), used, 1)
            let soft = r.softPartsPerMillion.map { Double(r.maximum) * Double($0) / 1_000_000 }
            let state = used > Double(r.maximum) ? "over" : soft.map { used >= $0 } == true ? "soft" : "ok"
            let color = state == "over" ? "#e15759" : state == "soft" ? "#edc948" : "#59a14f"
            h.raw("<text class=\"label\" x=\"0\" y=\"\(f(y + 14))\">")
            h.text(r.id + " · " + r.scope.description + " · " + r.metric.rawValue + " · " + r.window.description)
            h.raw("</text>")
            h.raw("<text class=\"axis\" x=\"0\" y=\"\(f(y + 32))\">")
            h.text(
                r.metric.format(s.spent) + " spent, " + r.metric.format(s.held) + " held of "
                    + r.metric.format(r.maximum) + " (" + s.percentUsed + "%)"
                    + (s.resetsAt.map { ", resets " + ReportFormat.localTime($0, zone: timeZone) } ?? ""))
            h.raw("</text>")
            let spentW = track * Double(s.spent) / scale
            let heldW = track * Double(s.held) / scale
            h.raw("<rect class=\"track\" x=\"\(f(labelW))\" y=\"\(f(y + 6))\" width=\"\(f(track * Double(r.maximum) / scale))\" height=\"22\"/>")
            h.raw("<rect x=\"\(f(labelW))\" y=\"\(f(y + 6))\" width=\"\(f(spentW))\" height=\"22\" fill=\"\(color)\"><title>spent</title></rect>")
            if heldW > 0 {
                h.raw("<rect x=\"\(f(labelW + spentW))\" y=\"\(f(y + 6))\" width=\"\(f(heldW))\" height=\"22\" fill=\"url(#held)\"><title>held</title></rect>")
            }
            if let soft {
                let x = labelW + track * soft / scale
                h.raw("<line class=\"soft\" x1=\"\(f(x))\" x2=\"\(f(x))\" y1=\"\(f(y + 2))\" y2=\"\(f(y + 32))\"><title>soft threshold</title></line>")
            }
            let hx = labelW + track * Double(r.maximum) / scale
            h.raw("<line class=\"hard\" x1=\"\(f(hx))\" x2=\"\(f(hx))\" y1=\"\(f(y + 2))\" y2=\"\(f(y + 32))\"><title>hard limit</title></line>\n")
        }
        h.raw("</svg>\n")
        legend(&h, [("spent", "#59a14f"), ("held by open reservations", "#f28e2b"), ("soft threshold (dashed)", "#333"), ("hard limit", "#e15759")])
    }

    private func projectionText(_ h: inout HTMLBuilder) {
        guard let p = projection else { return }
        h.raw("<p>")
        h.text(
            "At the rate from \(ReportFormat.localTime(p.from.millisecondsSinceEpoch, zone: timeZone)) to "
                + "\(ReportFormat.localTime(p.until.millisecondsSinceEpoch, zone: timeZone)) "
                + "(\(ReportFormat.money(p.ratePerDayNanos)) a day), \(p.month) ends at about "
                + "\(ReportFormat.money(p.projectedNanos)) (\(ReportFormat.money(p.spentNanos)) so far).")
        h.raw("</p>\n")
    }

    /// A coordinate with at most two decimals.
    private func f(_ value: Double) -> String {
        let hundredths = Int64((value * 100).rounded())
        return ReportFormat.fixed(hundredths, scale: 100, digits: 2)
    }

    static let css = """
        :root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #f6f8fa; }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); color: var(--ink);
          font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
        main { max-width: 1040px; margin: 0 auto; padding: 24px 20px 48px; }
        header h1 { margin: 0 0 4px; font-size: 26px; }
        .period, .filters, .note, footer { color: var(--muted); margin: 4px 0; }
        section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px; margin: 16px 0; }
        h2 { margin: 0 0 10px; font-size: 18px; }
        .kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 12px;
          background: none; border: 0; padding: 0; }
        .kpi { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
        .kpi .label { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .04em; }
        .kpi .value { font-size: 30px; font-weight: 650; font-variant-numeric: tabular-nums; }
        .kpi .delta { font-size: 13px; color: var(--muted); }
        .kpi .delta.up { color: #b3261e; } .kpi .delta.down { color: #1a7f37; }
        .warning { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 8px; padding: 12px 16px; margin: 16px 0; }
        .warning ul { margin: 6px 0 0; padding-left: 20px; }
        svg.chart { width: 100%; height: auto; display: block; margin: 6px 0; }
        svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: var(--ink); }
        svg text.axis { fill: var(--muted); font-size: 11px; }
        svg .grid { stroke: #eaeef2; stroke-width: 1; }
        svg .track { fill: #eaeef2; }
        svg .soft { stroke: #333; stroke-width: 2; stroke-dasharray: 4 3; }
        svg .hard { stroke: #e15759; stroke-width: 3; }
        .legend { list-style: none; padding: 0; margin: 4px 0 10px; display: flex; flex-wrap: wrap; gap: 6px 16px;
          font-size: 13px; }
        .swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
        .table-wrap { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }
        th, td { padding: 4px 8px; border-bottom: 1px solid #eaeef2; text-align: left; white-space: nowrap; }
        th { color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); }
        .num { text-align: right; }
        code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 90%; }
        footer { margin-top: 24px; font-size: 13px; }
        @page { size: A4; margin: 14mm; }
        @media print {
          body { background: #fff; font-size: 10pt; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
          main { max-width: none; padding: 0; }
          section, .kpi, .warning { border-color: #999; break-inside: avoid; page-break-inside: avoid; }
          section { border: 0; border-top: 1px solid #999; border-radius: 0; padding: 8px 0; }
          .table-wrap { overflow: visible; }
          table { font-size: 8pt; }
          th, td { padding: 2px 4px; white-space: normal; }
          thead { display: table-header-group; }
          tr { break-inside: avoid; }
          .kpi .value { font-size: 20pt; }
        }

        """
}

/// HTML text with every piece of content escaped.
struct HTMLBuilder {
    var out = ""

    mutating func raw(_ text: String) { out += text }

    /// Escapes `& < > " '` (safe in text and in double-quoted attributes).
    mutating func text(_ text: String) {
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
    }
}

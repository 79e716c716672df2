// `--html FILE`: one self-contained page (no scripts, no network) with inline SVG charts: throughput per second,
// latency percentiles per second, the latency distribution (percentile spectrum, HdrHistogram style) and, for
// --find-max, p99 against the offered rate.
import Foundation

struct HTMLReport {
    let title: String
    let report: Report
    let state: Recorder.State

    struct Series {
        let name: String
        let colour: String
        let points: [(x: Double, y: Double)]
    }

    var page: String {
        let seconds = self.state.seconds
        let unit = self.report.throughputKey == "events_per_s" ? "events/s" : "calls/s"
        let throughput = Series(
            name: unit, colour: "#1f77b4",
            points: seconds.map { ($0.t, Double(self.report.throughputKey == "events_per_s" ? $0.events : $0.ops)) })
        let percentiles: [Series] = [
            Series(name: "p50", colour: "#2ca02c", points: seconds.map { ($0.t, $0.p50) }),
            Series(name: "p90", colour: "#ff7f0e", points: seconds.map { ($0.t, $0.p90) }),
            Series(name: "p99", colour: "#d62728", points: seconds.map { ($0.t, $0.p99) }),
            Series(name: "max", colour: "#7f7f7f", points: seconds.map { ($0.t, $0.max) }),
        ]
        // Percentile spectrum: x is log10(1 / (1 - p)), so 90 %, 99 %, 99.9 % are evenly spaced.
        let fractions = [0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999]
        let spectrum = Series(
            name: "latency", colour: "#9467bd",
            points: fractions.map { (log10(1 / (1 - $0)), self.state.histogram.milliseconds($0)) }
                + [(log10(1 / (1 - 0.99999)), Double(self.state.histogram.maximum) / 1e6)])
        var charts = [
            Self.chart("Throughput over time", x: "seconds", y: unit, [throughput]),
            Self.chart("Latency percentiles over time", x: "seconds", y: "ms", percentiles),
            Self.chart(
                "Latency distribution (percentile spectrum)", x: "percentile", y: "ms", [spectrum],
                xLabels: [(0, "0"), (1, "90"), (2, "99"), (3, "99.9"), (4, "99.99"), (5, "max")]),
        ]
        if !self.report.curve.isEmpty {
            charts.append(
                Self.chart(
                    "p99 against offered rate (find-max)", x: "offered per second", y: "ms",
                    [Series(name: "p99", colour: "#d62728", points: self.report.curve.map { ($0.offered, $0.p99) })]))
        }
        charts += self.report.extraCharts
        let figures = self.report.json.filter { !($0.value is [Any]) && !($0.value is [String: Any]) }
            .sorted { $0.key < $1.key }
            .map { "<tr><td>\(Self.escape($0.key))</td><td>\(Self.escape("\($0.value)"))</td></tr>" }
        let latency = self.state.histogram.summary.sorted { $0.key < $1.key }
            .map { "<tr><td>latency_ms.\($0.key)</td><td>\($0.value)</td></tr>" }
        let errors = self.state.errors.sorted { $0.key < $1.key }
            .map { "<tr><td>errors.\(Self.escape($0.key))</td><td>\($0.value)</td></tr>" }
        return """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>\(Self.escape(self.title))</title>
            <style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}
            td{border:1px solid #ccc;padding:2px 8px}svg{display:block;margin:1em 0}</style></head>
            <body><h1>\(Self.escape(self.title))</h1>
            <table>\((figures + latency + errors).joined(separator: "\n"))</table>
            \(charts.joined(separator: "\n"))
            </body></html>

            """
    }

    /// A line chart 720x300 with axes, five ticks each way and a legend; empty series draw an empty frame.
    static func chart(
        _ title: String, x xName: String, y yName: String, _ series: [Series], xLabels: [(Double, String)]? = nil
    ) -> String {
        let width = 720.0
        let height = 300.0
        let left = 70.0
        let right = 20.0
        let top = 30.0
        let bottom = 40.0
        let all = series.flatMap(\.points)
        let minX = min(all.map(\.x).min() ?? 0, xLabels == nil ? 0 : .infinity)  // time and rate axes start at 0
        var maxX = all.map(\.x).max() ?? 1
        if maxX <= minX { maxX = minX + 1 }
        var maxY = (all.map(\.y).max() ?? 1) * 1.1
        if maxY <= 0 { maxY = 1 }
        func px(_ x: Double) -> Double { left + (x - minX) / (maxX - minX) * (width - left - right) }
        func py(_ y: Double) -> Double { height - bottom - y / maxY * (height - top - bottom) }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-size="11">
            <text x="\(left)" y="18" font-size="14">\(Self.escape(title))</text>
            <line x1="\(left)" y1="\(py(0))" x2="\(width - right)" y2="\(py(0))" stroke="#444"/>
            <line x1="\(left)" y1="\(top)" x2="\(left)" y2="\(py(0))" stroke="#444"/>
            <text x="\(width - right)" y="\(height - 5)" text-anchor="end">\(Self.escape(xName))</text>
            <text x="5" y="\(top - 5)">\(Self.escape(yName))</text>

            """
        for step in 0...4 {
            let y = maxY * Double(step) / 4
            svg += """
                <line x1="\(left)" y1="\(py(y))" x2="\(width - right)" y2="\(py(y))" stroke="#eee"/>\
                <text x="\(left - 5)" y="\(py(y) + 4)" text-anchor="end">\(Self.format(y))</text>

                """
        }
        let ticks =
            xLabels
            ?? (0...4).map { step in
                let x = minX + (maxX - minX) * Double(step) / 4
                return (x, Self.format(x))
            }
        for (x, label) in ticks where x >= minX && x <= maxX {
            svg += "<text x=\"\(px(x))\" y=\"\(py(0) + 15)\" text-anchor=\"middle\">\(Self.escape(label))</text>\n"
        }
        for (index, line) in series.enumerated() {
            let points = line.points.map { String(format: "%.1f,%.1f", px($0.x), py($0.y)) }.joined(separator: " ")
            svg += """
                <polyline fill="none" stroke="\(line.colour)" stroke-width="2" points="\(points)"/>
                <text x="\(width - right - 80)" y="\(top + 14 * Double(index))" fill="\(line.colour)">\
                \(Self.escape(line.name))</text>

                """
        }
        return svg + "</svg>"
    }

    static func format(_ value: Double) -> String {
        if value >= 10_000 { return String(format: "%.0fk", value / 1000) }
        if value >= 100 { return String(format: "%.0f", value) }
        return String(format: "%.2f", value)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

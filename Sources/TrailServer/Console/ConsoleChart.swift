/// Charts drawn on the server as SVG (no script, no library): bars of counts by day. Labels are escaped here
/// (``ConsoleHTML``), since the SVG goes into the page as HTML.
enum ConsoleChart {
    /// Bars of `counts` (day, count), oldest first, with the first, middle and last days named and the largest
    /// count marked; each bar carries its day and count as a tooltip.
    static func days(_ counts: [(String, Int)], title: String) -> String {
        let (width, height, top, bottom, left) = (720.0, 160.0, 14.0, 22.0, 36.0)
        let plotHeight = height - top - bottom
        let largest = max(counts.map(\.1).max() ?? 0, 1)
        let step = counts.isEmpty ? 0 : (width - left) / Double(counts.count)
        var svg = ##"<svg class="chart" viewBox="0 0 \##(Int(width)) \##(Int(height))" role="img" aria-label="\##(ConsoleHTML.escape(title))"><title>\##(ConsoleHTML.escape(title))</title>"##
        svg += ##"<line x1="\##(Int(left))" y1="\##(Int(height - bottom))" x2="\##(Int(width))" y2="\##(Int(height - bottom))" stroke="#888"/>"##
        svg += ##"<text x="\##(Int(left) - 4)" y="\##(Int(top) + 4)" text-anchor="end" font-size="11">\##(largest)</text>"##
        svg += ##"<text x="\##(Int(left) - 4)" y="\##(Int(height - bottom))" text-anchor="end" font-size="11">0</text>"##
        for (index, (day, count)) in counts.enumerated() {
            let barHeight = plotHeight * Double(count) / Double(largest)
            let x = left + Double(index) * step + step * 0.1
            let y = height - bottom - barHeight
            svg += ##"<rect x="\##(format(x))" y="\##(format(y))" width="\##(format(max(step * 0.8, 1)))" height="\##(format(barHeight))" fill="#3b6fb6"><title>\##(ConsoleHTML.escape(day)): \##(count)</title></rect>"##
        }
        let named = counts.isEmpty ? [] : Array(Set([0, counts.count / 2, counts.count - 1])).sorted()
        for index in named {
            // The first label starts at its bar, the last ends at its bar, so that neither leaves the chart.
            let (x, anchor) = index == 0 ? (left, "start") : index == counts.count - 1 ? (width - 2, "end")
                : (left + Double(index) * step + step / 2, "middle")
            svg += ##"<text x="\##(format(x))" y="\##(Int(height) - 6)" text-anchor="\##(anchor)" font-size="11">\##(ConsoleHTML.escape(counts[index].0))</text>"##
        }
        return svg + "</svg>"
    }

    static func format(_ value: Double) -> String {
        String(Double(Int(value * 10)) / 10)
    }
}

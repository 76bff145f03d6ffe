import ArgumentParser
import Foundation
import Tandem

struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a run's learning curves (loss and accuracy against step) as an SVG.",
        discussion: """
            Examples:
              tandem plot runs/fashion-mlp                       # writes runs/fashion-mlp/curves.svg
              tandem plot runs/fashion-mlp --output curves.svg
            """)

    @Argument(help: "A run directory holding metrics.jsonl.") var runDir: String
    @Option(help: "The SVG file to write (default: RUN_DIR/curves.svg).") var output: String?

    func run() throws {
        do {
            let path = RunFolder(runDir).metrics
            guard let text = FileManager.default.contents(atPath: path).flatMap({ String(data: $0, encoding: .utf8) })
            else {
                throw TrainerError("tandem: \(path): no metrics log here (is \(runDir) a run directory?)")
            }
            var train: [Point] = []
            var test: [Point] = []
            var validation: [Point] = []
            for (i, line) in text.split(separator: "\n").enumerated() {
                guard let d = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let step = d["step"] as? Int, let split = d["split"] as? String
                else {
                    throw TrainerError("tandem: \(path):\(i + 1): not a metrics line")
                }
                let p = Point(step: Double(step), loss: d["loss"] as? Double, accuracy: d["accuracy"] as? Double)
                switch split {
                case "test": test.append(p)
                case "validation": validation.append(p)
                default: train.append(p)
                }
            }
            guard !train.isEmpty || !test.isEmpty else { throw TrainerError("tandem: \(path): empty") }
            // The run's own name (config.json) and how it ended, as the title.
            var name = URL(fileURLWithPath: runDir).lastPathComponent
            if let data = FileManager.default.contents(atPath: RunFolder(runDir).config),
                let cfg = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let n = cfg["name"] as? String
            {
                name = n
            }
            if let last = test.last {
                name +=
                    "  (step \(Int(last.step)): test loss " + String(format: "%.4f", last.loss ?? .nan)
                    + (last.accuracy.map { String(format: ", accuracy %.4f", $0) } ?? "") + ")"
            }
            // With validation data the evaluated curve is the validation one (the test split runs once, at the end).
            let evaluated = validation.isEmpty ? (test, "test") : (validation, "validation")
            let svg = SVGChart.render(title: name, train: train, test: evaluated.0, testLabel: evaluated.1)
            let out = output ?? runDir + "/curves.svg"
            guard FileManager.default.createFile(atPath: out, contents: Data(svg.utf8)) else {
                throw TrainerError("tandem: \(out): cannot write")
            }
            print(out)
        } catch {
            Launch.fail(error, comm: nil)
        }
    }
}

struct Point {
    var step: Double
    var loss: Double?
    var accuracy: Double?
}

/// Two panels (loss, accuracy) with gridlines, round-number ticks and a legend; plain SVG 1.1.
enum SVGChart {
    static let trainColor = "#2563eb", testColor = "#dc2626"

    static func render(title: String, train: [Point], test: [Point], testLabel: String = "test") -> String {
        let hasAccuracy = (train + test).contains { $0.accuracy != nil }
        let panelW = 460.0
        let panelH = 300.0
        let width = hasAccuracy ? 2 * panelW + 60 : panelW + 40
        let height = panelH + 90
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            <text x="20" y="28" font-size="18" font-weight="bold" fill="#111">\(escape(title))</text>
            <g font-size="12" fill="#333">
              <line x1="\(Int(width) - 230)" y1="23" x2="\(Int(width) - 205)" y2="23" \
            stroke="\(trainColor)" stroke-width="2"/>
              <text x="\(Int(width) - 200)" y="27">train</text>
              <line x1="\(Int(width) - 140)" y1="23" x2="\(Int(width) - 115)" y2="23" \
            stroke="\(testColor)" stroke-width="2"/>
              <circle cx="\(Int(width) - 127)" cy="23" r="3.5" fill="\(testColor)"/>
              <text x="\(Int(width) - 110)" y="27">\(testLabel)</text>
            </g>

            """
        s += panel(
            x0: 20, y0: 50, w: panelW, h: panelH, label: "loss",
            train: train.compactMap { p in p.loss.map { (p.step, $0) } },
            test: test.compactMap { p in p.loss.map { (p.step, $0) } })
        if hasAccuracy {
            s += panel(
                x0: 40 + panelW, y0: 50, w: panelW, h: panelH, label: "accuracy",
                train: train.compactMap { p in p.accuracy.map { (p.step, $0) } },
                test: test.compactMap { p in p.accuracy.map { (p.step, $0) } })
        }
        return s + "</svg>\n"
    }

    /// Where a panel's plot area is and how values map onto it.
    struct Frame {
        let left, right, top, bottom: Double
        let xMin, xMax, yMin, yMax: Double
        func px(_ v: Double) -> Double { left + (v - xMin) / max(xMax - xMin, 1e-12) * (right - left) }
        func py(_ v: Double) -> Double { bottom - (v - yMin) / max(yMax - yMin, 1e-12) * (bottom - top) }
    }

    static func panel(
        x0: Double, y0: Double, w: Double, h: Double, label: String,
        train: [(Double, Double)], test: [(Double, Double)]
    ) -> String {
        let train = train.filter { $0.0.isFinite && $0.1.isFinite }
        let test = test.filter { $0.0.isFinite && $0.1.isFinite }
        let all = train + test
        let xs = niceTicks(0, all.map(\.0).max() ?? 1)
        var lo = all.map(\.1).min() ?? 0
        var hi = all.map(\.1).max() ?? 1
        if hi - lo < 1e-9 && abs(hi) < 1e6 {
            lo -= 0.5
            hi += 0.5
        }
        let ys = niceTicks(lo, hi)
        let frame = Frame(
            left: x0 + 55, right: x0 + w - 10, top: y0 + 10, bottom: y0 + h - 35,
            xMin: xs.first ?? 0, xMax: xs.last ?? 1, yMin: ys.first ?? 0, yMax: ys.last ?? 1)
        var s = "<g font-size=\"11\" fill=\"#555\">\n"
        s += axes(frame, xs: xs, ys: ys, x0: x0, label: label)
        s += curves(frame, train: train, test: test, label: label)
        return s + "</g>\n"
    }

    /// Gridlines, tick labels, the frame and the axis titles.
    static func axes(_ fr: Frame, xs: [Double], ys: [Double], x0: Double, label: String) -> String {
        var s = ""
        // One number format per axis, with as many decimals as the tick step needs.
        let yStep = ys.count > 1 ? ys[1] - ys[0] : 1
        let decimals = yStep > 0 && yStep.isFinite ? min(12, max(0, Int(ceil(-log10(yStep) - 1e-9)))) : 2
        for y in ys {
            s +=
                "  <line x1=\"\(f(fr.left))\" y1=\"\(f(fr.py(y)))\" x2=\"\(f(fr.right))\" y2=\"\(f(fr.py(y)))\" "
                + "stroke=\"#e5e7eb\"/>\n"
            s +=
                "  <text x=\"\(f(fr.left - 6))\" y=\"\(f(fr.py(y) + 4))\" "
                + "text-anchor=\"end\">\(String(format: "%.\(decimals)f", y))</text>\n"
        }
        for x in xs {
            s +=
                "  <line x1=\"\(f(fr.px(x)))\" y1=\"\(f(fr.top))\" x2=\"\(f(fr.px(x)))\" y2=\"\(f(fr.bottom))\" "
                + "stroke=\"#f1f5f9\"/>\n"
            s += "  <text x=\"\(f(fr.px(x)))\" y=\"\(f(fr.bottom + 16))\" text-anchor=\"middle\">\(tick(x))</text>\n"
        }
        s +=
            "  <rect x=\"\(f(fr.left))\" y=\"\(f(fr.top))\" width=\"\(f(fr.right - fr.left))\" "
            + "height=\"\(f(fr.bottom - fr.top))\" fill=\"none\" stroke=\"#9ca3af\"/>\n"
        s +=
            "  <text x=\"\(f((fr.left + fr.right) / 2))\" y=\"\(f(fr.bottom + 32))\" text-anchor=\"middle\" "
            + "fill=\"#333\">step</text>\n"
        s +=
            "  <text transform=\"translate(\(f(x0 + 12)) \(f((fr.top + fr.bottom) / 2))) rotate(-90)\" "
            + "text-anchor=\"middle\" font-size=\"13\" fill=\"#333\">\(label)</text>\n"
        return s
    }

    /// The train line, and the test line with a dot (and tooltip) per evaluation.
    static func curves(_ fr: Frame, train: [(Double, Double)], test: [(Double, Double)], label: String) -> String {
        var s = ""
        func points(_ p: [(Double, Double)]) -> String {
            p.map { "\(f(fr.px($0.0))),\(f(fr.py($0.1)))" }.joined(separator: " ")
        }
        if !train.isEmpty {
            s +=
                "  <polyline fill=\"none\" stroke=\"\(trainColor)\" stroke-width=\"1.8\" stroke-linejoin=\"round\" "
                + "points=\"\(points(train))\"/>\n"
        }
        if !test.isEmpty {
            s += "  <polyline fill=\"none\" stroke=\"\(testColor)\" stroke-width=\"1.8\" points=\"\(points(test))\"/>\n"
            for (x, y) in test {
                s +=
                    "  <circle cx=\"\(f(fr.px(x)))\" cy=\"\(f(fr.py(y)))\" r=\"3.5\" fill=\"\(testColor)\"><title>step "
                    + "\(Int(x)): \(label) \(String(format: "%.4f", y))</title></circle>\n"
            }
        }
        return s
    }

    /// About five round-numbered ticks covering [lo, hi].
    /// Values anywhere in Double's range give a bounded list: a span that overflows, or one too
    /// small to step through at that magnitude, falls back to the ends (a stride whose step is
    /// below the values' ulp never ended).
    static func niceTicks(_ lo: Double, _ hi: Double) -> [Double] {
        guard lo.isFinite, hi.isFinite, lo <= hi else { return [0, 1] }
        let span = hi - lo
        guard span.isFinite else { return [lo, lo / 2 + hi / 2, hi] }
        guard span > max(abs(lo), abs(hi)) * 1e-9, span > 1e-12 else { return lo == hi ? [lo] : [lo, hi] }
        let raw = span / 5
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        let start = floor(lo / step) * step
        let end = ceil(hi / step) * step
        let count = ((end - start) / step).rounded()
        guard start.isFinite, end.isFinite, count >= 1, count <= 20 else { return [lo, hi] }
        return (0...Int(count)).map { start + Double($0) * step }
    }

    static func tick(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
        return String(format: abs(v) < 0.01 ? "%.3g" : "%.2f", v)
    }
    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}

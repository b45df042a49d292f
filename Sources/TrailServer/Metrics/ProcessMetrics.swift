#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The process's own figures in Prometheus text format, read when scraped (the names the Prometheus clients of
/// other languages use, so that standard dashboards find them): resident and virtual memory, CPU time, start
/// time, open file descriptors. On Linux from `/proc/self`; elsewhere CPU time and start time only.
enum ProcessMetrics {
    /// When this process started, in seconds since 1970 (Linux: from `/proc`, else when first asked).
    static let startTime: Double = linuxStartTime() ?? Date().timeIntervalSince1970

    static func text() -> String {
        var lines: [String] = []
        func add(_ name: String, _ type: String, _ help: String, _ value: Double) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
            lines.append("\(name) \(value)")  // Swift's shortest exact form, which Prometheus parses
        }
        add("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", cpuSeconds())
        add("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", startTime)
        #if os(Linux)
        if let (virtual, resident) = linuxMemory() {
            add("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", resident)
            add("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", virtual)
        }
        if let open = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count {
            add("process_open_fds", "gauge", "Number of open file descriptors.", Double(open))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            add("process_max_fds", "gauge", "Maximum number of open file descriptors.", Double(limit.rlim_cur))
        }
        #endif
        return lines.joined(separator: "\n") + "\n"
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        let who = RUSAGE_SELF.rawValue
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return 0 }
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// The fields of `/proc/self/stat` after the command name (the third field first).
    private static func linuxStat() -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// (virtual, resident) bytes.
    private static func linuxMemory() -> (Double, Double)? {
        guard let fields = linuxStat(), fields.count > 21, let virtual = Double(fields[20]), let pages = Double(fields[21])
        else { return nil }
        return (virtual, pages * Double(sysconf(Int32(_SC_PAGESIZE))))
    }

    private static func linuxStartTime() -> Double? {
        #if os(Linux)
        guard let fields = linuxStat(), fields.count > 19, let ticks = Double(fields[19]),
              let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let boot = Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) else { return nil }
        return boot + ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
        #else
        return nil
        #endif
    }
}

//! The standard `process_*` metrics of Prometheus client libraries, read from /proc at scrape
//! time and written as text: the `metrics` facade's counters are integers, and CPU time in
//! whole seconds would make `rate(process_cpu_seconds_total[5m])` of an idle daemon a staircase.

use std::fmt::Write;

/// (name, type, help, value) of every process metric /proc could give.
#[cfg(target_os = "linux")]
fn read() -> Vec<(&'static str, &'static str, &'static str, f64)> {
    use procfs::prelude::*;
    use procfs::process::{LimitValue, Process};
    let mut out = Vec::new();
    let Ok(me) = Process::myself() else {
        return out;
    };
    let ticks = procfs::ticks_per_second() as f64;
    if let Ok(stat) = me.stat() {
        out.push((
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            (stat.utime + stat.stime) as f64 / ticks,
        ));
        if let Ok(boot) = procfs::boot_time_secs() {
            out.push((
                "process_start_time_seconds",
                "gauge",
                "Start time of the process since unix epoch in seconds.",
                boot as f64 + stat.starttime as f64 / ticks,
            ));
        }
        out.push((
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size in bytes.",
            stat.vsize as f64,
        ));
        out.push((
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            stat.rss_bytes().get() as f64,
        ));
        out.push((
            "process_threads",
            "gauge",
            "Number of OS threads in the process.",
            stat.num_threads as f64,
        ));
    }
    if let Ok(n) = me.fd_count() {
        out.push((
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            n as f64,
        ));
    }
    if let Ok(limits) = me.limits() {
        if let LimitValue::Value(n) = limits.max_open_files.soft_limit {
            out.push((
                "process_max_fds",
                "gauge",
                "Maximum number of open file descriptors.",
                n as f64,
            ));
        }
    }
    out
}

#[cfg(not(target_os = "linux"))]
fn read() -> Vec<(&'static str, &'static str, &'static str, f64)> {
    Vec::new()
}

/// Appends the process metrics to an exposition.
pub fn render_into(buf: &mut String) {
    for (name, kind, help, value) in read() {
        let _ = writeln!(
            buf,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    }
}

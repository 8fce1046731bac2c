//! One `wrk` run and what its report says.

use std::process::Command;

/// Load generator threads and open connections of every run.
pub const THREADS: u32 = 2;
pub const CONNECTIONS: u32 = 16;

/// One run's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Non-2xx/3xx answers plus socket errors: a run with any is suspect.
    pub errors: u64,
}

/// `wrk -t2 -c16 -d{seconds}s --latency [gzip] url`.
pub fn run(url: &str, gzip: bool, seconds: u64) -> Result<Run, String> {
    let mut cmd = Command::new("wrk");
    cmd.arg(format!("-t{THREADS}"))
        .arg(format!("-c{CONNECTIONS}"))
        .arg(format!("-d{seconds}s"))
        // wrk's default 2 s would drop the slowest uncached requests from
        // the latency figures (counting them only as timeouts).
        .args(["--timeout", "10s", "--latency"]);
    if gzip {
        cmd.args(["-H", "Accept-Encoding: gzip"]);
    }
    let out = cmd
        .arg(url)
        .output()
        .map_err(|e| format!("could not run wrk: {e} (Debian/Ubuntu: sudo apt-get install wrk)"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "wrk failed on {url}: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    parse(&text).ok_or_else(|| format!("could not read wrk's report on {url}:\n{text}"))
}

fn parse(report: &str) -> Option<Run> {
    let mut rps = None;
    let mut p50 = None;
    let mut p99 = None;
    let mut errors = 0;
    let mut in_distribution = false;
    for line in report.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("Requests/sec:"), Some(v)) => rps = v.parse().ok(),
            (Some("Latency"), Some("Distribution")) => in_distribution = true,
            (Some("50%"), Some(v)) if in_distribution => p50 = millis(v),
            (Some("99%"), Some(v)) if in_distribution => p99 = millis(v),
            _ => {}
        }
        if let Some(n) = line.strip_prefix("Non-2xx or 3xx responses:") {
            errors += n.trim().parse::<u64>().unwrap_or(0);
        }
        if let Some(list) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 3"
            errors += list
                .split(',')
                .filter_map(|part| part.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    Some(Run {
        requests_per_sec: rps?,
        p50_ms: p50?,
        p99_ms: p99?,
        errors,
    })
}

/// wrk's `812.00us`, `1.23ms`, `2.01s`, `1.50m` in milliseconds.
fn millis(v: &str) -> Option<f64> {
    let split = v.find(|c: char| !c.is_ascii_digit() && c != '.')?;
    let (n, unit) = v.split_at(split);
    let n: f64 = n.parse().ok()?;
    let per = match unit {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return None,
    };
    Some(n * per)
}

/// The median of at least one figure (the middle one of an odd count, the
/// lower middle of an even one).
pub fn median(mut figures: Vec<f64>) -> f64 {
    figures.sort_by(f64::total_cmp);
    figures[(figures.len() - 1) / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[expect(clippy::float_cmp, reason = "a figure parsed, not computed: exact")]
    fn a_report_gives_rate_latencies_and_errors() {
        let report = "Running 5s test @ http://127.0.0.1:8080/\n\
            2 threads and 16 connections\n\
            Thread Stats   Avg      Stdev     Max   +/- Stdev\n\
            Latency   183.00us  300.00us  10.00ms   95.00%\n\
            Latency Distribution\n\
            50%  150.00us\n\
            75%  200.00us\n\
            90%  300.00us\n\
            99%    1.50ms\n\
            400000 requests in 5.00s, 2.00GB read\n\
            Socket errors: connect 0, read 2, write 0, timeout 3\n\
            Non-2xx or 3xx responses: 4\n\
            Requests/sec:  80000.50\n\
            Transfer/sec:    400.00MB\n";
        let run = parse(report).unwrap();
        assert_eq!(run.requests_per_sec, 80000.5);
        assert!((run.p50_ms - 0.15).abs() < 1e-9);
        assert!((run.p99_ms - 1.5).abs() < 1e-9);
        assert_eq!(run.errors, 9);
        assert!(parse("no figures").is_none());
    }

    #[test]
    #[expect(clippy::float_cmp, reason = "figures picked, not computed: exact")]
    fn the_median_is_the_middle_figure() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.0);
        assert_eq!(median(vec![7.0]), 7.0);
        assert_eq!(millis("2.5s"), Some(2500.0));
        assert_eq!(millis("1.50m"), Some(90_000.0));
    }
}

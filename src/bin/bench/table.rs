//! The one table the bench prints: every route's requests/s (with and
//! without compression), the hit-path ratios, and resident memory.

use std::fmt::Write;

/// The hit path's target: folio ÷ the reference serving the same bytes.
pub const HIT_TARGET: f64 = 0.80;
/// Resident memory must stay under this many MB (1,000,000 bytes) during
/// and after the load.
pub const MEMORY_TARGET_MB: f64 = 50.0;
/// The Django + django-redis peer of issue 8 (gunicorn, 2 workers, this
/// machine class), requests/s; folio's target is 40× on every cached route.
pub const DJANGO_PEER: [(&str, f64); 3] =
    [("/", 693.0), ("/cache", 667.0), ("/books?page=3", 597.0)];
pub const DJANGO_TARGET: f64 = 40.0;

/// A cached route measured against the reference.
pub struct HitRow {
    pub route: &'static str,
    pub gzip: bool,
    pub body_bytes: usize,
    pub folio: Vec<f64>,
    pub reference: Vec<f64>,
}

impl HitRow {
    pub fn ratio(&self) -> f64 {
        super::wrk::median(self.folio.clone()) / super::wrk::median(self.reference.clone())
    }

    pub fn passes(&self) -> bool {
        self.ratio() >= HIT_TARGET && self.django_times().is_none_or(|x| x >= DJANGO_TARGET)
    }

    fn django_times(&self) -> Option<f64> {
        let (_, peer) = DJANGO_PEER.iter().find(|(r, _)| *r == self.route)?;
        Some(super::wrk::median(self.folio.clone()) / peer)
    }
}

/// A route loaded once, without a reference.
pub struct OtherRow {
    pub route: &'static str,
    pub gzip: bool,
    pub run: super::wrk::Run,
}

pub struct Memory {
    pub peak_kb: u64,
    pub after_kb: Option<u64>,
}

#[expect(
    clippy::cast_precision_loss,
    reason = "a process's kB count is far below 2^52"
)]
fn mb(kb: u64) -> f64 {
    kb as f64 * 1024.0 / 1e6
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "FAIL"
    }
}

fn encoding(gzip: bool) -> &'static str {
    if gzip {
        "gzip"
    } else {
        "identity"
    }
}

fn rounds(figures: &[f64]) -> String {
    figures
        .iter()
        .map(|f| format!("{f:.0}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The table, in markdown (to paste into the README as it is).
pub fn render(hits: &[HitRow], others: &[OtherRow], memory: &Memory) -> String {
    let mut out = String::new();
    out.push_str(
        "| route | encoding | body bytes | folio req/s (rounds) | reference req/s (rounds) \
         | ratio (≥ 0.80) | × Django peer (≥ 40) | p50 / p99 ms | result |\n",
    );
    out.push_str("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for row in hits {
        let median = super::wrk::median(row.folio.clone());
        let django = row
            .django_times()
            .map_or_else(|| "–".to_owned(), |x| format!("{x:.0}×"));
        let _ = writeln!(
            out,
            "| `{}` (hit) | {} | {} | {median:.0} ({}) | {:.0} ({}) | {:.2} | {django} | | {} |",
            row.route,
            encoding(row.gzip),
            row.body_bytes,
            rounds(&row.folio),
            super::wrk::median(row.reference.clone()),
            rounds(&row.reference),
            row.ratio(),
            verdict(row.passes()),
        );
    }
    for row in others {
        let _ = writeln!(
            out,
            "| `{}` | {} | | {:.0} | | | | {:.2} / {:.2} | {} |",
            row.route,
            encoding(row.gzip),
            row.run.requests_per_sec,
            row.run.p50_ms,
            row.run.p99_ms,
            if row.run.errors == 0 {
                String::new()
            } else {
                format!("{} errors", row.run.errors)
            },
        );
    }
    let peak_ok = mb(memory.peak_kb) < MEMORY_TARGET_MB;
    let _ = writeln!(
        out,
        "| resident memory, peak during the load | | | {:.1} MB | < {MEMORY_TARGET_MB:.0} MB | | | | {} |",
        mb(memory.peak_kb),
        verdict(peak_ok)
    );
    match memory.after_kb {
        Some(kb) => {
            let _ = writeln!(
                out,
                "| resident memory, 2 s after the load | | | {:.1} MB | < {MEMORY_TARGET_MB:.0} MB | | | | {} |",
                mb(kb),
                verdict(mb(kb) < MEMORY_TARGET_MB)
            );
        }
        None => out.push_str(
            "| resident memory, 2 s after the load | | | (folio was gone) | | | | | FAIL |\n",
        ),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hit_row_passes_on_both_the_ratio_and_the_django_multiple() {
        let row = |folio: f64, reference: f64| HitRow {
            route: "/cache",
            gzip: false,
            body_bytes: 10,
            folio: vec![folio, folio + 1.0, folio - 1.0],
            reference: vec![reference; 3],
        };
        assert!(row(30_000.0, 33_000.0).passes());
        // 0.8 of the reference but under 40 × 667 req/s.
        assert!(!row(20_000.0, 21_000.0).passes());
        assert!(!row(30_000.0, 40_000.0).passes());
        let table = render(
            &[row(30_000.0, 33_000.0)],
            &[],
            &Memory {
                peak_kb: 45_000,
                after_kb: None,
            },
        );
        assert!(table.contains("| 0.91 | 45×"), "{table}");
        assert!(table.contains("46.1 MB"), "{table}");
    }
}

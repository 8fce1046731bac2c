//! One cached route in one encoding: folio against the reference serving
//! the very bytes folio sent, in alternating rounds of wrk.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::procs::{check_interrupted, Server};
use crate::table::HitRow;
use crate::{probe, wrk};

/// One cached route in one encoding: folio and the reference (serving the
/// bytes folio sent), alternating who goes first.
pub fn hit_case(
    folio: &mut Server,
    limit_bin: &Path,
    dir: &Path,
    route: &'static str,
    gzip: bool,
    rounds: u32,
    seconds: u64,
) -> Result<HitRow, String> {
    let mut answer = probe::get(folio.port, route, gzip)?;
    for _ in 0..10 {
        if answer.status == 200 && answer.header("x-cache") == Some("HIT") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        answer = probe::get(folio.port, route, gzip)?;
    }
    if answer.header("x-cache") != Some("HIT") {
        eprintln!("   warning: {route} is not served from the cache; its figures mean little");
    }
    let coding = answer.header("content-encoding").unwrap_or("");
    if coding != if gzip { "gzip" } else { "" } {
        return Err(format!(
            "{route} (gzip: {gzip}) came with Content-Encoding '{coding}'"
        ));
    }
    let body_file = dir.join(format!(
        "body-{}-{gzip}",
        route.replace(['/', '?', '='], "_")
    ));
    std::fs::write(&body_file, &answer.body)
        .map_err(|e| format!("{}: {e}", body_file.display()))?;
    let port = probe::free_port().map_err(|e| format!("no free port: {e}"))?;
    let mut cmd = Command::new(limit_bin);
    cmd.env("BODY_FILE", &body_file)
        .env("PORT", port.to_string());
    let mut reference = Server::start("the reference", cmd, port, dir.join("limit.log"))?;
    probe::wait_for(port, "/", Duration::from_secs(10), || reference.alive())?;

    let folio_url = format!("http://127.0.0.1:{}{route}", folio.port);
    let reference_url = format!("http://127.0.0.1:{port}/");
    let mut row = HitRow {
        route,
        gzip,
        body_bytes: answer.body.len(),
        folio: vec![],
        reference: vec![],
    };
    for round in 0..rounds {
        check_interrupted()?;
        // Alternate who goes first, so neither always gets the quieter moment.
        let folio_first = round % 2 == 0;
        for folio_turn in [folio_first, !folio_first] {
            if folio_turn {
                row.folio
                    .push(checked(wrk::run(&folio_url, gzip, seconds)?, route).requests_per_sec);
            } else {
                // The reference sends the same bytes whatever the request says.
                row.reference.push(
                    checked(wrk::run(&reference_url, false, seconds)?, "the reference")
                        .requests_per_sec,
                );
            }
        }
        if !folio.alive() {
            return Err(format!("folio died under load\n{}", folio.log_tail()));
        }
    }
    eprintln!(
        "   {route} {} ({} B): folio {:?}, reference {:?} → {:.2}",
        if gzip { "gzip" } else { "identity" },
        row.body_bytes,
        rounded(&row.folio),
        rounded(&row.reference),
        row.ratio()
    );
    Ok(row)
}

fn checked(run: wrk::Run, what: &str) -> wrk::Run {
    if run.errors > 0 {
        eprintln!("   warning: {what}: {} errors in one run", run.errors);
    }
    run
}

/// Requests/s for a log line, as whole numbers.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "requests/s are positive and far below u64::MAX"
)]
fn rounded(figures: &[f64]) -> Vec<u64> {
    figures.iter().map(|f| f.round() as u64).collect()
}

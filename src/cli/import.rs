//! `folio import` (a CSV file, with its progress bar on a terminal) and
//! `folio export`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::CliError;
use crate::catalogue::import::{export_csv, import_csv, Phase};
use crate::config::Settings;
use crate::startup;

#[derive(Args)]
pub(super) struct ImportArgs {
    /// The CSV file (`-` for standard input).
    file: PathBuf,
    /// Also list every book added and updated, not only the counts and the
    /// skipped rows.
    #[arg(long)]
    list: bool,
}

pub(super) async fn import(settings: &Settings, args: &ImportArgs) -> Result<(), CliError> {
    let file: Box<dyn std::io::Read + Send> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        let opened = std::fs::File::open(&args.file)
            .map_err(|e| format!("cannot open {}: {e}", args.file.display()))?;
        Box::new(std::io::BufReader::with_capacity(1 << 16, opened))
    };
    let db = startup::open_database(settings).await?;
    let bar = Arc::new(progress_bar());
    let shown = bar.clone();
    let progress = Arc::new(move |phase: Phase, n: u64| {
        if let Some(bar) = shown.as_ref() {
            show_progress(bar, phase, n);
        }
    });
    // No change feed here: the running instances apply the change log.
    let report = import_csv(&db, None, file, progress).await;
    if let Some(bar) = bar.as_ref() {
        bar.finish_and_clear();
    }
    let report = report?;
    if args.list {
        for (line, title) in &report.added {
            println!("line {line}: added {title}");
        }
        for (line, title) in &report.updated {
            println!("line {line}: updated {title}");
        }
    }
    for problem in &report.skipped {
        println!("{problem}");
    }
    println!(
        "{}: {} added, {} updated, {} unchanged, {} skipped in {:.2} s",
        report.format.label(),
        report.added.len(),
        report.updated.len(),
        report.unchanged,
        report.skipped.len(),
        report.elapsed.as_secs_f64()
    );
    Ok(())
}

pub(super) async fn export(settings: &Settings, output: Option<&Path>) -> Result<(), CliError> {
    let db = startup::open_database(settings).await?;
    let csv = export_csv(&db).await?;
    match output {
        Some(path) => {
            std::fs::write(path, &csv)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!("wrote {} bytes to {}", csv.len(), path.display());
        }
        None => std::io::Write::write_all(&mut std::io::stdout().lock(), &csv)?,
    }
    Ok(())
}

/// On a terminal: a spinner with a row count while the file is read, then a
/// bar while the rows are written; nothing elsewhere.
fn progress_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {human_pos} rows ({elapsed})")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    Some(bar)
}

fn show_progress(bar: &ProgressBar, phase: Phase, rows: u64) {
    match phase {
        Phase::Reading => bar.set_message("reading"),
        // Once the rows are counted: a bar to the end.
        Phase::Writing { total } if bar.length() != Some(total) => {
            bar.set_length(total);
            bar.set_position(0);
            if let Ok(style) = ProgressStyle::with_template(
                "{msg} [{bar:40}] {human_pos}/{human_len} rows ({elapsed}, eta {eta})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message("writing");
        }
        Phase::Writing { .. } => {}
    }
    bar.set_position(rows);
}

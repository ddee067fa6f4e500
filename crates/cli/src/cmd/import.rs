use super::search_index::{self, Caught};
use super::{cancel_on_ctrl_c, print_json, Ctx};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use thinkscope_protocol::{FieldMapping, Format, ImportRequest};

#[derive(clap::Args)]
pub struct Args {
    /// The file to import.
    file: PathBuf,
    /// Dataset name (default: the file name without extension).
    #[arg(long)]
    name: Option<String>,
    #[arg(long, default_value = "auto")]
    format: Format,
    /// Take canonical FIELD from source COLUMN (repeatable); needed for unknown layouts.
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    map: Vec<FieldMapping>,
    /// Store the good rows and report the bad ones, instead of storing nothing.
    #[arg(long)]
    skip_bad_rows: bool,
    #[arg(long)]
    json: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let store = ctx.open().await?;
    let request = ImportRequest {
        path: args.file.display().to_string(),
        name: args.name,
        format: args.format,
        mapping: args.map,
        skip_bad_rows: args.skip_bad_rows,
    };
    let cancel = cancel_on_ctrl_c();
    let bar = if args.json { ProgressBar::hidden() } else { ProgressBar::new(0) };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta} left)")
            .expect("static template"),
    );
    let started = std::time::Instant::now();
    let result = thinkscope_datasets::import(
        &store,
        &request,
        |p| {
            bar.set_length(p.bytes_total);
            bar.set_position(p.bytes_read);
            bar.set_message(format!("{} rows", p.rows));
        },
        &cancel,
    )
    .await;
    bar.finish_and_clear();
    let report = result?;
    let import_secs = started.elapsed().as_secs_f64();
    for skipped in &report.skipped {
        eprintln!("skipped {skipped}");
    }
    if args.json {
        // Printed once the rows are searchable too, as the command promises.
    } else if report.already_present {
        println!("{} is already in the library as `{}` ({} rows); nothing imported", report.dataset.source_file, report.dataset.name, report.dataset.rows);
    } else {
        println!(
            "imported {} rows of {} into `{}` (id {}, schema {}) in {import_secs:.1} s{}",
            report.dataset.rows,
            report.dataset.source_file,
            report.dataset.name,
            &report.dataset.id[..12],
            report.dataset.schema,
            if report.skipped.is_empty() { String::new() } else { format!("; skipped {} bad rows", report.skipped.len()) }
        );
    }
    // The rows are stored; make them searchable before handing back the shell, since
    // the next command may well be a search.
    match search_index::catch_up(&store, args.json, || cancel.is_cancelled()).await? {
        Caught::Up { secs } if secs > 0.0 && !args.json => println!("search index ready in {secs:.1} s"),
        Caught::Up { .. } => {}
        Caught::Stopped { left } => {
            eprintln!("interrupted: {left} rows are not searchable yet; the next search indexes them");
            store.close().await;
            std::process::exit(130);
        }
    }
    if args.json {
        let mut report = report;
        if !report.already_present {
            report.dataset = store.find_dataset(&report.dataset.id).await?;
        }
        print_json(&report)?;
    }
    store.close().await;
    Ok(())
}

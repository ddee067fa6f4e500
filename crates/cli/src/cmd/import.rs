use super::{print_json, Ctx};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use thinkscope_datasets::CancelFlag;
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
    let cancel = CancelFlag::default();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    let bar = if args.json { ProgressBar::hidden() } else { ProgressBar::new(0) };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta} left)")
            .expect("static template"),
    );
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
    for skipped in &report.skipped {
        eprintln!("skipped {skipped}");
    }
    if args.json {
        print_json(&report)?;
    } else if report.already_present {
        println!("{} is already in the library as `{}` ({} rows); nothing imported", report.dataset.source_file, report.dataset.name, report.dataset.rows);
    } else {
        println!(
            "imported {} rows of {} into `{}` (id {}, schema {}){}",
            report.dataset.rows,
            report.dataset.source_file,
            report.dataset.name,
            &report.dataset.id[..12],
            report.dataset.schema,
            if report.skipped.is_empty() { String::new() } else { format!("; skipped {} bad rows", report.skipped.len()) }
        );
    }
    store.close().await;
    Ok(())
}

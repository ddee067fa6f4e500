use super::{print_json, Ctx};
use anyhow::bail;
use thinkscope_store::StoreError;

#[derive(clap::Args)]
pub struct Args {
    /// Dataset name or id (or id prefix); it must name one dataset.
    dataset: String,
    #[arg(long)]
    json: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let store = ctx.open().await?;
    // Unlike the read commands, no guessing among several matches: this one destroys.
    let found = store.matching_datasets(&args.dataset).await?;
    let dataset = match found.as_slice() {
        [] => return Err(StoreError::UnknownDataset(args.dataset).into()),
        [one] => one,
        [exact, ..] if exact.id == args.dataset => exact,
        several => {
            let list: Vec<String> = several.iter().map(|d| format!("{} ({}, imported {})", &d.id[..12], d.name, d.imported_at)).collect();
            bail!("`{}` matches {} datasets; give the id of one: {}", args.dataset, several.len(), list.join(", "))
        }
    };
    let deleted = store.delete_dataset(&dataset.id).await?;
    if args.json {
        print_json(&deleted)?;
    } else {
        println!("deleted `{}` ({} rows, from {})", deleted.name, deleted.rows, deleted.source_file);
    }
    store.close().await;
    Ok(())
}

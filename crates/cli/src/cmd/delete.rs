use super::{print_json, Ctx};

#[derive(clap::Args)]
pub struct Args {
    /// Dataset name or id (or id prefix).
    dataset: String,
    #[arg(long)]
    json: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let store = ctx.open().await?;
    let dataset = store.find_dataset(&args.dataset).await?;
    let deleted = store.delete_dataset(&dataset.id).await?;
    if args.json {
        print_json(&deleted)?;
    } else {
        println!("deleted `{}` ({} rows, from {})", deleted.name, deleted.rows, deleted.source_file);
    }
    store.close().await;
    Ok(())
}

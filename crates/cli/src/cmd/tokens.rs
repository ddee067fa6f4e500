use super::{print_json, Ctx};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Dataset name or id.
    dataset: String,
    /// A Hugging Face tokenizer.json (s1 measures thinking with Qwen2.5's).
    #[arg(long)]
    tokenizer: PathBuf,
    /// Name to store the counts under (default: the tokenizer's folder name).
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    json: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let store = ctx.open().await?;
    let summary = thinkscope_datasets::count_tokens(&store, &args.dataset, &args.tokenizer, args.name.as_deref()).await?;
    if args.json {
        return print_json(&summary);
    }
    println!("counted {} texts, {} tokens, under `{}`", summary.texts, summary.tokens, summary.tokenizer);
    store.close().await;
    Ok(())
}

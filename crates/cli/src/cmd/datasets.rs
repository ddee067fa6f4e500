use super::{print_json, Ctx};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    json: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let store = ctx.open().await?;
    let datasets = store.datasets().await?;
    if args.json {
        return print_json(&datasets);
    }
    if datasets.is_empty() {
        println!("the library at {} is empty; add data with `thinkscope import FILE`", store.path().display());
        return Ok(());
    }
    println!("{:<12}  {:<28} {:>7}  {:<8} {:<18} imported", "id", "name", "rows", "format", "schema");
    for d in datasets {
        let index = if d.indexed_rows < d.rows {
            format!("  (search covers {} of {} rows until indexed)", d.indexed_rows, d.rows)
        } else {
            String::new()
        };
        println!("{:<12}  {:<28} {:>7}  {:<8} {:<18} {}{index}", &d.id[..12], d.name, d.rows, d.format, d.schema, d.imported_at);
    }
    Ok(())
}

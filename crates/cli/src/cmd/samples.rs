use super::search_index::{self, Caught};
use super::{cancel_on_ctrl_c, one_line, print_json, Ctx};
use thinkscope_store::{Store, StoreError};
use anyhow::bail;
use thinkscope_protocol::{SampleFilter, SampleQuery, SampleSort};

#[derive(clap::Args)]
pub struct Args {
    /// Dataset name or id (or id prefix).
    dataset: String,
    /// Full-text search over question, solution and traces.
    #[arg(long)]
    search: Option<String>,
    /// Filter: domain, subject, source, level, has_trace, min_thinking_tokens, max_thinking_tokens.
    #[arg(long = "where", value_name = "FIELD=VALUE")]
    filters: Vec<String>,
    /// default, length (shortest thinking first) or -length.
    #[arg(long, default_value = "default")]
    sort: String,
    #[arg(long, default_value_t = 20)]
    limit: u32,
    #[arg(long, default_value_t = 0)]
    offset: u64,
    #[arg(long)]
    json: bool,
}

pub(crate) fn parse_filter(filters: &[String]) -> anyhow::Result<SampleFilter> {
    let mut f = SampleFilter::default();
    for spec in filters {
        let Some((key, value)) = spec.split_once('=') else { bail!("--where `{spec}` is not FIELD=VALUE") };
        let value = value.to_string();
        let number = || value.parse::<u64>().map_err(|_| anyhow::anyhow!("--where {key}: `{value}` is not a number"));
        match key {
            "domain" => f.domain = Some(value),
            "subject" => f.subject = Some(value),
            "source" => f.source = Some(value),
            "level" => f.level = Some(value),
            "has_trace" => f.has_trace = Some(matches!(value.as_str(), "true" | "1" | "yes")),
            "min_thinking_tokens" => f.min_thinking_tokens = Some(number()?),
            "max_thinking_tokens" => f.max_thinking_tokens = Some(number()?),
            other => bail!(
                "--where: unknown field `{other}` (domain, subject, source, level, has_trace, min_thinking_tokens, max_thinking_tokens)"
            ),
        }
    }
    Ok(f)
}

/// Finishes an index an interrupted import left behind; a read-only file searches what
/// is indexed and says how much that is.
async fn index_for_search(store: &Store) -> anyhow::Result<()> {
    if store.is_read_only() {
        let left = search_index::rows_left(store).await?;
        if left > 0 {
            eprintln!("note: {left} rows of this read-only library are not in its search index and are not searched");
        }
        return Ok(());
    }
    let cancel = cancel_on_ctrl_c();
    match search_index::catch_up(store, false, || cancel.is_cancelled()).await {
        Ok(Caught::Up { .. }) => Ok(()),
        Ok(Caught::Stopped { left }) => {
            eprintln!("interrupted: {left} rows are not searchable yet");
            std::process::exit(130);
        }
        // Another process (the app, an import) holds the library: search what is indexed.
        Err(e) if e.downcast_ref::<StoreError>().is_some_and(StoreError::is_busy) => {
            let left = search_index::rows_left(store).await?;
            eprintln!("note: the library is busy; {left} rows not yet in its search index are not searched");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let store = ctx.open().await?;
    let dataset = store.find_dataset(&args.dataset).await?;
    let sort = match args.sort.as_str() {
        "default" => SampleSort::Default,
        "length" => SampleSort::LengthAsc,
        "-length" => SampleSort::LengthDesc,
        other => bail!("--sort `{other}`: use default, length or -length"),
    };
    let query = SampleQuery {
        dataset_id: Some(dataset.id),
        search: args.search,
        filter: parse_filter(&args.filters)?,
        sort,
        limit: args.limit,
        offset: args.offset,
    };
    if query.search.is_some() {
        index_for_search(&store).await?;
    }
    let page = store.samples(&query).await?;
    if args.json {
        return print_json(&page.rows);
    }
    println!("{} matching samples (showing {} from {})", page.total, page.rows.len(), args.offset);
    for s in page.rows {
        let tag = [s.domain.as_deref(), s.subject.as_deref(), s.level.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("/");
        let text = s.snippet.map_or(s.question, |h| h.text);
        println!("{}  {:<24} {:<20} {}", &s.id[..12], one_line(s.external_id.as_deref().unwrap_or("-"), 24), one_line(&tag, 20), one_line(&text, 90));
    }
    Ok(())
}

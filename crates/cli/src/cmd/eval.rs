//! `thinkscope eval …`: evaluation runs — start, resume, list, read, delete.

use super::{one_line, print_json, Ctx};
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Instant;
use thinkscope_engine::CancelToken;
use thinkscope_eval::sweep::{self, PolicyKind, SweepSpec};
use thinkscope_eval::{Backend, LocalBackend, Progress};
use thinkscope_protocol::eval::{RunDetail, RunPlan, RunSelection, RunStatus, RunSummary, TaskKind};
use thinkscope_protocol::generation::SamplingParams;
use thinkscope_remote::{RemoteBackend, RemoteConfig};
use thinkscope_store::Store;

#[derive(clap::Subcommand)]
pub enum EvalCmd {
    /// Start a run: every selected problem under each sweep point, K samples each.
    Run(Box<RunArgs>),
    /// Continue an interrupted run: exactly its missing (and failed) units.
    Resume(ResumeArgs),
    /// List the runs in the library.
    List(ListArgs),
    /// Print a run's stored generations.
    Generations(GenerationsArgs),
    /// Delete a run and its generations.
    Delete(DeleteArgs),
    /// Score a run's generations (idempotent; runs are scored when they finish).
    Score(super::eval_score::ScoreArgs),
    /// Accuracy per sweep point with 95% CIs, pass@k, maj@k, s1 Control/Scaling/Performance.
    Report(super::eval_report::ReportArgs),
    /// Accuracy against thinking tokens, one curve per run (SVG or PNG, optional CSV).
    Plot(super::eval_report::PlotArgs),
    /// Paired comparison of two runs: McNemar and a bootstrap CI of the difference.
    Compare(super::eval_report::CompareArgs),
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// Dataset name or id (or id prefix).
    dataset: String,
    /// A Hugging Face model directory or a .gguf file.
    #[arg(long)]
    model: PathBuf,
    /// Run name (default: dataset · model · policy).
    #[arg(long)]
    name: Option<String>,
    /// auto (from the dataset's fields), math, choice or code.
    #[arg(long, default_value = "auto")]
    task: String,
    /// auto (the model's chat_template), s1, z1, r1 or qwen3.
    #[arg(long, default_value = "auto")]
    template: String,
    #[arg(long)]
    system: Option<String>,
    /// The question sent, with {question} and {choices} filled in (default: per task).
    #[arg(long)]
    prompt_template: Option<String>,
    /// none, budget-forcing (s1) or shifted-window (Z1).
    #[arg(long, default_value = "none")]
    policy: String,
    /// Budget forcing: max thinking tokens per point, increasing (s1's cap curve).
    #[arg(long, value_delimiter = ',')]
    budgets: Vec<usize>,
    /// Budget forcing: end-of-thinking tokens replaced by "Wait" per point (s1's extrapolation).
    #[arg(long, value_delimiter = ',')]
    ignore_end: Vec<usize>,
    /// Shifted window: thinking window per point (Z1).
    #[arg(long, value_delimiter = ',')]
    windows: Vec<usize>,
    /// Prompt-conditional baselines: tokens:N,… | steps:N,… | short,long.
    #[arg(long)]
    conditions: Option<String>,
    /// Rejection sampling at each of --budgets: tries per unit (needs --temperature > 0).
    #[arg(long)]
    rejection_sampling: Option<u32>,
    /// Budget forcing: end-of-thinking before this many tokens becomes an extension.
    #[arg(long)]
    min_thinking: Option<usize>,
    /// Budget forcing: extension strings, used in turn (default "Wait").
    #[arg(long)]
    extend_with: Vec<String>,
    /// Budget forcing: text after the answer delimiter when the budget runs out.
    #[arg(long)]
    cap_text: Option<String>,
    /// Shifted window: the text inserted after the window.
    #[arg(long)]
    hint: Option<String>,
    /// Cap on answer tokens.
    #[arg(long)]
    max_answer: Option<usize>,
    /// Cap on all tokens after the prompt.
    #[arg(long, default_value_t = 32_768)]
    max_tokens: usize,
    /// Samples per problem and point (maj@k, pass@k).
    #[arg(long, default_value_t = 1)]
    samples: u32,
    /// 0 is greedy.
    #[arg(long, default_value_t = 0.0)]
    temperature: f32,
    #[arg(long, default_value_t = 1.0)]
    top_p: f32,
    /// The run seed; every unit's seed derives from it.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Filter: domain, subject, source, level, has_trace, min_thinking_tokens, max_thinking_tokens.
    #[arg(long = "where", value_name = "FIELD=VALUE")]
    filters: Vec<String>,
    /// Full-text search over question, solution and traces.
    #[arg(long)]
    search: Option<String>,
    /// The first N selected samples.
    #[arg(long)]
    limit: Option<u64>,
    /// Explicit sample ids (or unique prefixes), comma-separated.
    #[arg(long, value_delimiter = ',')]
    ids: Vec<String>,
    #[command(flatten)]
    engine: EngineArgs,
    /// Start a new run even when an unfinished one has the same plan.
    #[arg(long)]
    new: bool,
    /// Print the finished run's `eval list` object.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct EngineArgs {
    /// `local` (candle: --model is the weights) or `openai` (an OpenAI-compatible server at
    /// --base-url: --model is the folder holding its tokenizer.json, or give --tokenizer).
    #[arg(long, value_enum, default_value = "local")]
    engine: EngineKind,
    /// Sequences decoded at once.
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// KV-cache memory the batch may reserve (GiB); units wait when it is full.
    #[arg(long, default_value_t = 4.0)]
    kv_cache_gb: f64,
    /// The server for `--engine openai`, e.g. http://127.0.0.1:8000/v1.
    #[arg(long)]
    base_url: Option<String>,
    /// The served model name (default: the server's only model).
    #[arg(long)]
    api_model: Option<String>,
    /// Environment variable holding the server's API key (the key is never stored).
    #[arg(long, default_value = "OPENAI_API_KEY")]
    api_key_env: String,
    /// Requests in flight at once (`--engine openai`).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Seconds one request may take, generation included (`--engine openai`).
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
    #[command(flatten)]
    model_args: super::ModelArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum EngineKind {
    Local,
    Openai,
}

#[derive(clap::Args)]
pub struct ResumeArgs {
    /// Run id (or unique prefix) or name.
    run: String,
    /// The model to resume with (default: the path the run was started with).
    #[arg(long)]
    model: Option<PathBuf>,
    #[command(flatten)]
    engine: EngineArgs,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct ListArgs {
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct GenerationsArgs {
    /// Run id (or unique prefix) or name.
    run: String,
    /// Only this sample (id or prefix).
    #[arg(long)]
    sample: Option<String>,
    /// Only this sweep point: its value (budget, ignore-end count, window) or label.
    #[arg(long)]
    point: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct DeleteArgs {
    /// Run id (or unique prefix) or name.
    run: String,
}

pub async fn run(ctx: &Ctx, cmd: EvalCmd) -> anyhow::Result<()> {
    match cmd {
        EvalCmd::Run(args) => start(ctx, *args).await,
        EvalCmd::Resume(args) => resume(ctx, args).await,
        EvalCmd::List(args) => list(ctx, args).await,
        EvalCmd::Generations(args) => generations(ctx, args).await,
        EvalCmd::Delete(args) => delete(ctx, args).await,
        EvalCmd::Score(args) => super::eval_score::score(ctx, args).await,
        EvalCmd::Report(args) => super::eval_report::report(ctx, args).await,
        EvalCmd::Plot(args) => super::eval_report::plot(ctx, args).await,
        EvalCmd::Compare(args) => super::eval_report::compare_runs(ctx, args).await,
    }
}

fn load_backend(model: &std::path::Path, engine: &EngineArgs) -> anyhow::Result<Box<dyn Backend>> {
    if engine.engine == EngineKind::Openai {
        return remote_backend(model, engine);
    }
    if engine.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let loaded = thinkscope_engine::load(model, &engine.model_args.load_options()?)?;
    Ok(Box::new(LocalBackend::new(loaded, engine.batch, engine.kv_cache_gb)?))
}

/// `--engine openai`: the tokenizer is --tokenizer, else tokenizer.json in (or beside) --model.
fn remote_backend(model: &std::path::Path, engine: &EngineArgs) -> anyhow::Result<Box<dyn Backend>> {
    let base_url = match (&engine.base_url, model.to_str()) {
        (Some(url), _) => url.clone(),
        // `eval resume` passes the server the run recorded as its model.
        (None, Some(m)) if m.starts_with("http://") || m.starts_with("https://") => m.to_string(),
        _ => bail!("--engine openai needs --base-url (e.g. http://127.0.0.1:8000/v1)"),
    };
    let tokenizer = engine.model_args.tokenizer.clone().unwrap_or_else(|| {
        if model.is_dir() { model.join("tokenizer.json") } else { model.with_file_name("tokenizer.json") }
    });
    let mut config = RemoteConfig::new(base_url, tokenizer);
    config.model = engine.api_model.clone();
    config.api_key_env = engine.api_key_env.clone();
    config.concurrency = engine.concurrency;
    config.timeout = std::time::Duration::from_secs(engine.timeout);
    // Connecting is async and this runs inside the CLI's runtime: connect on a thread of its own.
    let backend = std::thread::scope(|s| {
        s.spawn(|| -> anyhow::Result<RemoteBackend> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            Ok(runtime.block_on(RemoteBackend::connect(config))?)
        })
        .join()
        .expect("the connecting thread panicked")
    })?;
    Ok(Box::new(backend))
}

async fn start(ctx: &Ctx, args: RunArgs) -> anyhow::Result<()> {
    let store = ctx.open().await?;
    if store.is_read_only() {
        bail!("{} is open read-only: a run cannot be stored", store.path().display());
    }
    let dataset = store.find_dataset(&args.dataset).await?;
    let spec = SweepSpec {
        policy: args.policy.parse::<PolicyKind>()?,
        budgets: args.budgets.clone(),
        ignore_end: args.ignore_end.clone(),
        windows: args.windows.clone(),
        conditions: args.conditions.as_deref().map(sweep::parse_conditions).transpose()?.unwrap_or_default(),
        rejection_tries: args.rejection_sampling,
        min_thinking: args.min_thinking,
        extend_with: args.extend_with.clone(),
        cap_text: args.cap_text.clone(),
        hint: args.hint.clone(),
        max_answer: args.max_answer,
        temperature: args.temperature,
    };
    let points = sweep::points(&spec)?;
    if args.samples == 0 {
        bail!("--samples must be at least 1");
    }
    let mut plan = RunPlan {
        dataset_id: dataset.id.clone(),
        selection: RunSelection {
            search: args.search.clone(),
            filter: super::samples::parse_filter(&args.filters)?,
            limit: args.limit,
            sample_ids: args.ids.clone(),
        },
        task: TaskKind::Math,
        template: args.template.clone(),
        system: args.system.clone(),
        prompt_template: args.prompt_template.clone(),
        points,
        samples: args.samples,
        sampling: SamplingParams {
            temperature: args.temperature,
            top_p: args.top_p,
            seed: args.seed,
            max_tokens: args.max_tokens,
            ..SamplingParams::default()
        },
    };
    let selected = thinkscope_eval::select_samples(&store, &plan).await?;
    let Some(first) = selected.first() else {
        bail!("the selection matches no sample of {}", dataset.name);
    };
    plan.task = match args.task.as_str() {
        "auto" => thinkscope_eval::prompt::detect_task(first),
        "math" => TaskKind::Math,
        "choice" => TaskKind::Choice,
        "code" => TaskKind::Code,
        other => bail!("--task `{other}` is not one of auto, math, choice, code"),
    };
    let engine = &args.engine;
    let model = args.model.clone();
    let mut backend = load_backend(&model, engine)?;
    let run = thinkscope_eval::create_run(&store, plan, &mut *backend, args.name.clone(), args.new).await?;
    eprintln!("run {} · {} units · {}", &run.id[..12], run.total, run.name);
    let detail = store.run(&run.id).await?;
    let summary = execute(&store, &detail, backend, args.json).await?;
    let scored = super::eval_score::after_run(&store, &summary).await;
    finish(store, summary, args.json).await.and(scored)
}

async fn resume(ctx: &Ctx, args: ResumeArgs) -> anyhow::Result<()> {
    let store = ctx.open().await?;
    let detail = store.run(&args.run).await?;
    if detail.summary.status == RunStatus::Done && detail.summary.done >= detail.summary.total {
        eprintln!("run {} is complete ({} units)", &detail.summary.id[..12], detail.summary.total);
        return finish(store, detail.summary, args.json).await;
    }
    let model = args.model.clone().unwrap_or_else(|| PathBuf::from(&detail.provenance.model_path));
    let backend = load_backend(&model, &args.engine)?;
    let fingerprint = backend.provenance().model_fingerprint;
    if fingerprint != detail.provenance.model_fingerprint {
        bail!(
            "{} is not the model run {} was started with (its weights or tokenizer differ); resume with the same model",
            model.display(),
            &detail.summary.id[..12]
        );
    }
    let missing = thinkscope_eval::run::missing_units(&store, &detail).await?;
    eprintln!("resuming {} · {missing} of {} units to go", &detail.summary.id[..12], detail.summary.total);
    let summary = execute(&store, &detail, backend, args.json).await?;
    let scored = super::eval_score::after_run(&store, &summary).await;
    finish(store, summary, args.json).await.and(scored)
}

async fn execute(store: &Store, detail: &RunDetail, backend: Box<dyn Backend>, quiet: bool) -> anyhow::Result<RunSummary> {
    let cancel = CancelToken::default();
    let flag = cancel.clone();
    super::on_ctrl_c(move || flag.cancel());
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(detail.summary.total) };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} units · {msg} · ETA {eta}")
            .expect("progress template")
            .progress_chars("█▉ "),
    );
    bar.set_position(detail.summary.done);
    let started = Instant::now();
    let first_done = detail.summary.done;
    let bar_for_updates = bar.clone();
    let mut on_progress = move |p: Progress| {
        bar_for_updates.set_position(p.done);
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        let failed = if p.failed > 0 { format!(" · {} failed", p.failed) } else { String::new() };
        bar_for_updates.set_message(format!(
            "{:.1} generated tok/s{failed} · {} this session",
            p.generated_tokens as f64 / secs,
            p.done - first_done
        ));
    };
    let summary = thinkscope_eval::execute(store, detail, backend, &cancel, &mut on_progress).await;
    bar.finish_and_clear();
    let summary = summary?;
    if cancel.is_cancelled() {
        eprintln!(
            "stopped: {} of {} units are stored. Continue with `thinkscope eval resume {}`",
            summary.done,
            summary.total,
            &summary.id[..12]
        );
        store.clone().close().await;
        std::process::exit(130);
    }
    Ok(summary)
}

async fn finish(store: Store, summary: RunSummary, json: bool) -> anyhow::Result<()> {
    let (bytes, tokens) = store.run_storage(&summary.id).await?;
    store.close().await;
    if json {
        print_json(&summary)?;
    } else {
        println!(
            "{} · {} · {}/{} units · {} forward tokens · {:.1} bytes stored per generated token",
            &summary.id[..12],
            summary.status.name(),
            summary.done,
            summary.total,
            summary.forward_tokens,
            if tokens > 0 { bytes as f64 / tokens as f64 } else { 0.0 }
        );
    }
    if let Some(e) = &summary.error {
        eprintln!("{e}");
    }
    if summary.status != RunStatus::Done {
        bail!("run {} is {}", &summary.id[..12], summary.status.name());
    }
    Ok(())
}

async fn list(ctx: &Ctx, args: ListArgs) -> anyhow::Result<()> {
    let store = ctx.open().await?;
    let runs = store.runs().await?;
    store.close().await;
    if args.json {
        return print_json(&runs);
    }
    if runs.is_empty() {
        println!("no runs yet (start one with `thinkscope eval run DATASET --model PATH`)");
    }
    for r in runs {
        println!(
            "{}  {:<8} {:>5}/{:<5} {:<16} {}  ({}, {})",
            &r.id[..12],
            r.status.name(),
            r.done,
            r.total,
            r.policy,
            one_line(&r.name, 60),
            r.dataset,
            r.created
        );
    }
    Ok(())
}

async fn generations(ctx: &Ctx, args: GenerationsArgs) -> anyhow::Result<()> {
    let store = ctx.open().await?;
    let detail = store.run(&args.run).await?;
    let point = match &args.point {
        None => None,
        Some(p) => Some(
            detail
                .plan
                .points
                .iter()
                .position(|pt| pt.label == *p || p.parse::<f64>().is_ok_and(|v| v == pt.value))
                .with_context(|| {
                    let known: Vec<String> = detail.plan.points.iter().map(|pt| pt.label.clone()).collect();
                    format!("--point `{p}` is not a point of this run ({})", known.join(", "))
                })? as u32,
        ),
    };
    let rows = store.generations(&detail, args.sample.as_deref(), point).await?;
    if args.json {
        return super::eval_score::print_generations_json(store, &detail.summary.id, &rows).await;
    }
    store.close().await;
    for g in rows {
        let status = match (&g.error, g.stop_reason) {
            (Some(e), _) => format!("failed: {}", one_line(e, 40)),
            (None, Some(r)) => format!("{r:?}").to_lowercase(),
            (None, None) => String::new(),
        };
        println!(
            "{:<12} {:<14} #{} think {:>6} answer {:>5} {:<10} {}",
            g.external_id.as_deref().unwrap_or(&g.sample_id[..12]),
            g.point_label,
            g.sample_index,
            g.thinking_tokens,
            g.answer_tokens,
            status,
            one_line(g.text.rsplit_once('\n').map_or(&g.text, |(_, t)| t), 50)
        );
    }
    Ok(())
}

async fn delete(ctx: &Ctx, args: DeleteArgs) -> anyhow::Result<()> {
    let store = ctx.open().await?;
    let detail = store.run(&args.run).await?;
    store.delete_run(&detail.summary.id).await?;
    store.close().await;
    println!("deleted run {} ({}, {} units)", &detail.summary.id[..12], detail.summary.name, detail.summary.done);
    Ok(())
}

//! `thinkscope eval report | plot | compare`: metrics of scored runs (accuracy with
//! bootstrap CIs, pass@k, maj@k, s1's Control/Scaling/Performance), the accuracy curve,
//! and paired comparisons.

use super::{print_json, Ctx};
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::path::PathBuf;
use thinkscope_eval::score::{scored_generations, ScoredRun};
use thinkscope_metrics::{compare, run_metrics, AtK, Bootstrap, Generation, Pairing, RunMetrics};
use thinkscope_plots::{accuracy_curve, accuracy_curve_csv, budget_control, Format, XScale};
use thinkscope_protocol::eval::RunDetail;
use thinkscope_store::Store;

#[derive(clap::Args)]
pub struct BootstrapArgs {
    /// Seed of the bootstrap resampling (recorded with the results).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Bootstrap resamples for the 95% intervals.
    #[arg(long, default_value_t = 1000)]
    resamples: u32,
}

impl BootstrapArgs {
    fn bootstrap(&self) -> anyhow::Result<Bootstrap> {
        if self.resamples == 0 {
            bail!("--resamples must be at least 1");
        }
        Ok(Bootstrap { seed: self.seed, resamples: self.resamples })
    }
}

#[derive(clap::Args)]
pub struct ReportArgs {
    /// Run ids (or unique prefixes) or names.
    #[arg(required = true)]
    runs: Vec<String>,
    #[command(flatten)]
    bootstrap: BootstrapArgs,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct PlotArgs {
    /// Run ids (or unique prefixes) or names: one curve each.
    #[arg(required = true)]
    runs: Vec<String>,
    /// The figure: accuracy against mean thinking tokens (.svg or .png).
    #[arg(long)]
    out: PathBuf,
    /// Also write the plotted numbers as CSV.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Log₂ thinking-token axis.
    #[arg(long)]
    log_x: bool,
    /// Also draw s1's budget-control figure (thinking tokens per generation against the
    /// budget) of the first run (.svg or .png).
    #[arg(long)]
    control: Option<PathBuf>,
    #[command(flatten)]
    bootstrap: BootstrapArgs,
}

#[derive(clap::Args)]
pub struct CompareArgs {
    run_a: String,
    run_b: String,
    /// The point of run A to compare (value or label) when the runs' sweeps differ.
    #[arg(long)]
    point_a: Option<String>,
    /// The point of run B to compare (value or label) when the runs' sweeps differ.
    #[arg(long)]
    point_b: Option<String>,
    #[command(flatten)]
    bootstrap: BootstrapArgs,
    #[arg(long)]
    json: bool,
}

/// A run with its scored generations and metrics.
struct Measured {
    detail: RunDetail,
    scored: ScoredRun,
    metrics: RunMetrics,
}

async fn measure(store: &Store, run: &str, bootstrap: Bootstrap) -> anyhow::Result<Measured> {
    let detail = store.run(run).await?;
    let scored = scored_generations(store, &detail, bootstrap).await?;
    let id = &detail.summary.id[..12];
    if scored.generations.is_empty() {
        bail!(
            "run {id} ({}) has no scored generations ({} stored unscored, {} failed); score it with `thinkscope eval score {id}`",
            detail.summary.name,
            scored.unscored,
            scored.failed
        );
    }
    let metrics = run_metrics(&detail.summary.name, &scored.generations, &scored.options);
    Ok(Measured { detail, scored, metrics })
}

async fn measure_all(ctx: &Ctx, runs: &[String], bootstrap: Bootstrap) -> anyhow::Result<Vec<Measured>> {
    let store = ctx.open().await?;
    let mut out = Vec::with_capacity(runs.len());
    for run in runs {
        match measure(&store, run, bootstrap).await {
            Ok(m) => out.push(m),
            Err(e) => {
                store.close().await;
                return Err(e);
            }
        }
    }
    store.close().await;
    // Curves are labelled by run name; two runs of one name get their id too.
    for i in 0..out.len() {
        if out.iter().filter(|m| m.detail.summary.name == out[i].detail.summary.name).count() > 1 {
            out[i].metrics.run = format!("{} ({})", out[i].detail.summary.name, &out[i].detail.summary.id[..8]);
        }
    }
    Ok(out)
}

fn at_k(values: &[AtK]) -> Value {
    values.iter().map(|a| json!({ "k": a.k, "value": a.value })).collect()
}

fn report_json(m: &Measured) -> Value {
    let s = &m.detail.summary;
    let points: Vec<Value> = m
        .metrics
        .points
        .iter()
        .map(|p| {
            json!({
                "point": p.point,
                "label": p.point_label,
                "n": p.n,
                "problems": p.problems,
                "accuracy": p.accuracy,
                "ci_low": p.ci95.low,
                "ci_high": p.ci95.high,
                "mean_thinking_tokens": p.mean_thinking_tokens,
                "median_thinking_tokens": p.median_thinking_tokens,
                "mean_answer_tokens": p.mean_answer_tokens,
                "control": p.control,
                "pass_at_k": at_k(&p.pass_at_k),
                "maj_at_k": at_k(&p.maj_at_k),
            })
        })
        .collect();
    json!({
        "run": s.id,
        "name": s.name,
        "dataset": s.dataset,
        "model": s.model,
        "policy": s.policy,
        "scorers": m.scored.scorers,
        "scored": m.scored.generations.len(),
        "unscored": m.scored.unscored,
        "failed": m.scored.failed,
        "bootstrap": m.metrics.bootstrap,
        "min_thinking_tokens": m.metrics.min_thinking_tokens,
        "points": points,
        "control": m.metrics.s1.control,
        "scaling": m.metrics.s1.scaling,
        "performance": m.metrics.s1.performance,
    })
}

fn pct(v: f64) -> String {
    format!("{:.1}%", 100.0 * v)
}

fn largest_k(values: &[AtK]) -> String {
    values.last().map_or_else(|| "-".to_string(), |a| format!("@{} {}", a.k, pct(a.value)))
}

pub async fn report(ctx: &Ctx, args: ReportArgs) -> anyhow::Result<()> {
    let measured = measure_all(ctx, &args.runs, args.bootstrap.bootstrap()?).await?;
    if args.json {
        return print_json(&measured.iter().map(report_json).collect::<Vec<_>>());
    }
    for m in &measured {
        let s = &m.detail.summary;
        let scorers: Vec<&str> = m.scored.scorers.iter().map(String::as_str).collect();
        println!("run {} · {} · {} · {}", &s.id[..12], s.name, s.policy, scorers.join(", "));
        if m.scored.unscored + m.scored.failed > 0 {
            println!("  ({} units unscored and {} failed are left out)", m.scored.unscored, m.scored.failed);
        }
        println!(
            "  {:<16} {:>6} {:>8}  {:<15} {:>12} {:>14} {:>14} {:>8}",
            "point", "n", "accuracy", "95% CI", "think (mean)", "pass", "maj", "control"
        );
        for p in &m.metrics.points {
            println!(
                "  {:<16} {:>6} {:>8}  {:<15} {:>12.0} {:>14} {:>14} {:>8}",
                p.point_label,
                p.n,
                pct(p.accuracy),
                format!("[{:.1}, {:.1}]", 100.0 * p.ci95.low, 100.0 * p.ci95.high),
                p.mean_thinking_tokens,
                largest_k(&p.pass_at_k),
                largest_k(&p.maj_at_k),
                pct(p.control)
            );
        }
        let s1 = &m.metrics.s1;
        println!(
            "  Control {} · Scaling {} · Performance {}   (bootstrap seed {}, {} resamples)",
            s1.control.map_or("-".into(), pct),
            s1.scaling.map_or("-".into(), |v| format!("{v:.2} points/1k tokens")),
            s1.performance.map_or("-".into(), pct),
            m.metrics.bootstrap.seed,
            m.metrics.bootstrap.resamples
        );
    }
    Ok(())
}

fn figure_format(path: &std::path::Path, flag: &str) -> anyhow::Result<Format> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("svg") => Ok(Format::Svg),
        Some("png") => Ok(Format::Png),
        _ => bail!("{flag} {}: the figure must be a .svg or .png file", path.display()),
    }
}

pub async fn plot(ctx: &Ctx, args: PlotArgs) -> anyhow::Result<()> {
    let format = figure_format(&args.out, "--out")?;
    let control_format = args.control.as_deref().map(|c| figure_format(c, "--control")).transpose()?;
    let measured = measure_all(ctx, &args.runs, args.bootstrap.bootstrap()?).await?;
    let scale = if args.log_x { XScale::Log2 } else { XScale::Linear };
    if let (Some(path), Some(format), Some(first)) = (&args.control, control_format, measured.first()) {
        let image = budget_control(&first.detail.summary.name, &first.scored.generations, scale, format)?;
        std::fs::write(path, image.bytes()).with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {} (budget control of {})", path.display(), first.detail.summary.name);
    }
    let metrics: Vec<RunMetrics> = measured.into_iter().map(|m| m.metrics).collect();
    let image = accuracy_curve(&metrics, scale, format)?;
    std::fs::write(&args.out, image.bytes()).with_context(|| format!("cannot write {}", args.out.display()))?;
    let points: usize = metrics.iter().map(|m| m.points.len()).sum();
    println!("wrote {} ({} runs, {points} points)", args.out.display(), metrics.len());
    if let Some(csv) = &args.csv {
        std::fs::write(csv, accuracy_curve_csv(&metrics)).with_context(|| format!("cannot write {}", csv.display()))?;
        println!("wrote {}", csv.display());
    }
    Ok(())
}

/// The sweep value of `point` (a value or a label) in `run`.
fn point_value(run: &RunDetail, point: &str, flag: &str) -> anyhow::Result<f64> {
    run.plan
        .points
        .iter()
        .find(|p| p.label == point || point.parse::<f64>().is_ok_and(|v| v == p.value))
        .map(|p| p.value)
        .with_context(|| {
            let known: Vec<&str> = run.plan.points.iter().map(|p| p.label.as_str()).collect();
            format!("{flag} `{point}` is not a point of run {} ({})", &run.summary.id[..12], known.join(", "))
        })
}

/// How two runs' generations pair up: the same sweep pairs point by point; otherwise one
/// point of each (given, or the only one) pairs by problem and sample.
fn pairing(a: &Measured, b: &Measured, args: &CompareArgs) -> anyhow::Result<(Pairing, Vec<Generation>, Vec<Generation>)> {
    let values = |m: &Measured| m.detail.plan.points.iter().map(|p| p.value.to_bits()).collect::<Vec<_>>();
    if args.point_a.is_none() && args.point_b.is_none() && values(a) == values(b) {
        return Ok((Pairing::ProblemPointSample, a.scored.generations.clone(), b.scored.generations.clone()));
    }
    let pick = |m: &Measured, point: &Option<String>, flag: &str| -> anyhow::Result<Vec<Generation>> {
        let value = match (point, m.detail.plan.points.as_slice()) {
            (Some(p), _) => point_value(&m.detail, p, flag)?,
            (None, [only]) => only.value,
            (None, _) => bail!(
                "runs {} and {} have different sweeps: choose one point of each with --point-a and --point-b",
                &a.detail.summary.id[..12],
                &b.detail.summary.id[..12]
            ),
        };
        Ok(m.scored.generations.iter().filter(|g| g.point == value).cloned().collect())
    };
    Ok((Pairing::ProblemSample, pick(a, &args.point_a, "--point-a")?, pick(b, &args.point_b, "--point-b")?))
}

pub async fn compare_runs(ctx: &Ctx, args: CompareArgs) -> anyhow::Result<()> {
    let bootstrap = args.bootstrap.bootstrap()?;
    let mut measured = measure_all(ctx, &[args.run_a.clone(), args.run_b.clone()], bootstrap).await?;
    let b = measured.pop().expect("two runs");
    let a = measured.pop().expect("two runs");
    let (pairing, gens_a, gens_b) = pairing(&a, &b, &args)?;
    let c = compare(&gens_a, &gens_b, pairing, bootstrap)
        .with_context(|| format!("comparing runs {} and {}", &a.detail.summary.id[..12], &b.detail.summary.id[..12]))?;
    if args.json {
        let mut value = serde_json::to_value(&c)?;
        if let Some(obj) = value.as_object_mut() {
            obj.insert("run_a".into(), json!({ "id": a.detail.summary.id, "name": a.detail.summary.name }));
            obj.insert("run_b".into(), json!({ "id": b.detail.summary.id, "name": b.detail.summary.name }));
        }
        return print_json(&value);
    }
    println!("A = {} · {}", &a.detail.summary.id[..12], a.detail.summary.name);
    println!("B = {} · {}", &b.detail.summary.id[..12], b.detail.summary.name);
    let by = match pairing {
        Pairing::ProblemPointSample => "problem, point and sample",
        Pairing::ProblemSample => "problem and sample",
    };
    println!("{} pairs over {} problems, paired by {by} (unmatched: {} of A, {} of B)", c.pairs, c.problems, c.unmatched_a, c.unmatched_b);
    println!("both right {} · only A {} · only B {} · neither {}", c.both_correct, c.only_a, c.only_b, c.neither);
    println!(
        "accuracy A {} · B {} · B − A {:+.1} points, 95% CI [{:+.1}, {:+.1}] · McNemar p = {:.4}   (bootstrap seed {}, {} resamples)",
        pct(c.accuracy_a),
        pct(c.accuracy_b),
        100.0 * c.difference,
        100.0 * c.difference_ci95.low,
        100.0 * c.difference_ci95.high,
        c.mcnemar_p,
        c.bootstrap.seed,
        c.bootstrap.resamples
    );
    Ok(())
}

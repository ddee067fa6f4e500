//! `thinkscope bench score`: what scoring costs. Answer checks per second on
//! MATH-500-shaped pairs, sandboxed HumanEval runs per second beside bare `python3` runs
//! of the same programs, and metrics + figures over a million synthetic generations.

use anyhow::Context;
use serde_json::{json, Value};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use thinkscope_metrics::{compare, run_metrics, synthetic_sweep, Bootstrap, CurveOptions, Pairing};
use thinkscope_plots::{accuracy_curve, accuracy_curve_csv, budget_control, Format, XScale};
use thinkscope_sandbox::{humaneval_program, Limits, Sandbox};

#[derive(clap::Args)]
pub struct Args {
    /// MATH-500 JSONL whose answers make the pairs (default:
    /// $THINKSCOPE_SHARED/datasets/math500.jsonl; synthetic answers when absent).
    #[arg(long)]
    math500: Option<PathBuf>,
    /// HumanEval JSONL whose canonical solutions are run (default:
    /// $THINKSCOPE_SHARED/datasets/humaneval.jsonl; the sandbox part is skipped when absent).
    #[arg(long)]
    humaneval: Option<PathBuf>,
    /// Programs run at once, sandboxed and bare alike (default: the CPU count, at most 8).
    #[arg(long)]
    parallelism: Option<usize>,
    /// Timed passes over the HumanEval programs, sandboxed and bare in alternating order;
    /// medians are reported.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Synthetic generations for the metrics and figures.
    #[arg(long, default_value_t = 1_000_000)]
    generations: usize,
    /// Seconds spent timing answer checks.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    #[arg(long)]
    json: bool,
}

fn shared_file(explicit: &Option<PathBuf>, name: &str) -> Option<PathBuf> {
    explicit.clone().or_else(|| {
        let path = PathBuf::from(std::env::var_os("THINKSCOPE_SHARED")?).join("datasets").join(name);
        path.exists().then_some(path)
    })
}

fn jsonl(path: &Path) -> anyhow::Result<Vec<Value>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    std::io::BufReader::new(file)
        .lines()
        .enumerate()
        .filter(|(_, l)| l.as_ref().map_or(true, |l| !l.trim().is_empty()))
        .map(|(i, l)| {
            let l = l.with_context(|| format!("{}:{}", path.display(), i + 1))?;
            serde_json::from_str(&l).with_context(|| format!("{}:{}: not JSON", path.display(), i + 1))
        })
        .collect()
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let parallelism = args.parallelism.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(8)).max(1);
    let checks = tokio::task::spawn_blocking({
        let (path, secs) = (shared_file(&args.math500, "math500.jsonl"), args.seconds);
        move || answer_checks(path.as_deref(), secs)
    })
    .await??;
    print(&args, "answer checks", &checks);
    let sandbox = match shared_file(&args.humaneval, "humaneval.jsonl") {
        Some(path) => {
            let rounds = args.rounds.max(1);
            tokio::task::spawn_blocking(move || sandbox_runs(&path, parallelism, rounds)).await??
        }
        None => json!({ "skipped": "no HumanEval file (give --humaneval or set THINKSCOPE_SHARED)" }),
    };
    print(&args, "sandbox", &sandbox);
    let n = args.generations;
    let metrics = tokio::task::spawn_blocking(move || metrics_and_plots(n)).await??;
    print(&args, "metrics", &metrics);
    Ok(())
}

fn print(args: &Args, section: &str, value: &Value) {
    if args.json {
        println!("{}", json!({ section: value }));
        return;
    }
    println!("{section}:");
    if let Some(obj) = value.as_object() {
        for (k, v) in obj {
            println!("  {k:<32} {v}");
        }
    }
}

/// Pairs of (response, gold): each answer boxed in a sentence against itself, and against
/// the next problem's answer.
fn pairs(path: Option<&Path>) -> anyhow::Result<(Vec<(String, String)>, String)> {
    let answers: Vec<String> = match path {
        Some(path) => jsonl(path)?
            .iter()
            .filter_map(|r| r.get("answer").and_then(Value::as_str).map(str::to_string))
            .collect(),
        None => (0..500)
            .map(|i| match i % 4 {
                0 => format!("{}", i * 7),
                1 => format!("\\frac{{{}}}{{{}}}", i, i + 3),
                2 => format!("{}\\sqrt{{{}}}", i % 9 + 1, i % 7 + 2),
                _ => format!("\\left( {}, \\frac{{\\pi}}{{{}}} \\right)", i % 5, i % 6 + 2),
            })
            .collect(),
    };
    anyhow::ensure!(answers.len() > 1, "need at least two answers to pair");
    let source = path.map_or_else(|| "synthetic".to_string(), |p| p.display().to_string());
    let mut out = Vec::with_capacity(answers.len() * 2);
    for (i, gold) in answers.iter().enumerate() {
        let other = &answers[(i + 1) % answers.len()];
        out.push((format!("Putting it together, the final answer is $\\boxed{{{gold}}}$."), gold.clone()));
        out.push((format!("Putting it together, the final answer is $\\boxed{{{other}}}$."), gold.clone()));
    }
    Ok((out, source))
}

fn answer_checks(path: Option<&Path>, seconds: f64) -> anyhow::Result<Value> {
    let (pairs, source) = pairs(path)?;
    let started = Instant::now();
    let (mut checks, mut rounds) = (0usize, 0usize);
    let mut same_equal = 0usize;
    let mut other_equal = 0usize;
    while rounds == 0 || started.elapsed().as_secs_f64() < seconds {
        for (i, (pred, gold)) in pairs.iter().enumerate() {
            let equal = thinkscope_score::check_math(pred, gold).equal;
            if rounds == 0 {
                if i % 2 == 0 {
                    same_equal += usize::from(equal);
                } else {
                    other_equal += usize::from(equal);
                }
            }
        }
        checks += pairs.len();
        rounds += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(json!({
        "source": source,
        "pairs": pairs.len(),
        "checks_per_second": (checks as f64 / secs).round(),
        "microseconds_per_check": (1e6 * secs / checks as f64 * 10.0).round() / 10.0,
        "own_answer_judged_equal": format!("{same_equal}/{}", pairs.len() / 2),
        "next_answer_judged_equal": format!("{other_equal}/{}", pairs.len() / 2),
    }))
}

fn sandbox_runs(path: &Path, parallelism: usize, rounds: usize) -> anyhow::Result<Value> {
    let mut programs = Vec::new();
    for row in jsonl(path)? {
        let field = |f: &str| row.get(f).and_then(Value::as_str).unwrap_or_default().to_string();
        programs.push(humaneval_program(&field("prompt"), &field("canonical_solution"), &field("test"), &field("entry_point")));
    }
    let sandbox = match Sandbox::probe() {
        Ok(s) => s,
        Err(e) => return Ok(json!({ "skipped": format!("the sandbox is unavailable: {e}") })),
    };
    let limits = Limits::default();
    // Warm the page cache for both, so neither pays for the first interpreter start.
    let warm = &programs[..programs.len().min(parallelism * 2)];
    sandbox.run_many(warm, &limits, parallelism);
    bare_runs(sandbox.python(), warm, parallelism)?;
    let (mut confined, mut bare) = (Vec::new(), Vec::new());
    let (mut passed, mut bare_passed) = (0, 0);
    for round in 0..rounds {
        for sandboxed in [round % 2 == 0, round % 2 == 1] {
            let started = Instant::now();
            if sandboxed {
                let outcomes = sandbox.run_many(&programs, &limits, parallelism);
                confined.push(started.elapsed());
                passed = outcomes.iter().filter(|o| o.passed()).count();
            } else {
                bare_passed = bare_runs(sandbox.python(), &programs, parallelism)?;
                bare.push(started.elapsed());
            }
        }
    }
    let median = |mut d: Vec<Duration>| {
        d.sort();
        d[d.len() / 2]
    };
    let (confined, bare) = (median(confined), median(bare));
    let rate = |d: Duration| (programs.len() as f64 / d.as_secs_f64() * 10.0).round() / 10.0;
    Ok(json!({
        "programs": programs.len(),
        "parallelism": parallelism,
        "rounds": rounds,
        "layers": sandbox.layer_names().join(", "),
        "sandboxed_runs_per_second": rate(confined),
        "bare_python3_runs_per_second": rate(bare),
        "sandboxed_over_bare_time": (confined.as_secs_f64() / bare.as_secs_f64() * 100.0).round() / 100.0,
        "sandboxed_passed": format!("{passed}/{}", programs.len()),
        "bare_passed": format!("{bare_passed}/{}", programs.len()),
    }))
}

/// The same programs through plain `python3 -B -s -` (the sandbox's interpreter flags, no
/// confinement, no limits), `parallelism` at a time; returns how many exited 0.
fn bare_runs(python: &Path, programs: &[String], parallelism: usize) -> anyhow::Result<usize> {
    let next = AtomicUsize::new(0);
    let passed = AtomicUsize::new(0);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..parallelism)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    while let Some(program) = programs.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let mut child = Command::new(python)
                            .args(["-B", "-s", "-"])
                            .stdin(Stdio::piped())
                            .stdout(Stdio::null())
                            .stderr(Stdio::null())
                            .spawn()
                            .with_context(|| format!("cannot run {}", python.display()))?;
                        child.stdin.take().expect("piped stdin").write_all(program.as_bytes())?;
                        if child.wait()?.success() {
                            passed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for w in workers {
            w.join().map_err(|_| anyhow::anyhow!("a bare-run worker panicked"))??;
        }
        Ok(())
    })?;
    Ok(passed.into_inner())
}

fn metrics_and_plots(n: usize) -> anyhow::Result<Value> {
    const BUDGETS: [u32; 8] = [256, 512, 1024, 2048, 4096, 8192, 16384, 32768];
    const PROBLEMS: usize = 500;
    let samples = n.div_ceil(BUDGETS.len() * PROBLEMS).max(1) as u32;
    let a = synthetic_sweep(&BUDGETS, PROBLEMS, samples, 1);
    let b = synthetic_sweep(&BUDGETS, PROBLEMS, samples, 2);
    let options = CurveOptions { bootstrap: Bootstrap::default(), min_thinking_tokens: 0 };
    let timed = |f: &mut dyn FnMut() -> anyhow::Result<()>| -> anyhow::Result<f64> {
        let started = Instant::now();
        f()?;
        Ok((started.elapsed().as_secs_f64() * 1e4).round() / 10.0)
    };
    let mut metrics = None;
    let metrics_ms = timed(&mut || {
        metrics = Some(run_metrics("synthetic", &a, &options));
        Ok(())
    })?;
    let metrics = metrics.expect("measured");
    let compare_ms = timed(&mut || {
        compare(&a, &b, Pairing::ProblemPointSample, Bootstrap::default())?;
        Ok(())
    })?;
    let runs = [metrics];
    let svg_ms = timed(&mut || accuracy_curve(&runs, XScale::Log2, Format::Svg).map(drop).map_err(Into::into))?;
    let png_ms = timed(&mut || accuracy_curve(&runs, XScale::Log2, Format::Png).map(drop).map_err(Into::into))?;
    let csv_ms = timed(&mut || {
        accuracy_curve_csv(&runs);
        Ok(())
    })?;
    let control_ms = timed(&mut || budget_control("synthetic", &a, XScale::Log2, Format::Svg).map(drop).map_err(Into::into))?;
    Ok(json!({
        "generations": a.len(),
        "points": BUDGETS.len(),
        "problems": PROBLEMS,
        "samples_per_problem": samples,
        "bootstrap_resamples": Bootstrap::default().resamples,
        "run_metrics_ms": metrics_ms,
        "compare_ms": compare_ms,
        "accuracy_curve_svg_ms": svg_ms,
        "accuracy_curve_png_ms": png_ms,
        "accuracy_curve_csv_ms": csv_ms,
        "budget_control_svg_ms": control_ms,
    }))
}

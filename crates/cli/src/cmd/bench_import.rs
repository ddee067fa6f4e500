//! Import/search benchmark on a generated Z1-shaped file (107,173 rows, ~6 KB responses).

use anyhow::Context;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use thinkscope_datasets::CancelToken;
use thinkscope_protocol::{ImportRequest, SampleQuery};
use thinkscope_store::{OpenMode, Store};

#[derive(clap::Args)]
pub struct Args {
    /// Rows to generate (Z1-Code-Reasoning-107K has 107,173).
    #[arg(long, default_value_t = 107_173)]
    rows: usize,
    /// Mean response size in bytes.
    #[arg(long, default_value_t = 6_000)]
    response_bytes: usize,
    /// Directory for the generated file and database (default: a temporary one).
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// splitmix64: a fixed stream, so every run measures the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Roughly Zipf-distributed index in `0..n`: a few words are common, most rare.
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) - 1.0) as usize
    }
}

/// A vocabulary of pronounceable words, plus the tokens code and math text is full of.
fn vocabulary(rng: &mut Rng, size: usize) -> Vec<String> {
    const SYLLABLES: &[&str] = &[
        "ka", "lo", "mi", "ne", "ra", "tu", "si", "po", "de", "va", "gri", "ston", "pel", "mar", "qui", "zen",
        "tor", "fal", "bri", "cou", "ent", "ion", "al", "er",
    ];
    const COMMON: &[&str] = &[
        "the", "we", "need", "to", "so", "wait", "let", "me", "check", "if", "number", "array", "return", "value",
        "prime", "sum", "for", "each", "then", "answer", "is", "of", "and", "case", "test", "input", "output",
    ];
    let mut words: Vec<String> = COMMON.iter().map(|w| w.to_string()).collect();
    while words.len() < size {
        let n = 2 + rng.below(3);
        words.push((0..n).map(|_| SYLLABLES[rng.below(SYLLABLES.len())]).collect());
    }
    words
}

fn paragraph(rng: &mut Rng, words: &[String], bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + 64);
    while out.len() < bytes {
        match rng.below(20) {
            0 => out.push_str("\n```python\ndef solve(n):\n    return sum(range(n))\n```\n"),
            1 => out.push_str(&format!(" ${}x^{} + {}$ ", rng.below(9) + 1, rng.below(5) + 2, rng.below(100))),
            2 => out.push_str(".\n"),
            _ => {
                out.push(' ');
                out.push_str(&words[rng.zipf(words.len())]);
            }
        }
    }
    out
}

fn write_file(path: &PathBuf, rows: usize, response_bytes: usize) -> anyhow::Result<Vec<String>> {
    let mut rng = Rng(0x5EED);
    let words = vocabulary(&mut rng, 30_000);
    let mut out = BufWriter::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?);
    for i in 0..rows {
        let size = response_bytes / 2 + rng.below(response_bytes);
        let question_size = 300 + rng.below(600);
        let question = paragraph(&mut rng, &words, question_size);
        let response = paragraph(&mut rng, &words, size);
        let row = serde_json::json!({
            "id": i,
            "question": question.trim(),
            "response": response.trim(),
            "token_num_qwen": response.len() / 4,
        });
        serde_json::to_writer(&mut out, &row)?;
        out.write_all(b"\n")?;
    }
    // On disk before the clock starts: the import should not pay for writing back this
    // generator's 740 MB of dirty pages.
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(words)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

const QUERY_KINDS: [&str; 5] = ["common word", "mid word", "rare word", "two words", "3-letter prefix"];

/// Common, mid and rare words, two-word queries and prefixes: what people type. Each
/// query comes with its index into `QUERY_KINDS`.
fn queries(words: &[String]) -> Vec<(usize, String)> {
    let mut rng = Rng(42);
    (0..100)
        .map(|i| {
            let q = match i % 5 {
                0 => words[rng.below(27)].clone(),
                1 => words[100 + rng.below(1_000)].clone(),
                2 => words[5_000 + rng.below(25_000)].clone(),
                3 => format!("{} {}", words[rng.below(200)], words[200 + rng.below(2_000)]),
                _ => format!("{}*", &words[300 + rng.below(3_000)][..3]),
            };
            (i % 5, q)
        })
        .collect()
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let temp;
    let dir = match args.dir {
        Some(d) => {
            std::fs::create_dir_all(&d)?;
            d
        }
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let file = dir.join("z1-bench.jsonl");
    let db = dir.join("bench.db");
    for f in ["bench.db", "bench.db-wal", "bench.db-shm"] {
        let _ = std::fs::remove_file(dir.join(f));
    }
    println!("writing {} rows to {} …", args.rows, file.display());
    let words = write_file(&file, args.rows, args.response_bytes)?;
    let size = std::fs::metadata(&file)?.len();

    // Start from clean page cache: whatever earlier runs left to write back (a 2 GB
    // library) would otherwise compete with this import's writes.
    #[cfg(unix)]
    std::process::Command::new("sync").status().context("running sync")?;
    let store = Store::open(&db, OpenMode::ReadWrite).await?;
    let request = ImportRequest { path: file.display().to_string(), ..ImportRequest::default() };
    let started = Instant::now();
    let report = thinkscope_datasets::import(&store, &request, |_| {}, &CancelToken::default()).await?;
    let secs = started.elapsed().as_secs_f64();
    let mb = size as f64 / 1e6;
    println!(
        "import (rows committed, browsable): {} rows, {mb:.1} MB in {secs:.2} s = {:.1} MB/s ({:.0} rows/s)",
        report.dataset.rows,
        mb / secs,
        report.dataset.rows as f64 / secs
    );
    let indexing = Instant::now();
    let caught_up = store.build_search_index(|_| {}, || false).await?;
    anyhow::ensure!(caught_up, "the search index did not catch up");
    let index_secs = indexing.elapsed().as_secs_f64();
    println!(
        "search index: built in {index_secs:.2} s ({:.1} MB/s); import + index {:.2} s = {:.1} MB/s",
        mb / index_secs,
        secs + index_secs,
        mb / (secs + index_secs)
    );

    let dataset_id = Some(report.dataset.id.clone());
    let mut timed = Vec::new();
    let mut hits = 0u64;
    let mut by_kind = vec![Vec::new(); QUERY_KINDS.len()];
    let mut facet_times = Vec::new();
    for (kind, q) in queries(&words) {
        let query =
            SampleQuery { dataset_id: dataset_id.clone(), search: Some(q.clone()), limit: 50, ..SampleQuery::default() };
        let t = Instant::now();
        let total = store.samples(&query).await?.total;
        by_kind[kind].push(t.elapsed());
        timed.push((t.elapsed(), q, total));
        hits += total;
        let t = Instant::now();
        store.facets(&query).await?;
        facet_times.push(t.elapsed());
    }
    timed.sort_by_key(|(t, ..)| *t);
    let search_times: Vec<Duration> = timed.iter().map(|(t, ..)| *t).collect();
    println!(
        "search (100 queries, page of 50 with total count and snippets): p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; {:.0} matches/query on average",
        percentile(&search_times, 0.5),
        percentile(&search_times, 0.95),
        percentile(&search_times, 1.0),
        hits as f64 / 100.0
    );
    let slowest: Vec<String> =
        timed.iter().rev().take(5).map(|(t, q, n)| format!("“{q}” {:.1} ms ({n} matches)", t.as_secs_f64() * 1e3)).collect();
    println!("slowest searches: {}", slowest.join(", "));
    for (kind, times) in QUERY_KINDS.iter().zip(&mut by_kind) {
        times.sort();
        println!("  {kind:<16} p50 {:.1} ms, max {:.1} ms", percentile(times, 0.5), percentile(times, 1.0));
    }

    facet_times.sort();
    println!(
        "facet counts for the same searches: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        percentile(&facet_times, 0.5),
        percentile(&facet_times, 0.95),
        percentile(&facet_times, 1.0)
    );

    let mut rng = Rng(7);
    let mut page_times = Vec::new();
    for _ in 0..50 {
        let offset = rng.below(report.dataset.rows.max(1) as usize) as u64;
        let query = SampleQuery { dataset_id: dataset_id.clone(), offset, limit: 100, ..SampleQuery::default() };
        let t = Instant::now();
        store.samples(&query).await?;
        page_times.push(t.elapsed());
    }
    page_times.sort();
    println!(
        "sample table page (100 rows at random offsets, 50 loads): p50 {:.1} ms, p95 {:.1} ms",
        percentile(&page_times, 0.5),
        percentile(&page_times, 0.95)
    );
    store.close().await;
    Ok(())
}

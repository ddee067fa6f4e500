//! `thinkscope answers check`: the scorers' answer check on given pairs, for spot checks
//! and for comparing with other graders.

use anyhow::{bail, Context};
use serde::Serialize;
use serde_json::Value;
use std::io::BufRead;
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand)]
pub enum AnswersCmd {
    /// Extract the answer from a response and compare it with a gold answer.
    Check(CheckArgs),
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["gold", "file"])))]
pub struct CheckArgs {
    /// The gold answer (`\boxed{…}` is unwrapped); with --kind choice a letter A–D.
    #[arg(long, requires = "pred")]
    gold: Option<String>,
    /// The response (or its answer part) to extract the answer from.
    #[arg(long, requires = "gold")]
    pred: Option<String>,
    /// JSON Lines of {"pred": …, "gold": …, "kind": "math"|"choice"}; `kind` overrides --kind.
    #[arg(long, conflicts_with = "gold")]
    file: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "math")]
    kind: Kind,
    /// One JSON object per pair: equal, pred_answer, gold_answer, method, kind.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Math,
    Choice,
}

#[derive(Serialize)]
struct Verdict {
    equal: bool,
    pred_answer: Option<String>,
    gold_answer: String,
    method: &'static str,
    kind: Kind,
}

pub fn run(cmd: AnswersCmd) -> anyhow::Result<()> {
    let AnswersCmd::Check(args) = cmd;
    let verdicts = match (&args.file, &args.gold, &args.pred) {
        (Some(file), _, _) => read_pairs(file, args.kind)?,
        (None, Some(gold), Some(pred)) => vec![check(pred, gold, args.kind).map_err(anyhow::Error::msg)?],
        _ => bail!("give --gold and --pred, or --file"),
    };
    for v in &verdicts {
        if args.json {
            println!("{}", serde_json::to_string(v)?);
        } else {
            println!(
                "{} {:<9} pred {} · gold {}",
                if v.equal { "equal    " } else { "not equal" },
                format!("({})", v.method),
                v.pred_answer.as_deref().unwrap_or("(none)"),
                v.gold_answer
            );
        }
    }
    if !args.json && verdicts.len() > 1 {
        println!("{} of {} equal", verdicts.iter().filter(|v| v.equal).count(), verdicts.len());
    }
    Ok(())
}

fn check(pred: &str, gold: &str, kind: Kind) -> Result<Verdict, String> {
    let c = match kind {
        Kind::Math => thinkscope_score::check_math(pred, gold),
        Kind::Choice => {
            let letter = match gold.trim().trim_matches(['(', ')']) {
                g if g.len() == 1 && matches!(g.as_bytes()[0].to_ascii_uppercase(), b'A'..=b'D') => g.as_bytes()[0] as char,
                _ => return Err(format!("gold: `{gold}` is not a letter A–D")),
            };
            thinkscope_score::check_choice(pred, letter, 4)
        }
    };
    Ok(Verdict { equal: c.equal, pred_answer: c.pred_answer, gold_answer: c.gold_answer, method: c.method, kind })
}

/// Every pair is read and checked before anything is printed, so a bad line stops the
/// command with no partial output.
fn read_pairs(path: &Path, default_kind: Kind) -> anyhow::Result<Vec<Verdict>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let at = format!("{}:{}", path.display(), i + 1);
        let line = line.with_context(|| format!("{at}: cannot read the line"))?;
        if line.trim().is_empty() {
            continue;
        }
        let verdict = pair(&line, default_kind).map_err(|e| anyhow::anyhow!("{at}: {e}"))?;
        out.push(verdict);
    }
    Ok(out)
}

fn pair(line: &str, default_kind: Kind) -> Result<Verdict, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let obj = value.as_object().ok_or("not a JSON object")?;
    // AIME-style golds are often JSON numbers.
    let text = |field: &str| match obj.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(other) => Err(format!("{field}: expected a string, found {other}")),
        None => Err(format!("{field}: missing")),
    };
    let kind = match obj.get("kind") {
        None | Some(Value::Null) => default_kind,
        Some(Value::String(k)) if k == "math" => Kind::Math,
        Some(Value::String(k)) if k == "choice" => Kind::Choice,
        Some(other) => return Err(format!("kind: {other} is not \"math\" or \"choice\"")),
    };
    check(&text("pred")?, &text("gold")?, kind)
}

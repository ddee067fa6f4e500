use super::{print_json, Ctx};
use thinkscope_protocol::TraceKind;

#[derive(clap::Args)]
pub struct Args {
    /// Sample id, or a unique prefix of it (as `samples` prints).
    sample_id: String,
    #[arg(long)]
    json: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let store = ctx.open().await?;
    let s = store.sample(&args.sample_id).await?;
    if args.json {
        return print_json(&s);
    }
    let r = &s.row;
    println!("sample {}  (dataset {}, row {})", r.id, s.dataset_name, r.row_index + 1);
    for (label, value) in [
        ("external id", &r.external_id),
        ("domain", &r.domain),
        ("subject", &r.subject),
        ("source", &r.source),
        ("level", &r.level),
    ] {
        if let Some(v) = value {
            println!("{label:>12}: {v}");
        }
    }
    println!("\n## Question\n{}", r.question);
    if let Some(choices) = &r.choices {
        println!("\n## Choices");
        for (i, c) in choices.iter().enumerate() {
            let mark = if s.correct_choice == Some(i as u32) { "*" } else { " " };
            println!("{mark} {}. {c}", (b'A' + i as u8) as char);
        }
    }
    if let Some(a) = &r.answer {
        println!("\n## Answer\n{a}");
    }
    if let Some(sol) = &s.solution {
        println!("\n## Solution\n{sol}");
    }
    for t in &s.traces {
        let kind = match t.kind {
            TraceKind::Thinking => "Thinking",
            TraceKind::Attempt => "Attempt",
        };
        let label = if t.label.is_empty() { String::new() } else { format!(" ({})", t.label) };
        let tokens: Vec<_> = t.tokens.iter().map(|c| format!("{} tokens ({})", c.tokens, c.tokenizer)).collect();
        println!("\n## {kind}{label}  {} chars {}\n{}", t.text.chars().count(), tokens.join(", "), t.text);
    }
    if let Some(ep) = &s.entry_point {
        println!("\n## Entry point\n{ep}");
    }
    if let Some(tests) = &s.tests {
        println!("\n## Tests\n{tests}");
    }
    for (k, v) in &s.grades {
        println!("{k}: {v}");
    }
    Ok(())
}

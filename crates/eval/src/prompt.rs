//! The question a unit sends, per task kind, and the seeds units derive from the run seed.

use sha2::{Digest, Sha256};
use thinkscope_protocol::eval::TaskKind;
use thinkscope_protocol::rng::SplitMix64;
use thinkscope_protocol::SampleDetail;

/// The task a sample poses, from its fields: options → choice; tests or a code domain →
/// code; else math.
pub fn detect_task(sample: &SampleDetail) -> TaskKind {
    if sample.row.choices.as_ref().is_some_and(|c| !c.is_empty()) {
        TaskKind::Choice
    } else if sample.tests.is_some() || sample.entry_point.is_some() || sample.row.domain.as_deref() == Some("code") {
        TaskKind::Code
    } else {
        TaskKind::Math
    }
}

/// A u64 from any parts, stable across platforms and versions.
fn derive(parts: &[&[u8]]) -> u64 {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    u64::from_le_bytes(h.finalize()[..8].try_into().expect("8 bytes"))
}

/// The sampling seed of a unit. Points of one family (see `sweep::families`) share it, so
/// they share a trajectory until their policies differ, and a run of one point alone gives
/// the same tokens as the same point inside a sweep. `family_key` names the family (prompt
/// condition and policy kind), `try_index` a rejection-sampling retry.
pub fn unit_seed(run_seed: u64, sample_id: &str, sample_index: u32, family_key: &str, try_index: u32) -> u64 {
    derive(&[
        &run_seed.to_le_bytes(),
        sample_id.as_bytes(),
        &sample_index.to_le_bytes(),
        family_key.as_bytes(),
        &try_index.to_le_bytes(),
    ])
}

/// The option order a multiple-choice sample is shown in: `order[i]` is the stored option
/// shown as letter `i`. Derived from the run seed and the sample, so every unit of a
/// problem sees the same order and a rerun reproduces it.
pub fn choice_order(run_seed: u64, sample_id: &str, n: usize) -> Vec<u32> {
    let mut rng = SplitMix64::new(derive(&[b"choices", &run_seed.to_le_bytes(), sample_id.as_bytes()]));
    let mut order: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.below(i + 1));
    }
    order
}

/// A unit's question text and, for multiple choice, the order its options are shown in.
pub fn question(
    sample: &SampleDetail,
    task: TaskKind,
    template: Option<&str>,
    run_seed: u64,
) -> (String, Option<Vec<u32>>) {
    let question = sample.row.question.trim_end();
    let (choices_text, order) = match (task, &sample.row.choices) {
        (TaskKind::Choice, Some(choices)) if !choices.is_empty() => {
            let order = choice_order(run_seed, &sample.row.id, choices.len());
            let text = order
                .iter()
                .enumerate()
                .map(|(i, &stored)| format!("{}) {}", letter(i), choices[stored as usize].trim()))
                .collect::<Vec<_>>()
                .join("\n");
            (text, Some(order))
        }
        _ => (String::new(), None),
    };
    let text = match template {
        Some(t) => t.replace("{question}", question).replace("{choices}", &choices_text),
        None => match task {
            TaskKind::Math => question.to_string(),
            TaskKind::Choice if !choices_text.is_empty() => format!("{question}\n\n{choices_text}"),
            TaskKind::Choice => question.to_string(),
            TaskKind::Code => code_prompt(sample, question),
        },
    };
    (text, order)
}

/// The letter of option `i`: A, B, C, …
pub fn letter(i: usize) -> char {
    (b'A' + (i % 26) as u8) as char
}

/// HumanEval's prompt already holds the signature; MBPP's states the task in prose, and
/// its first test shows the function's name and arguments.
fn code_prompt(sample: &SampleDetail, question: &str) -> String {
    let has_signature = sample.entry_point.as_deref().is_some_and(|e| question.contains(&format!("def {e}(")));
    let first_test = sample.tests.as_deref().and_then(|t| t.lines().find(|l| l.trim_start().starts_with("assert")));
    match first_test {
        Some(test) if !has_signature => {
            format!("{question}\nYour code should pass this test:\n\n{}", test.trim())
        }
        _ => question.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffles_are_permutations_fixed_by_seed_and_sample() {
        let a = choice_order(7, "s1", 4);
        assert_eq!(a, choice_order(7, "s1", 4));
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, vec![0, 1, 2, 3]);
        // Over many samples every position holds the correct (stored 0) option sometimes.
        let mut seen = [0; 4];
        for i in 0..200 {
            let order = choice_order(7, &format!("s{i}"), 4);
            seen[order.iter().position(|&o| o == 0).unwrap()] += 1;
        }
        assert!(seen.iter().all(|&n| n > 25), "{seen:?}");
    }

    #[test]
    fn seeds_depend_on_every_part() {
        let base = unit_seed(1, "s", 0, "bf", 0);
        assert_ne!(base, unit_seed(2, "s", 0, "bf", 0));
        assert_ne!(base, unit_seed(1, "t", 0, "bf", 0));
        assert_ne!(base, unit_seed(1, "s", 1, "bf", 0));
        assert_ne!(base, unit_seed(1, "s", 0, "sw", 0));
        assert_ne!(base, unit_seed(1, "s", 0, "bf", 1));
        assert_eq!(base, unit_seed(1, "s", 0, "bf", 0));
    }
}

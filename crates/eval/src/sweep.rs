//! From sweep settings (what `eval run` flags or the app's form say) to the plan's points,
//! checked before any generation: a bad setting is named here, not after an hour of
//! decoding.

use crate::EvalError;
use thinkscope_protocol::eval::{Rejection, SweepPoint};
use thinkscope_protocol::generation::{BudgetForcing, PromptCondition, ShiftedWindow, ThinkingPolicy};

/// The policy a run sweeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PolicyKind {
    #[default]
    None,
    BudgetForcing,
    ShiftedWindow,
}

impl std::str::FromStr for PolicyKind {
    type Err = EvalError;
    fn from_str(s: &str) -> Result<Self, EvalError> {
        match s {
            "none" => Ok(PolicyKind::None),
            "budget-forcing" => Ok(PolicyKind::BudgetForcing),
            "shifted-window" => Ok(PolicyKind::ShiftedWindow),
            other => Err(EvalError::Setting(format!(
                "--policy `{other}` is not one of none, budget-forcing, shifted-window"
            ))),
        }
    }
}

/// Sweep settings; empty lists and `None`s are flags not given.
#[derive(Debug, Clone, Default)]
pub struct SweepSpec {
    pub policy: PolicyKind,
    pub budgets: Vec<usize>,
    pub ignore_end: Vec<usize>,
    pub windows: Vec<usize>,
    pub conditions: Vec<PromptCondition>,
    pub rejection_tries: Option<u32>,
    pub min_thinking: Option<usize>,
    pub extend_with: Vec<String>,
    pub cap_text: Option<String>,
    pub hint: Option<String>,
    pub max_answer: Option<usize>,
    /// Sampling temperature (rejection sampling needs it above 0).
    pub temperature: f32,
}

/// Parses `tokens:N,…`, `steps:N,…`, `short`, `long` (comma-separated).
pub fn parse_conditions(text: &str) -> Result<Vec<PromptCondition>, EvalError> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            let number = |n: &str| {
                n.parse::<usize>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| EvalError::Setting(format!("--conditions: `{item}` needs a positive number")))
            };
            match item.split_once(':') {
                Some(("tokens", n)) => Ok(PromptCondition::Tokens(number(n)?)),
                Some(("steps", n)) => Ok(PromptCondition::Steps(number(n)?)),
                None if item == "short" => Ok(PromptCondition::Short),
                None if item == "long" => Ok(PromptCondition::Long),
                _ => Err(EvalError::Setting(format!(
                    "--conditions: `{item}` is not tokens:N, steps:N, short or long"
                ))),
            }
        })
        .collect()
}

fn check_sorted(flag: &str, values: &[usize], zero_ok: bool) -> Result<(), EvalError> {
    if let Some(v) = values.iter().find(|&&v| v == 0 && !zero_ok) {
        return Err(EvalError::Setting(format!("{flag}: {v} is not a positive number of tokens")));
    }
    if values.windows(2).any(|w| w[0] >= w[1]) {
        return Err(EvalError::Setting(format!(
            "{flag} must be strictly increasing (got {})",
            values.iter().map(usize::to_string).collect::<Vec<_>>().join(",")
        )));
    }
    Ok(())
}

fn refuse(flag: &str, policy: &str) -> EvalError {
    EvalError::Setting(format!("{flag} does not apply to --policy {policy}"))
}

fn condition_value(c: &PromptCondition) -> (f64, String) {
    match c {
        PromptCondition::None => (0.0, "none".into()),
        PromptCondition::Tokens(n) => (*n as f64, format!("tokens:{n}")),
        PromptCondition::Steps(n) => (*n as f64, format!("steps:{n}")),
        PromptCondition::Short => (0.0, "short".into()),
        PromptCondition::Long => (1.0, "long".into()),
    }
}

/// The points of a sweep, in increasing sweep value.
pub fn points(spec: &SweepSpec) -> Result<Vec<SweepPoint>, EvalError> {
    check_sorted("--budgets", &spec.budgets, false)?;
    check_sorted("--ignore-end", &spec.ignore_end, true)?;
    check_sorted("--windows", &spec.windows, false)?;
    let conditions: Vec<PromptCondition> =
        if spec.conditions.is_empty() { vec![PromptCondition::None] } else { spec.conditions.clone() };
    match spec.policy {
        PolicyKind::None => {
            for (flag, given) in [
                ("--ignore-end", !spec.ignore_end.is_empty()),
                ("--windows", !spec.windows.is_empty()),
                ("--min-thinking", spec.min_thinking.is_some()),
                ("--extend-with", !spec.extend_with.is_empty()),
                ("--cap-text", spec.cap_text.is_some()),
                ("--hint", spec.hint.is_some()),
            ] {
                if given {
                    return Err(refuse(flag, "none"));
                }
            }
            if let Some(tries) = spec.rejection_tries {
                if spec.budgets.is_empty() {
                    return Err(EvalError::Setting("--rejection-sampling needs --budgets".into()));
                }
                if tries == 0 {
                    return Err(EvalError::Setting("--rejection-sampling needs at least 1 try".into()));
                }
                if spec.temperature <= 0.0 {
                    return Err(EvalError::Setting(
                        "--rejection-sampling needs --temperature above 0 (greedy tries would all be the same)".into(),
                    ));
                }
                return Ok(spec
                    .budgets
                    .iter()
                    .map(|&b| SweepPoint {
                        value: b as f64,
                        label: format!("rejection ≤{b}"),
                        policy: ThinkingPolicy::None,
                        condition: conditions[0].clone(),
                        rejection: Some(Rejection { max_thinking: b, tries }),
                    })
                    .collect());
            }
            if !spec.budgets.is_empty() {
                return Err(EvalError::Setting(
                    "--budgets needs --policy budget-forcing (or --rejection-sampling)".into(),
                ));
            }
            Ok(conditions
                .iter()
                .map(|c| {
                    let (value, label) = condition_value(c);
                    SweepPoint { value, label, policy: ThinkingPolicy::None, condition: c.clone(), rejection: None }
                })
                .collect())
        }
        PolicyKind::BudgetForcing => {
            if !spec.windows.is_empty() {
                return Err(refuse("--windows", "budget-forcing"));
            }
            if spec.hint.is_some() {
                return Err(refuse("--hint", "budget-forcing"));
            }
            if spec.rejection_tries.is_some() {
                return Err(EvalError::Setting("--rejection-sampling runs with --policy none".into()));
            }
            if spec.budgets.is_empty() {
                return Err(EvalError::Setting("--policy budget-forcing needs --budgets N,…".into()));
            }
            let ignore = if spec.ignore_end.is_empty() { vec![0] } else { spec.ignore_end.clone() };
            if spec.budgets.len() > 1 && ignore.len() > 1 {
                return Err(EvalError::Setting(
                    "--budgets and --ignore-end combine only when one of them is a single value".into(),
                ));
            }
            if spec.conditions.len() > 1 && spec.conditions.len() != spec.budgets.len() * ignore.len() {
                return Err(EvalError::Setting(format!(
                    "--conditions with budget forcing pairs one condition with each point ({} points, {} conditions)",
                    spec.budgets.len() * ignore.len(),
                    spec.conditions.len()
                )));
            }
            let base = BudgetForcing::default();
            let extend_with = if spec.extend_with.is_empty() { base.extend_with.clone() } else { spec.extend_with.clone() };
            let mut out = Vec::new();
            for &budget in &spec.budgets {
                for &ignore_end in &ignore {
                    let i = out.len();
                    let condition = conditions.get(i).or(conditions.first()).cloned().unwrap_or_default();
                    let (value, label) = if ignore.len() > 1 {
                        (ignore_end as f64, format!("wait ×{ignore_end}"))
                    } else {
                        (budget as f64, format!("budget {budget}"))
                    };
                    let label = match &condition {
                        PromptCondition::None => label,
                        c => format!("{label} + {}", condition_value(c).1),
                    };
                    out.push(SweepPoint {
                        value,
                        label,
                        policy: ThinkingPolicy::BudgetForcing(BudgetForcing {
                            max_thinking: budget,
                            min_thinking: spec.min_thinking.unwrap_or(0),
                            ignore_end,
                            extend_with: extend_with.clone(),
                            cap_text: spec.cap_text.clone().unwrap_or_else(|| base.cap_text.clone()),
                            max_answer: spec.max_answer,
                        }),
                        condition,
                        rejection: None,
                    });
                }
            }
            Ok(out)
        }
        PolicyKind::ShiftedWindow => {
            for (flag, given) in [
                ("--budgets", !spec.budgets.is_empty()),
                ("--ignore-end", !spec.ignore_end.is_empty()),
                ("--min-thinking", spec.min_thinking.is_some()),
                ("--extend-with", !spec.extend_with.is_empty()),
                ("--cap-text", spec.cap_text.is_some()),
                ("--rejection-sampling", spec.rejection_tries.is_some()),
            ] {
                if given {
                    return Err(refuse(flag, "shifted-window"));
                }
            }
            if spec.windows.is_empty() {
                return Err(EvalError::Setting("--policy shifted-window needs --windows N,…".into()));
            }
            let base = ShiftedWindow::default();
            Ok(spec
                .windows
                .iter()
                .map(|&window| SweepPoint {
                    value: window as f64,
                    label: format!("window {window}"),
                    policy: ThinkingPolicy::ShiftedWindow(ShiftedWindow {
                        window,
                        hint: spec.hint.clone().unwrap_or_else(|| base.hint.clone()),
                        max_answer: spec.max_answer,
                    }),
                    condition: conditions[0].clone(),
                    rejection: None,
                })
                .collect())
        }
    }
}

/// Points that can share one trajectory: same prompt condition, same policy kind, no
/// rejection sampling. Returns groups of point indices, each ordered so the point with the
/// longest trajectory (largest budget, most ignored ends, widest window) leads.
pub fn families(points: &[SweepPoint]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let joins = |g: &Vec<usize>| {
            let q = &points[g[0]];
            p.rejection.is_none()
                && q.rejection.is_none()
                && p.condition == q.condition
                && std::mem::discriminant(&p.policy) == std::mem::discriminant(&q.policy)
        };
        match groups.iter_mut().find(|g| joins(g)) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    for g in &mut groups {
        g.sort_by_key(|&i| std::cmp::Reverse(reach(&points[i].policy)));
    }
    groups
}

/// How far a policy lets thinking run before it differs from a smaller setting.
fn reach(policy: &ThinkingPolicy) -> (usize, usize) {
    match policy {
        ThinkingPolicy::None => (0, 0),
        ThinkingPolicy::BudgetForcing(bf) => (bf.max_thinking, bf.ignore_end),
        ThinkingPolicy::ShiftedWindow(sw) => (sw.window, 0),
    }
}

/// The name of a sweep's policy, as `eval list` shows it.
pub fn policy_name(points: &[SweepPoint]) -> String {
    match points.first() {
        Some(p) if p.rejection.is_some() => "rejection-sampling".into(),
        Some(p) => match &p.policy {
            ThinkingPolicy::None if p.condition != PromptCondition::None => "conditional".into(),
            ThinkingPolicy::None => "none".into(),
            ThinkingPolicy::BudgetForcing(_) => "budget-forcing".into(),
            ThinkingPolicy::ShiftedWindow(_) => "shifted-window".into(),
        },
        None => "none".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bf(budgets: &[usize], ignore: &[usize]) -> SweepSpec {
        SweepSpec { policy: PolicyKind::BudgetForcing, budgets: budgets.to_vec(), ignore_end: ignore.to_vec(), ..Default::default() }
    }

    #[test]
    fn cap_and_ignore_end_sweeps_are_one_family_led_by_the_longest() {
        let cap = points(&bf(&[512, 1024, 2048], &[])).unwrap();
        assert_eq!(cap.iter().map(|p| p.value).collect::<Vec<_>>(), [512.0, 1024.0, 2048.0]);
        assert_eq!(families(&cap), vec![vec![2, 1, 0]]);
        let waits = points(&bf(&[8192], &[0, 1, 2, 4, 6])).unwrap();
        assert_eq!(waits[3].label, "wait ×4");
        assert_eq!(families(&waits), vec![vec![4, 3, 2, 1, 0]]);
    }

    #[test]
    fn bad_sweeps_are_named() {
        let err = |s: SweepSpec| points(&s).unwrap_err().to_string();
        assert!(err(bf(&[1024, 512], &[])).contains("strictly increasing"));
        assert!(err(bf(&[0, 512], &[])).contains("not a positive"));
        assert!(err(bf(&[512, 1024], &[0, 1])).contains("single value"));
        assert!(err(bf(&[], &[])).contains("needs --budgets"));
        let window_with_budgets = SweepSpec { policy: PolicyKind::ShiftedWindow, windows: vec![10], budgets: vec![5], ..Default::default() };
        assert!(err(window_with_budgets).contains("--budgets does not apply"));
        let greedy_rejection = SweepSpec { budgets: vec![100], rejection_tries: Some(4), ..Default::default() };
        assert!(err(greedy_rejection).contains("--temperature"));
        assert!(parse_conditions("tokens:0").is_err());
        assert_eq!(parse_conditions("steps:4, long").unwrap(), vec![PromptCondition::Steps(4), PromptCondition::Long]);
    }

    #[test]
    fn conditions_and_rejection_points_run_on_their_own() {
        let spec = SweepSpec { conditions: parse_conditions("tokens:512,tokens:1024").unwrap(), ..Default::default() };
        let p = points(&spec).unwrap();
        assert_eq!(families(&p), vec![vec![0], vec![1]]);
        let spec = SweepSpec { budgets: vec![100, 200], rejection_tries: Some(3), temperature: 0.7, ..Default::default() };
        let p = points(&spec).unwrap();
        assert_eq!(policy_name(&p), "rejection-sampling");
        assert_eq!(families(&p), vec![vec![0], vec![1]]);
    }
}

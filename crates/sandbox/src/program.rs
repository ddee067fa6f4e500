//! Builds the Python test programs for HumanEval and MBPP generations.

/// The HumanEval program, as the official harness builds it:
/// `prompt + completion + "\n" + test + "\ncheck(entry_point)"`.
///
/// Models often answer with the whole function rather than only its body. When the
/// completion itself defines `def entry_point(` at top level, the prompt is kept only up to
/// its own `def entry_point(` line (its imports and helpers), so the signature and
/// docstring are not stacked above a second definition.
pub fn humaneval_program(prompt: &str, completion: &str, test: &str, entry_point: &str) -> String {
    let def = format!("def {entry_point}(");
    let head = if defines_at_top_level(completion, &def) {
        match line_start_of_last(prompt, &def) {
            Some(at) => &prompt[..at],
            None => prompt,
        }
    } else {
        prompt
    };
    let mut program = String::with_capacity(head.len() + completion.len() + test.len() + 64);
    program.push_str(head);
    program.push_str(completion);
    program.push('\n');
    program.push_str(test);
    program.push_str("\ncheck(");
    program.push_str(entry_point);
    program.push_str(")\n");
    program
}

/// The MBPP program: the test imports, the code, then each `assert` of the test list.
pub fn mbpp_program<S: AsRef<str>>(code: &str, test_imports: &[S], test_list: &[S]) -> String {
    let mut program = String::new();
    for line in test_imports {
        program.push_str(line.as_ref());
        program.push('\n');
    }
    program.push_str(code);
    program.push('\n');
    for line in test_list {
        program.push_str(line.as_ref());
        program.push('\n');
    }
    program
}

fn defines_at_top_level(code: &str, def: &str) -> bool {
    code.lines().any(|line| line.starts_with(def))
}

/// Byte offset of the start of the last line that begins with `def`.
fn line_start_of_last(text: &str, def: &str) -> Option<usize> {
    let mut found = None;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with(def) {
            found = Some(at);
        }
        at += line.len();
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROMPT: &str = "from typing import List\n\n\ndef helper(x):\n    return x\n\n\ndef add(a: int, b: int) -> int:\n    \"\"\"Add.\"\"\"\n";
    const TEST: &str = "def check(candidate):\n    assert candidate(1, 2) == 3\n";

    #[test]
    fn body_completion_follows_the_official_harness() {
        let program = humaneval_program(PROMPT, "    return a + b\n", TEST, "add");
        assert_eq!(
            program,
            format!("{PROMPT}    return a + b\n\n{TEST}\ncheck(add)\n")
        );
    }

    #[test]
    fn full_function_completion_keeps_prompt_head_only() {
        let completion = "def add(a: int, b: int) -> int:\n    return a + b\n";
        let program = humaneval_program(PROMPT, completion, TEST, "add");
        assert!(program.starts_with("from typing import List\n\n\ndef helper(x):"));
        assert_eq!(program.matches("def add(").count(), 1);
        assert!(!program.contains("\"\"\"Add.\"\"\""));
        assert!(program.ends_with("check(add)\n"));
    }

    #[test]
    fn nested_or_prefixed_names_are_not_taken_for_the_entry_point() {
        // `def add_one(` and an indented `def add(` do not define the entry point at top level.
        let completion = "    def add(x):\n        return x\n    return add(a) + b\ndef add_one(x):\n    return x\n";
        let program = humaneval_program(PROMPT, completion, TEST, "add");
        assert!(program.starts_with(PROMPT));
    }

    #[test]
    fn mbpp_puts_imports_first_and_tests_last() {
        let program = mbpp_program(
            "def f(x):\n    return math.sqrt(x)",
            &["import math"],
            &["assert f(4) == 2", "assert f(9) == 3"],
        );
        assert_eq!(
            program,
            "import math\ndef f(x):\n    return math.sqrt(x)\nassert f(4) == 2\nassert f(9) == 3\n"
        );
    }
}

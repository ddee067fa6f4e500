//! Recursive-descent parser from tokens to [`Node`]s.
//!
//! Precedence, loosest first: `,` (top-level list → set), relations, `\cup`, `+ - ±`,
//! `* /` and juxtaposition, unary signs, `^`, postfix `!` and subscripts, atoms.

use super::expr::{Func, Node, Rel};
use super::lexer::Tok;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};

/// Nesting limit: deeper input is rejected rather than risking the stack.
const MAX_DEPTH: usize = 150;

const GREEK: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "rho",
    "sigma",
    "tau",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Sigma",
    "Phi",
    "Omega",
];

/// Parses a whole answer. A top-level comma list is a set of solutions.
pub fn parse(tokens: &[Tok]) -> Option<Node> {
    let mut p = Parser {
        toks: tokens.to_vec(),
        pos: 0,
        depth: 0,
        in_trig: 0,
    };
    let mut items = p.list()?;
    if p.pos != p.toks.len() {
        return None;
    }
    match items.len() {
        0 => None,
        1 => items.pop(),
        _ => Some(Node::Set(items)),
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
    /// Inside a trigonometric argument, where degrees convert to radians.
    in_trig: usize,
}

fn func_named(name: &str) -> Option<Func> {
    Some(match name {
        "sin" => Func::Sin,
        "cos" => Func::Cos,
        "tan" => Func::Tan,
        "cot" => Func::Cot,
        "sec" => Func::Sec,
        "csc" => Func::Csc,
        "arcsin" => Func::Asin,
        "arccos" => Func::Acos,
        "arctan" => Func::Atan,
        "sinh" => Func::Sinh,
        "cosh" => Func::Cosh,
        "tanh" => Func::Tanh,
        "ln" | "log" => Func::Ln,
        "lg" => Func::Log10,
        "exp" => Func::Exp,
        _ => return None,
    })
}

fn inverse(f: Func) -> Option<Func> {
    Some(match f {
        Func::Sin => Func::Asin,
        Func::Cos => Func::Acos,
        Func::Tan => Func::Atan,
        _ => return None,
    })
}

/// Parses a literal such as `025`, `.35625`, `2.5e-3` into an exact rational.
fn number(text: &str) -> Option<Node> {
    let (mantissa, exp) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    if exp.abs() > 400 || mantissa.matches('.').count() > 1 {
        return None;
    }
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: BigInt = format!("0{int_part}{frac_part}").parse().ok()?;
    let scale = exp - frac_part.len() as i32;
    let ten = BigInt::from(10);
    let value = if scale >= 0 {
        BigRational::from_integer(digits * num_traits::pow(ten, scale as usize))
    } else {
        BigRational::new(digits, num_traits::pow(ten, (-scale) as usize))
    };
    Some(Node::Num {
        value,
        decimal: mantissa.contains('.') || exp != 0,
    })
}

fn int(n: i64) -> Node {
    Node::num(BigRational::from_integer(n.into()))
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn eat_sym(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Sym(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_cmd(&mut self, name: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Cmd(n)) if n == name) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, c: char) -> Option<()> {
        self.eat_sym(c).then_some(())
    }

    /// Runs `f` one nesting level deeper, failing past [`MAX_DEPTH`].
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    /// Comma-separated relations.
    fn list(&mut self) -> Option<Vec<Node>> {
        let mut items = Vec::new();
        if self.at_closer() {
            return Some(items);
        }
        loop {
            items.push(self.relation()?);
            if !self.eat_sym(',') {
                return Some(items);
            }
        }
    }

    fn at_closer(&self) -> bool {
        match self.peek() {
            Some(Tok::Sym(c)) => matches!(c, ')' | ']' | '}'),
            Some(Tok::Cmd(c)) => c == "}",
            _ => false,
        }
    }

    fn rel_op(&mut self) -> Option<Rel> {
        let op = match self.peek()? {
            Tok::Sym('=') => Rel::Eq,
            Tok::Sym('<') => Rel::Lt,
            Tok::Sym('>') => Rel::Gt,
            Tok::Sym('!') if self.toks.get(self.pos + 1) == Some(&Tok::Sym('=')) => {
                self.pos += 1;
                Rel::Ne
            }
            Tok::Cmd(c) => match c.as_str() {
                "le" | "leq" => Rel::Le,
                "ge" | "geq" => Rel::Ge,
                "lt" => Rel::Lt,
                "gt" => Rel::Gt,
                "ne" | "neq" => Rel::Ne,
                "approx" => Rel::Approx,
                "in" => Rel::In,
                _ => return None,
            },
            _ => return None,
        };
        self.pos += 1;
        // Plain-text `<=`, `>=`, `!=`.
        let op = match op {
            Rel::Lt if self.eat_sym('=') => Rel::Le,
            Rel::Gt if self.eat_sym('=') => Rel::Ge,
            other => other,
        };
        Some(op)
    }

    fn relation(&mut self) -> Option<Node> {
        self.nested(|p| {
            let first = p.union()?;
            let mut terms = vec![first];
            let mut ops = Vec::new();
            while let Some(op) = p.rel_op() {
                ops.push(op);
                terms.push(p.union()?);
            }
            Some(if ops.is_empty() {
                terms.pop()?
            } else {
                Node::Relation { terms, ops }
            })
        })
    }

    fn union(&mut self) -> Option<Node> {
        let mut parts = vec![self.sum()?];
        while self.eat_cmd("cup") {
            parts.push(self.sum()?);
        }
        Some(if parts.len() == 1 {
            parts.pop()?
        } else {
            Node::Union(parts)
        })
    }

    fn sum(&mut self) -> Option<Node> {
        let mut acc = self.unary()?;
        loop {
            if self.eat_sym('+') {
                let t = self.unary()?;
                acc = add(acc, t);
            } else if self.eat_sym('-') {
                let t = self.unary()?;
                acc = add(acc, Node::Neg(Box::new(t)));
            } else if self.eat_cmd("pm") || self.eat_cmd("mp") {
                let t = self.term()?;
                acc = Node::PlusMinus(Box::new(acc), Box::new(t));
            } else {
                return Some(acc);
            }
        }
    }

    /// A leading sign applies to the whole first term (`-2x` is `-(2x)`).
    fn unary(&mut self) -> Option<Node> {
        if self.eat_sym('-') {
            Some(Node::Neg(Box::new(self.term()?)))
        } else if self.eat_sym('+') {
            self.term()
        } else if self.eat_cmd("pm") || self.eat_cmd("mp") {
            Some(Node::PlusMinus(Box::new(int(0)), Box::new(self.term()?)))
        } else {
            self.term()
        }
    }

    fn term(&mut self) -> Option<Node> {
        self.nested(|p| {
            let mut acc = p.power()?;
            loop {
                if p.eat_sym('*') {
                    let rhs = p.signed_power()?;
                    acc = mul(acc, rhs);
                } else if p.eat_sym('/') {
                    let rhs = p.signed_power()?;
                    acc = Node::Div(Box::new(acc), Box::new(rhs));
                } else if p.starts_atom() {
                    let rhs = p.power()?;
                    acc = match mixed_number(&acc, &rhs) {
                        Some(m) => m,
                        None => mul(acc, rhs),
                    };
                } else {
                    return Some(acc);
                }
            }
        })
    }

    /// `2 * -3`, `x / -2`.
    fn signed_power(&mut self) -> Option<Node> {
        if self.eat_sym('-') {
            Some(Node::Neg(Box::new(self.power()?)))
        } else {
            self.power()
        }
    }

    fn starts_atom(&self) -> bool {
        match self.peek() {
            Some(Tok::Num(_) | Tok::Letter(_)) => true,
            Some(Tok::Sym(c)) => matches!(c, '(' | '{'),
            Some(Tok::Cmd(c)) => {
                matches!(
                    c.as_str(),
                    "frac" | "sqrt" | "pi" | "binom" | "dbinom" | "tbinom" | "log" | "lg" | "exp"
                ) || func_named(c).is_some()
                    || GREEK.contains(&c.as_str())
            }
            _ => false,
        }
    }

    fn power(&mut self) -> Option<Node> {
        let base = self.postfix()?;
        if self.eat_sym('^') {
            let exp = self.exponent()?;
            return Some(Node::Pow(Box::new(base), Box::new(exp)));
        }
        Some(base)
    }

    /// Right-associative exponent: `{…}`, a signed atom, or an atom raised again.
    fn exponent(&mut self) -> Option<Node> {
        self.nested(|p| {
            if p.eat_sym('-') {
                return Some(Node::Neg(Box::new(p.exponent()?)));
            }
            let base = p.postfix()?;
            if p.eat_sym('^') {
                return Some(Node::Pow(Box::new(base), Box::new(p.exponent()?)));
            }
            Some(base)
        })
    }

    fn postfix(&mut self) -> Option<Node> {
        let mut node = self.atom()?;
        loop {
            // `x != 3` is a relation, not a factorial.
            if self.peek() == Some(&Tok::Sym('!'))
                && self.toks.get(self.pos + 1) != Some(&Tok::Sym('='))
            {
                self.pos += 1;
                node = Node::Factorial(Box::new(node));
            } else if self.eat_cmd("degree") {
                // `\sin 30^\circ`; elsewhere `120^\circ` is just 120.
                if self.in_trig > 0 {
                    let radian = Node::Div(Box::new(Node::Pi), Box::new(int(180)));
                    node = mul(node, radian);
                }
            } else if self.eat_sym('\'') {
                node = match node {
                    Node::Var(v) => Node::Var(format!("{v}'")),
                    _ => return None,
                };
            } else if self.peek() == Some(&Tok::Sym('_')) {
                let Node::Var(v) = &node else {
                    return Some(node);
                };
                self.pos += 1;
                let sub = self.subscript_text()?;
                node = Node::Var(format!("{v}_{sub}"));
            } else {
                return Some(node);
            }
        }
    }

    /// A subscript's tokens rendered as a name (`x_1`, `a_{n+1}`).
    fn subscript_text(&mut self) -> Option<String> {
        let render = |t: &Tok| match t {
            Tok::Num(s) | Tok::Cmd(s) | Tok::Word(s) => s.clone(),
            Tok::Letter(c) | Tok::Sym(c) => c.to_string(),
        };
        if self.eat_sym('{') {
            let mut out = String::new();
            while !self.eat_sym('}') {
                out.push_str(&render(&self.next()?));
            }
            Some(out)
        } else {
            self.next().map(|t| render(&t))
        }
    }

    /// A command argument: a `{…}` group, or one token (`\frac12` reads `1` then `2`).
    fn arg(&mut self) -> Option<Node> {
        match self.peek()? {
            Tok::Sym('{') => {
                self.pos += 1;
                let e = self.relation()?;
                self.expect_sym('}')?;
                Some(e)
            }
            Tok::Num(s) if s.len() > 1 && s.chars().all(|c| c.is_ascii_digit()) => {
                let (first, rest) = s.split_at(1);
                let node = number(first)?;
                self.toks[self.pos] = Tok::Num(rest.to_string());
                Some(node)
            }
            Tok::Sym('(') => self.atom(),
            _ => self.postfix(),
        }
    }

    fn atom(&mut self) -> Option<Node> {
        self.nested(|p| match p.next()? {
            Tok::Num(s) => number(&s),
            Tok::Letter('e') => Some(Node::E),
            Tok::Letter('i') => Some(Node::I),
            Tok::Letter(c) => Some(Node::Var(c.to_string())),
            Tok::Sym(open @ ('(' | '[')) => p.bracketed(open),
            Tok::Sym('{') => {
                let mut items = p.list()?;
                p.expect_sym('}')?;
                Some(if items.len() == 1 {
                    items.pop()?
                } else {
                    Node::Set(items)
                })
            }
            Tok::Sym('|') => {
                let inner = p.sum()?;
                p.expect_sym('|')?;
                Some(Node::Apply(Func::Abs, Box::new(inner)))
            }
            Tok::Cmd(c) => p.command(&c),
            _ => None,
        })
    }

    fn bracketed(&mut self, open: char) -> Option<Node> {
        let mut items = self.list()?;
        let close = match self.next()? {
            Tok::Sym(c @ (')' | ']')) => c,
            _ => return None,
        };
        let round = open == '(' && close == ')';
        match items.len() {
            1 if round || (open == '[' && close == ']') => items.pop(),
            2 if !round => {
                let hi = items.pop()?;
                let lo = items.pop()?;
                Some(Node::Interval {
                    lo: Box::new(lo),
                    hi: Box::new(hi),
                    lo_closed: open == '[',
                    hi_closed: close == ']',
                })
            }
            n if n >= 2 => Some(Node::Tuple(items)),
            _ => None,
        }
    }

    fn command(&mut self, name: &str) -> Option<Node> {
        match name {
            "frac" => {
                let num = self.arg()?;
                let den = self.arg()?;
                Some(Node::Div(Box::new(num), Box::new(den)))
            }
            "sqrt" => {
                let index = if self.eat_sym('[') {
                    let n = self.sum()?;
                    self.expect_sym(']')?;
                    n
                } else {
                    int(2)
                };
                Some(Node::Root(Box::new(self.arg()?), Box::new(index)))
            }
            "binom" | "dbinom" | "tbinom" => {
                let n = self.arg()?;
                let k = self.arg()?;
                Some(Node::Binom(Box::new(n), Box::new(k)))
            }
            "pi" => Some(Node::Pi),
            "infty" | "inf" | "infinity" => Some(Node::Infinity),
            "{" => {
                let items = self.list()?;
                self.eat_cmd("}").then_some(Node::Set(items))
            }
            "|" => {
                let inner = self.sum()?;
                self.eat_cmd("|")
                    .then(|| Node::Apply(Func::Abs, Box::new(inner)))
            }
            "begin" => self.matrix(),
            "lfloor" | "lceil" => {
                let inner = self.sum()?;
                let (close, func) = if name == "lfloor" {
                    ("rfloor", Func::Floor)
                } else {
                    ("rceil", Func::Ceil)
                };
                self.eat_cmd(close)
                    .then(|| Node::Apply(func, Box::new(inner)))
            }
            "log" if self.peek() == Some(&Tok::Sym('_')) => {
                self.pos += 1;
                let base = self.arg()?;
                let x = self.func_arg()?;
                Some(Node::LogBase(Box::new(base), Box::new(x)))
            }
            g if GREEK.contains(&g) => Some(Node::Var(g.to_string())),
            f => {
                let func = func_named(f)?;
                // `\sin^2 x` squares the value; `\sin^{-1} x` is the inverse function.
                let mut power = if self.eat_sym('^') {
                    Some(self.exponent()?)
                } else {
                    None
                };
                let func = match (&power, inverse(func)) {
                    (Some(Node::Neg(one)), Some(inv)) if **one == int(1) => {
                        power = None;
                        inv
                    }
                    _ => func,
                };
                let trig = matches!(
                    func,
                    Func::Sin | Func::Cos | Func::Tan | Func::Cot | Func::Sec | Func::Csc
                );
                self.in_trig += usize::from(trig);
                let arg = self.func_arg();
                self.in_trig -= usize::from(trig);
                let applied = Node::Apply(func, Box::new(arg?));
                Some(match power {
                    Some(e) => Node::Pow(Box::new(applied), Box::new(e)),
                    None => applied,
                })
            }
        }
    }

    /// A function argument: a bracketed group, or a juxtaposed product (`\sin 2x`).
    fn func_arg(&mut self) -> Option<Node> {
        if matches!(self.peek(), Some(Tok::Sym('(' | '{'))) {
            return self.power();
        }
        let mut acc = self.power()?;
        // Stop at the next function (`\sin x \cos x` is a product of two functions).
        while match self.peek() {
            Some(Tok::Num(_) | Tok::Letter(_)) => true,
            Some(Tok::Cmd(c)) => c == "pi" || GREEK.contains(&c.as_str()),
            _ => false,
        } {
            acc = mul(acc, self.power()?);
        }
        Some(acc)
    }

    /// `\begin{pmatrix} a & b \\ c & d \end{pmatrix}` (any matrix environment).
    fn matrix(&mut self) -> Option<Node> {
        self.env_name()?;
        let mut rows = vec![vec![]];
        loop {
            if self.eat_cmd("end") {
                self.env_name()?;
                break;
            }
            rows.last_mut()?.push(self.relation()?);
            if self.eat_cmd("cr") {
                rows.push(vec![]);
            } else if !self.eat_sym('&') && !matches!(self.peek(), Some(Tok::Cmd(c)) if c == "end")
            {
                return None;
            }
        }
        rows.retain(|r| !r.is_empty());
        let width = rows.first()?.len();
        rows.iter()
            .all(|r| r.len() == width)
            .then_some(Node::Matrix(rows))
    }

    /// `{pmatrix}`; `{array}` is followed by a column spec such as `{cc}`, skipped too.
    fn env_name(&mut self) -> Option<()> {
        self.expect_sym('{')?;
        let array = self.peek() == Some(&Tok::Word("array".into()));
        while !self.eat_sym('}') {
            self.next()?;
        }
        if array && self.peek() == Some(&Tok::Sym('{')) {
            self.env_name()?;
        }
        Some(())
    }
}

fn add(a: Node, b: Node) -> Node {
    match a {
        Node::Add(mut v) => {
            v.push(b);
            Node::Add(v)
        }
        a => Node::Add(vec![a, b]),
    }
}

fn mul(a: Node, b: Node) -> Node {
    match a {
        Node::Mul(mut v) => {
            v.push(b);
            Node::Mul(v)
        }
        a => Node::Mul(vec![a, b]),
    }
}

/// `2\frac{1}{2}` is the mixed number 5/2, not a product.
fn mixed_number(whole: &Node, frac: &Node) -> Option<Node> {
    let whole_number = |n: &Node| match n {
        Node::Num {
            value,
            decimal: false,
        } if value.is_integer() && !value.is_zero() => Some(value.clone()),
        _ => None,
    };
    let Node::Div(num, den) = frac else {
        return None;
    };
    let (w, n, d) = (whole_number(whole)?, whole_number(num)?, whole_number(den)?);
    // Only a proper fraction reads as a mixed number.
    (n < d && !d.is_one()).then(|| Node::num(w + n / d))
}

#[cfg(test)]
mod tests {
    use super::super::{lexer::lex, normalize::normalize};
    use super::*;

    fn p(s: &str) -> Node {
        parse(&lex(&normalize(s)).unwrap()).unwrap_or_else(|| panic!("parse {s}"))
    }

    #[test]
    fn structures() {
        assert!(matches!(
            p("(1, 2]"),
            Node::Interval {
                lo_closed: false,
                hi_closed: true,
                ..
            }
        ));
        assert!(matches!(p("(1, 2)"), Node::Tuple(ref v) if v.len() == 2));
        assert!(matches!(p("1, 2, 3"), Node::Set(ref v) if v.len() == 3));
        assert!(matches!(p("\\{1, 2\\}"), Node::Set(ref v) if v.len() == 2));
        assert!(matches!(p("(a+5)(b+2)"), Node::Mul(_)));
        assert!(matches!(p("x = 5"), Node::Relation { .. }));
        assert!(matches!(p("(0,9) \\cup (9,36)"), Node::Union(ref v) if v.len() == 2));
        let matrix = p("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}");
        assert!(matches!(matrix, Node::Matrix(ref r) if r.len() == 2));
        assert_eq!(
            p("2\\frac{1}{2}"),
            Node::num(BigRational::new(5.into(), 2.into()))
        );
        assert!(parse(&lex("(1, 2").unwrap()).is_none());
        assert!(parse(&lex(&"(".repeat(500)).unwrap()).is_none());
    }

    #[test]
    fn literals() {
        assert_eq!(number("025"), Some(int(25)));
        assert_eq!(
            number(".35625"),
            Some(Node::Num {
                value: BigRational::new(35625.into(), 100000.into()),
                decimal: true
            })
        );
        let scientific = Node::Num {
            value: BigRational::from_integer(150.into()),
            decimal: true,
        };
        assert_eq!(number("1.5e2"), Some(scientific));
    }
}

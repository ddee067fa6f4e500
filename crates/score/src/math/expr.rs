//! The parsed answer: scalar expressions and the structures built from them.

use num_rational::BigRational;

/// Most `±` signs expanded in one answer (2^4 = 16 combinations).
const MAX_PLUS_MINUS: usize = 4;

/// Elementary functions understood by the evaluator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Sin,
    Cos,
    Tan,
    Cot,
    Sec,
    Csc,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Ln,
    Log10,
    Exp,
    Abs,
    Floor,
    Ceil,
}

/// Relations between expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rel {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Approx,
}

impl Rel {
    /// The same relation read right to left (`a < b` ⇔ `b > a`).
    pub fn flipped(self) -> Rel {
        match self {
            Rel::Lt => Rel::Gt,
            Rel::Le => Rel::Ge,
            Rel::Gt => Rel::Lt,
            Rel::Ge => Rel::Le,
            other => other,
        }
    }
}

/// A parsed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A literal; `decimal` marks numbers written with a decimal point or exponent, which
    /// may be rounded and so are compared with a tolerance.
    Num {
        value: BigRational,
        decimal: bool,
    },
    Var(String),
    Pi,
    E,
    I,
    Infinity,
    Add(Vec<Node>),
    Mul(Vec<Node>),
    Neg(Box<Node>),
    Div(Box<Node>, Box<Node>),
    Pow(Box<Node>, Box<Node>),
    /// `root`-th root; `\sqrt{x}` has root 2.
    Root(Box<Node>, Box<Node>),
    Apply(Func, Box<Node>),
    /// `\log_b x`.
    LogBase(Box<Node>, Box<Node>),
    Factorial(Box<Node>),
    Binom(Box<Node>, Box<Node>),
    /// `a ± b`; expanded into a set of two answers before comparison.
    PlusMinus(Box<Node>, Box<Node>),
    /// Ordered: points, vectors, tuples. A pair may also be an open interval.
    Tuple(Vec<Node>),
    /// Unordered: `\{…\}` and comma-separated lists of solutions.
    Set(Vec<Node>),
    Interval {
        lo: Box<Node>,
        hi: Box<Node>,
        lo_closed: bool,
        hi_closed: bool,
    },
    Union(Vec<Node>),
    /// A chain `a op b op c …`: `terms.len() == ops.len() + 1`.
    Relation {
        terms: Vec<Node>,
        ops: Vec<Rel>,
    },
    Matrix(Vec<Vec<Node>>),
}

impl Node {
    pub fn num(value: BigRational) -> Node {
        Node::Num {
            value,
            decimal: false,
        }
    }

    /// True for plain expressions (no structure).
    pub fn is_scalar(&self) -> bool {
        !matches!(
            self,
            Node::Tuple(_)
                | Node::Set(_)
                | Node::Interval { .. }
                | Node::Union(_)
                | Node::Relation { .. }
                | Node::Matrix(_)
        )
    }

    /// Direct children of a scalar expression.
    pub fn children(&self) -> Vec<&Node> {
        match self {
            Node::Add(v) | Node::Mul(v) => v.iter().collect(),
            Node::Neg(a) | Node::Apply(_, a) | Node::Factorial(a) => vec![a],
            Node::Div(a, b)
            | Node::Pow(a, b)
            | Node::Root(a, b)
            | Node::LogBase(a, b)
            | Node::Binom(a, b)
            | Node::PlusMinus(a, b) => vec![a, b],
            _ => vec![],
        }
    }

    /// Whether any literal in the expression was written as a decimal.
    pub fn has_decimal(&self) -> bool {
        matches!(self, Node::Num { decimal: true, .. })
            || self.children().iter().any(|c| c.has_decimal())
    }

    /// Free variables, sorted and deduplicated.
    pub fn vars(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_vars(&mut out);
        out.sort();
        out.dedup();
        out
    }

    fn collect_vars(&self, out: &mut Vec<String>) {
        if let Node::Var(v) = self {
            out.push(v.clone());
        }
        for c in self.children() {
            c.collect_vars(out);
        }
    }

    /// Expands every `±` into both signs: `1 ± √2` → [`1 + √2`, `1 - √2`]. Returns the
    /// node itself alone when it has none, or more than [`MAX_PLUS_MINUS`] of them (then it
    /// cannot be evaluated and so equals nothing else).
    pub fn expand_plus_minus(&self) -> Vec<Node> {
        if self.count_plus_minus() > MAX_PLUS_MINUS {
            return vec![self.clone()];
        }
        self.expand_all()
    }

    fn count_plus_minus(&self) -> usize {
        usize::from(matches!(self, Node::PlusMinus(..)))
            + self
                .children()
                .iter()
                .map(|c| c.count_plus_minus())
                .sum::<usize>()
    }

    fn expand_all(&self) -> Vec<Node> {
        // Every combination of the children's expansions, rebuilt with `make`.
        let combine = |children: Vec<&Node>, make: &dyn Fn(Vec<Node>) -> Node| -> Vec<Node> {
            let mut combos: Vec<Vec<Node>> = vec![vec![]];
            for child in children {
                let options = child.expand_all();
                combos = combos
                    .iter()
                    .flat_map(|c| {
                        options
                            .iter()
                            .map(move |o| [c.clone(), vec![o.clone()]].concat())
                    })
                    .collect();
            }
            combos.into_iter().map(make).collect()
        };
        let pair = |v: Vec<Node>| -> (Box<Node>, Box<Node>) {
            let mut it = v.into_iter().map(Box::new);
            (it.next().unwrap(), it.next().unwrap())
        };
        match self {
            Node::PlusMinus(a, b) => {
                let (av, bv) = (a.expand_all(), b.expand_all());
                av.iter()
                    .flat_map(|x| {
                        bv.iter().flat_map(move |y| {
                            [
                                Node::Add(vec![x.clone(), y.clone()]),
                                Node::Add(vec![x.clone(), Node::Neg(Box::new(y.clone()))]),
                            ]
                        })
                    })
                    .collect()
            }
            Node::Add(v) => combine(v.iter().collect(), &Node::Add),
            Node::Mul(v) => combine(v.iter().collect(), &Node::Mul),
            Node::Neg(a) => a
                .expand_all()
                .into_iter()
                .map(|x| Node::Neg(Box::new(x)))
                .collect(),
            Node::Div(a, b) => combine(vec![a, b], &|v| {
                let (a, b) = pair(v);
                Node::Div(a, b)
            }),
            _ => vec![self.clone()],
        }
    }

    /// Whether the expression contains a `±` anywhere.
    pub fn has_plus_minus(&self) -> bool {
        matches!(self, Node::PlusMinus(..)) || self.children().iter().any(|c| c.has_plus_minus())
    }
}

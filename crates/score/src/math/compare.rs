//! Equivalence of parsed answers: structure first, then exact, then numeric.

use super::eval::{exact, numeric};
use super::expr::{Func, Node, Rel};
use num_bigint::BigInt;
use num_complex::Complex64;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive};

/// Relative tolerance between two values computed in floating point from exact forms.
const REL_TOL: f64 = 1e-9;
/// Relative tolerance when a literal was written as a decimal (it may be rounded).
const DECIMAL_REL_TOL: f64 = 1e-6;
/// Relative tolerance at sample points for expressions with free variables.
const POINT_TOL: f64 = 1e-7;
/// Elements compared pairwise at most (sets, tuples, matrices).
const MAX_ELEMENTS: usize = 64;

/// `Some(method)` when `pred` is equivalent to `gold`.
pub fn equal(pred: &Node, gold: &Node) -> Option<&'static str> {
    let (pred, gold) = (tidy_relations(pred.clone()), tidy_relations(gold.clone()));
    // `x = 5` answers `5`, `x \in [1, 2]` answers `[1, 2]`: drop the variable when the
    // other side is not itself a relation.
    // Two named constants (`k = 3`, `n = 3`) compare by value.
    if let (Some(a), Some(b)) = (named_constant(&pred), named_constant(&gold)) {
        return nodes_equal(&expand(a), &expand(b));
    }
    let p_rel = matches!(pred, Node::Relation { .. });
    let g_rel = matches!(gold, Node::Relation { .. });
    let p = if g_rel {
        pred.clone()
    } else {
        strip_assignment(pred.clone(), true)
    };
    let g = if p_rel {
        gold.clone()
    } else {
        strip_assignment(gold.clone(), false)
    };
    // `a = 2, b = 3` answers the point `(2, 3)`.
    let p = match (&g, assigned_tuple(&pred)) {
        (Node::Tuple(_), Some(t)) => t,
        _ => p,
    };
    let g = match (&p, assigned_tuple(&gold)) {
        (Node::Tuple(_), Some(t)) => t,
        _ => g,
    };
    nodes_equal(&expand(&p), &expand(&g))
}

/// Drops what follows an `≈` (`x = 1/3 ≈ 0.33` → `x = 1/3`, `2√3 ≈ 3.46` → `2√3`, but
/// `x ≈ 2` → `x = 2`) and keeps the two ends of an equality chain (`x = 5+6 = 11` →
/// `x = 11`).
fn tidy_relations(node: Node) -> Node {
    match node {
        Node::Relation { mut terms, mut ops } => {
            if let Some(k) = ops.iter().position(|o| *o == Rel::Approx) {
                if k == 0 && is_name(&terms[0]) {
                    ops[0] = Rel::Eq;
                } else if k == 0 {
                    // `2\sqrt3 ≈ 3.46`: the exact form is the answer.
                    return terms.swap_remove(0);
                } else {
                    terms.truncate(k + 1);
                    ops.truncate(k);
                }
            }
            if ops.len() > 1 && ops.iter().all(|o| *o == Rel::Eq) {
                let last = terms.pop();
                terms.truncate(1);
                terms.extend(last);
                ops.truncate(1);
            }
            if ops.is_empty() {
                terms.pop().unwrap_or(Node::Set(vec![]))
            } else {
                Node::Relation { terms, ops }
            }
        }
        Node::Set(items) => Node::Set(items.into_iter().map(tidy_relations).collect()),
        n => n,
    }
}

/// The value of `x = c` with `c` free of variables.
fn named_constant(n: &Node) -> Option<&Node> {
    match n {
        Node::Relation { terms, ops }
            if ops == &[Rel::Eq] && is_name(&terms[0]) && terms[1].vars().is_empty() =>
        {
            Some(&terms[1])
        }
        _ => None,
    }
}

/// A list of assignments to distinct variables, read as the tuple of their values.
fn assigned_tuple(n: &Node) -> Option<Node> {
    let Node::Set(items) = n else { return None };
    let mut names = Vec::new();
    let mut values = Vec::new();
    for item in items {
        match item {
            Node::Relation { terms, ops } if ops == &[Rel::Eq] => match &terms[0] {
                Node::Var(v) if !names.contains(v) => {
                    names.push(v.clone());
                    values.push(terms[1].clone());
                }
                _ => return None,
            },
            _ => return None,
        }
    }
    Some(Node::Tuple(values))
}

/// Expands `±` (a scalar with `±` becomes a set of both values), recursively in sets.
fn expand(node: &Node) -> Node {
    match node {
        Node::Set(items) => Node::Set(items.iter().flat_map(|i| flatten_set(expand(i))).collect()),
        n if n.is_scalar() && n.has_plus_minus() => Node::Set(n.expand_plus_minus()),
        n => n.clone(),
    }
}

fn flatten_set(node: Node) -> Vec<Node> {
    match node {
        Node::Set(items) => items,
        n => vec![n],
    }
}

/// `x = 5` → `5` (also `f(x) = 2x`, `|AB| = 1`, `\frac{NO}{BO} = \frac12`: a quantity
/// named by letters alone). With `lenient` (for predictions) any equation whose right side
/// is constant gives that constant (`m + 2n = 17` answers `17`), while a gold `a + 3z = 0`
/// stays an equation.
fn strip_assignment(node: Node, lenient: bool) -> Node {
    match node {
        Node::Relation { mut terms, ops }
            if ops == [Rel::Eq]
                && (is_name(&terms[0])
                    || (terms[1].vars().is_empty() && (lenient || !has_literal(&terms[0])))) =>
        {
            terms.pop().unwrap_or(Node::Set(vec![]))
        }
        Node::Relation { mut terms, ops } if ops == [Rel::In] => {
            terms.pop().unwrap_or(Node::Set(vec![]))
        }
        Node::Set(items) => Node::Set(
            items
                .into_iter()
                .map(|i| strip_assignment(i, lenient))
                .collect(),
        ),
        n => n,
    }
}

/// A variable, a function-style name such as `f(x)` (parsed as `f·x`), or a tuple of
/// variables (`(p, q) = (3, 2)`).
fn is_name(n: &Node) -> bool {
    match n {
        Node::Var(_) => true,
        Node::Mul(v) => matches!(v.first(), Some(Node::Var(_))) && v.len() == 2,
        Node::Tuple(v) => v.iter().all(|x| matches!(x, Node::Var(_))),
        _ => false,
    }
}

/// Whether the expression contains a number literal (`a + 3z` does, `\frac{NO}{BO}` not).
fn has_literal(n: &Node) -> bool {
    matches!(n, Node::Num { .. }) || n.children().iter().any(|c| has_literal(c))
}

fn nodes_equal(p: &Node, g: &Node) -> Option<&'static str> {
    use Node::*;
    match (p, g) {
        (Union(_), Set(_) | Relation { .. }) | (Set(_) | Relation { .. }, Union(_)) => {
            // `x < -1 or x > 2` and `|x| > 2` answer `(-∞, -1) ∪ (2, ∞)`-style unions.
            let (a, b) = (interval_list(p)?, interval_list(g)?);
            matched_unordered(&a, &b, intervals_equal).then_some("interval")
        }
        (Set(a), Set(b)) => unordered_equal(&distinct(a), &distinct(b)).then_some("set"),
        (Set(a), b) | (b, Set(a)) if a.len() == 1 => nodes_equal(&a[0], b),
        (Tuple(a), Tuple(b)) => ordered_equal(a, b).then_some("tuple"),
        (Matrix(a), Matrix(b)) => (a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| ordered_equal(x, y)))
        .then_some("matrix"),
        (Tuple(t), Matrix(m)) | (Matrix(m), Tuple(t)) => {
            ordered_equal(t, &as_vector(m)?).then_some("matrix")
        }
        (Union(a), Union(b)) => unordered_equal(a, b).then_some("interval"),
        (
            Interval { .. } | Tuple(_) | Relation { .. },
            Interval { .. } | Tuple(_) | Relation { .. },
        ) => {
            if let (Relation { terms: ta, ops: oa }, Relation { terms: tb, ops: ob }) = (p, g) {
                if let Some(m) = relations_equal(ta, oa, tb, ob) {
                    return Some(m);
                }
            }
            let (a, b) = (as_interval(p)?, as_interval(g)?);
            intervals_equal(&a, &b).then_some("interval")
        }
        (a, b) if a.is_scalar() && b.is_scalar() => scalar_equal(a, b),
        _ => None,
    }
}

/// A one-row or one-column matrix read as a vector.
fn as_vector(m: &[Vec<Node>]) -> Option<Vec<Node>> {
    if m.len() == 1 {
        Some(m[0].clone())
    } else if m.iter().all(|r| r.len() == 1) {
        Some(m.iter().map(|r| r[0].clone()).collect())
    } else {
        None
    }
}

fn ordered_equal(a: &[Node], b: &[Node]) -> bool {
    a.len() == b.len()
        && a.len() <= MAX_ELEMENTS
        && a.iter().zip(b).all(|(x, y)| nodes_equal(x, y).is_some())
}

/// A set's elements without repeats (a root listed twice is still one solution).
fn distinct(items: &[Node]) -> Vec<Node> {
    let mut out: Vec<Node> = Vec::new();
    for item in items.iter().take(MAX_ELEMENTS + 1) {
        if !out.iter().any(|o| nodes_equal(o, item).is_some()) {
            out.push(item.clone());
        }
    }
    out
}

/// Multiset equality: each gold element matched by a distinct predicted one.
fn unordered_equal(a: &[Node], b: &[Node]) -> bool {
    matched_unordered(a, b, |x, y| nodes_equal(x, y).is_some())
}

/// Greedy matching; enough because equivalence is transitive.
fn matched_unordered<T>(a: &[T], b: &[T], eq: impl Fn(&T, &T) -> bool) -> bool {
    if a.len() != b.len() || a.len() > MAX_ELEMENTS {
        return false;
    }
    let mut used = vec![false; a.len()];
    b.iter().all(|y| {
        let hit = (0..a.len()).find(|&i| !used[i] && eq(&a[i], y));
        hit.map(|i| used[i] = true).is_some()
    })
}

/// Interval `(lo, hi, lo_closed, hi_closed)`.
type Iv = (Node, Node, bool, bool);

/// Reads intervals, open pairs `(a, b)` and one-variable inequalities as intervals.
fn as_interval(n: &Node) -> Option<Iv> {
    let inf = || Node::Infinity;
    let neg_inf = || Node::Neg(Box::new(Node::Infinity));
    match n {
        Node::Interval {
            lo,
            hi,
            lo_closed,
            hi_closed,
        } => Some(((**lo).clone(), (**hi).clone(), *lo_closed, *hi_closed)),
        Node::Tuple(v) if v.len() == 2 => Some((v[0].clone(), v[1].clone(), false, false)),
        Node::Relation { terms, ops } => {
            let closed = |op: &Rel| matches!(op, Rel::Le | Rel::Ge);
            match (terms.as_slice(), ops.as_slice()) {
                // `|x| < c` is `(-c, c)`.
                ([Node::Apply(Func::Abs, x), c], [op @ (Rel::Lt | Rel::Le)]) if is_name(x) => {
                    Some((
                        Node::Neg(Box::new(c.clone())),
                        c.clone(),
                        closed(op),
                        closed(op),
                    ))
                }
                ([Node::Var(_), b], [op]) => match op {
                    Rel::Lt | Rel::Le => Some((neg_inf(), b.clone(), false, closed(op))),
                    Rel::Gt | Rel::Ge => Some((b.clone(), inf(), closed(op), false)),
                    Rel::In => as_interval(b),
                    _ => None,
                },
                ([a, Node::Var(_)], [op]) => as_interval(&Node::Relation {
                    terms: vec![terms[1].clone(), a.clone()],
                    ops: vec![op.flipped()],
                }),
                ([a, x, b], [o1, o2])
                    if is_name(x) && matches!((o1, o2), (Rel::Lt | Rel::Le, Rel::Lt | Rel::Le)) =>
                {
                    Some((a.clone(), b.clone(), closed(o1), closed(o2)))
                }
                ([a, x, b], [o1, o2])
                    if is_name(x) && matches!((o1, o2), (Rel::Gt | Rel::Ge, Rel::Gt | Rel::Ge)) =>
                {
                    Some((b.clone(), a.clone(), closed(o2), closed(o1)))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The parts of a union, of a list of inequalities, or of `|x| > c`, as intervals.
fn interval_list(n: &Node) -> Option<Vec<Iv>> {
    match n {
        Node::Union(parts) => parts.iter().map(as_interval).collect(),
        Node::Relation { terms, ops } => match (terms.as_slice(), ops.as_slice()) {
            ([Node::Apply(Func::Abs, x), c], [op @ (Rel::Gt | Rel::Ge)]) if is_name(x) => {
                let closed = *op == Rel::Ge;
                let neg_c = Node::Neg(Box::new(c.clone()));
                let (inf, neg_inf) = (Node::Infinity, Node::Neg(Box::new(Node::Infinity)));
                Some(vec![
                    (neg_inf, neg_c, false, closed),
                    (c.clone(), inf, closed, false),
                ])
            }
            _ => as_interval(n).map(|iv| vec![iv]),
        },
        Node::Set(items) if items.iter().all(|i| matches!(i, Node::Relation { .. })) => {
            items.iter().map(as_interval).collect()
        }
        _ => None,
    }
}

fn intervals_equal(a: &Iv, b: &Iv) -> bool {
    a.2 == b.2
        && a.3 == b.3
        && nodes_equal(&a.0, &b.0).is_some()
        && nodes_equal(&a.1, &b.1).is_some()
}

fn relations_equal(ta: &[Node], oa: &[Rel], tb: &[Node], ob: &[Rel]) -> Option<&'static str> {
    let same = |x: &[Node], y: &[Node]| ordered_equal(x, y);
    if oa == ob && same(ta, tb) {
        return Some("relation");
    }
    let rev_t: Vec<Node> = tb.iter().rev().cloned().collect();
    let rev_o: Vec<Rel> = ob.iter().rev().map(|o| o.flipped()).collect();
    if oa == rev_o.as_slice() && same(ta, &rev_t) {
        return Some("relation");
    }
    // Same solution set up to rearrangement: `y = 2x + 3` and `2x - y + 3 = 0` have
    // proportional differences; `-x > -1` and `x < 1` have positively proportional ones
    // once both read `d > 0`.
    let (Some((da, sa)), Some((db, sb))) = (difference_form(ta, oa), difference_form(tb, ob))
    else {
        return None;
    };
    let ratio = constant_ratio(&da, &db)?;
    (sa == sb && (sa == Rel::Eq || ratio.re > 0.0)).then_some("relation")
}

/// A single relation as `d op 0` with `op` one of `=`, `>`, `≥`.
fn difference_form(t: &[Node], o: &[Rel]) -> Option<(Node, Rel)> {
    let diff = |a: &Node, b: &Node| Node::Add(vec![a.clone(), Node::Neg(Box::new(b.clone()))]);
    let [l, r] = t else { return None };
    match o {
        [Rel::Eq] => Some((diff(l, r), Rel::Eq)),
        [Rel::Gt | Rel::Ge] => Some((diff(l, r), o[0])),
        [Rel::Lt | Rel::Le] => Some((diff(r, l), o[0].flipped())),
        _ => None,
    }
}

/// Deterministic sample values for free variables, on both sides of 1 so that high powers
/// cannot hide a constant term (`x^{100}` vs `x^{100} + 1`), positive so logs and roots stay
/// real, and different for each variable.
fn sample_points(vars: &[String]) -> Vec<Vec<(String, Complex64)>> {
    const BASES: [f64; 6] = [0.31, 0.77, 1.23, 1.61, 2.19, 2.93];
    (0..BASES.len())
        .map(|k| {
            vars.iter()
                .enumerate()
                .map(|(j, v)| {
                    (
                        v.clone(),
                        Complex64::new(BASES[(k + j) % BASES.len()] + 0.0113 * j as f64, 0.0),
                    )
                })
                .collect()
        })
        .collect()
}

/// `a / b` when it is the same non-zero constant at every sample point.
fn constant_ratio(a: &Node, b: &Node) -> Option<Complex64> {
    let vars = union_vars(a, b);
    if vars.is_empty() {
        return None;
    }
    let ratios: Vec<Complex64> = sample_points(&vars)
        .iter()
        .filter_map(|env| Some(numeric(a, env)? / numeric(b, env)?))
        .filter(|r| r.is_finite() && r.norm() > 1e-12)
        .collect();
    (ratios.len() >= 3 && ratios.iter().all(|r| close(*r, ratios[0], POINT_TOL))).then(|| ratios[0])
}

fn union_vars(a: &Node, b: &Node) -> Vec<String> {
    let mut v = a.vars();
    v.extend(b.vars());
    v.sort();
    v.dedup();
    v
}

fn close(a: Complex64, b: Complex64, rel: f64) -> bool {
    (a - b).norm() <= rel * a.norm().max(b.norm()).max(1e-3)
}

/// Sign of an infinite value (`∞`, `-∞`), if it is one.
fn infinity_sign(n: &Node) -> Option<i8> {
    match n {
        Node::Infinity => Some(1),
        Node::Neg(a) => infinity_sign(a).map(|s| -s),
        Node::Add(v) if v.len() == 1 => infinity_sign(&v[0]),
        _ => None,
    }
}

fn scalar_equal(p: &Node, g: &Node) -> Option<&'static str> {
    match (infinity_sign(p), infinity_sign(g)) {
        (None, None) => {}
        (a, b) => return (a == b).then_some("exact"),
    }
    let decimal = p.has_decimal() || g.has_decimal();
    if let (Some(a), Some(b)) = (exact(p), exact(g)) {
        if a == b {
            return Some("exact");
        }
        if !decimal {
            return None;
        }
    }
    let vars = union_vars(p, g);
    if vars.is_empty() {
        let (a, b) = (numeric(p, &[])?, numeric(g, &[])?);
        let tol = if decimal { DECIMAL_REL_TOL } else { REL_TOL };
        return (a.is_finite() && b.is_finite() && (close(a, b, tol) || rounded_decimal(p, g)))
            .then_some("numeric");
    }
    let mut agree = 0;
    for env in sample_points(&vars) {
        match (numeric(p, &env), numeric(g, &env)) {
            (Some(a), Some(b)) if a.is_finite() && b.is_finite() => {
                if !close(a, b, POINT_TOL) {
                    return None;
                }
                agree += 1;
            }
            // A point outside either side's domain says nothing.
            _ => {}
        }
    }
    (agree >= 3).then_some("numeric")
}

/// A decimal literal with at least 4 significant digits equals an exact value it correctly
/// rounds or truncates (`0.3333` for 1/3, `13.287` for 3840/289); either side may be the
/// decimal, since golds are sometimes given rounded.
fn rounded_decimal(p: &Node, g: &Node) -> bool {
    let one_way = |dec: &Node, other: &Node| {
        let (sign, lit) = match dec {
            Node::Neg(inner) => (-1.0, &**inner),
            n => (1.0, n),
        };
        let Node::Num {
            value,
            decimal: true,
        } = lit
        else {
            return false;
        };
        let Some(exact_value) = numeric(other, &[]).filter(|v| v.im == 0.0 && !other.has_decimal())
        else {
            return false;
        };
        // Decimal places: the smallest k making value·10^k whole (at most 30 considered).
        let scale = |k: u32| BigRational::from_integer(BigInt::from(10).pow(k));
        let Some(places) = (0..=30).find(|&k| (value * scale(k)).is_integer()) else {
            return false;
        };
        if (value * scale(places)).to_integer().abs().to_string().len() < 4 {
            return false;
        }
        let unit = 10f64.powi(-(places as i32));
        let v = sign * value.to_f64().unwrap_or(f64::NAN);
        let g = exact_value.re;
        let truncated = (g / unit).trunc() * unit;
        (v - g).abs() <= 0.5 * unit * (1.0 + 1e-9) || (v - truncated).abs() <= 1e-9 * unit
    };
    one_way(p, g) || one_way(g, p)
}

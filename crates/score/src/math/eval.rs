//! Evaluation of scalar expressions: exact (big rationals) and numeric (complex f64).

use super::expr::{Func, Node};
use num_bigint::BigInt;
use num_complex::Complex64;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// Largest result, in bits of numerator plus denominator, that exact arithmetic may build;
/// beyond it the exact path gives up and the numeric path decides.
const MAX_BITS: u64 = 65_536;
/// Node visits allowed per numeric evaluation.
const MAX_STEPS: usize = 20_000;

/// Exact value of an expression made of rationals, `+ - * /`, integer powers, perfect
/// roots, factorials and binomials; `None` for anything else (π, variables, √2, …).
pub fn exact(node: &Node) -> Option<BigRational> {
    let v = match node {
        Node::Num { value, .. } => value.clone(),
        Node::Add(v) => v
            .iter()
            .try_fold(BigRational::zero(), |acc, x| bounded(acc + exact(x)?))?,
        Node::Mul(v) => v
            .iter()
            .try_fold(BigRational::one(), |acc, x| bounded(acc * exact(x)?))?,
        Node::Neg(a) => -exact(a)?,
        Node::Div(a, b) => {
            let d = exact(b)?;
            if d.is_zero() {
                return None;
            }
            exact(a)? / d
        }
        Node::Pow(a, b) => {
            let base = exact(a)?;
            let e = exact(b)?;
            let numer = e.numer().to_i32()?;
            if bits(&base) * u64::from(numer.unsigned_abs()) > MAX_BITS
                || (base.is_zero() && numer < 0)
            {
                return None;
            }
            exact_root(&base.pow(numer), e.denom().to_u32()?)?
        }
        Node::Root(a, n) => {
            let n = exact(n)?;
            if !n.is_integer() {
                return None;
            }
            exact_root(&exact(a)?, n.to_integer().to_u32()?)?
        }
        Node::Apply(Func::Abs, a) => exact(a)?.abs(),
        Node::Apply(Func::Floor, a) => exact(a)?.floor(),
        Node::Apply(Func::Ceil, a) => exact(a)?.ceil(),
        Node::Factorial(a) => {
            let n = small_nat(&exact(a)?, 300)?;
            BigRational::from_integer((1..=n).map(BigInt::from).product())
        }
        Node::Binom(n, k) => {
            let n = small_nat(&exact(n)?, 2000)?;
            let k = small_nat(&exact(k)?, 2000)?;
            if k > n {
                return Some(BigRational::zero());
            }
            let k = k.min(n - k);
            let num: BigInt = ((n - k + 1)..=n).map(BigInt::from).product();
            let den: BigInt = (1..=k).map(BigInt::from).product();
            BigRational::new(num, den)
        }
        _ => return None,
    };
    bounded(v)
}

fn bounded(v: BigRational) -> Option<BigRational> {
    (bits(&v) <= MAX_BITS).then_some(v)
}

fn bits(v: &BigRational) -> u64 {
    v.numer().bits() + v.denom().bits()
}

fn small_nat(v: &BigRational, max: u64) -> Option<u64> {
    if !v.is_integer() || v.is_negative() {
        return None;
    }
    v.to_integer().to_u64().filter(|&n| n <= max)
}

/// The `n`-th root when numerator and denominator are perfect powers.
fn exact_root(v: &BigRational, n: u32) -> Option<BigRational> {
    if n == 0 || n > 64 || (v.is_negative() && n.is_multiple_of(2)) {
        return None;
    }
    let root = |x: &BigInt| {
        let r = x.abs().nth_root(n);
        (num_traits::pow(r.clone(), n as usize) == x.abs()).then_some(r)
    };
    let r = BigRational::new(root(v.numer())?, root(v.denom())?);
    Some(if v.is_negative() { -r } else { r })
}

/// Numeric value with `vars` bound; `None` on unknown variables, unsupported nodes or when
/// the work limit is reached.
pub fn numeric(node: &Node, vars: &[(String, Complex64)]) -> Option<Complex64> {
    let mut steps = 0;
    Numeric {
        vars,
        steps: &mut steps,
    }
    .eval(node)
}

struct Numeric<'a> {
    vars: &'a [(String, Complex64)],
    steps: &'a mut usize,
}

impl Numeric<'_> {
    fn eval(&mut self, node: &Node) -> Option<Complex64> {
        *self.steps += 1;
        if *self.steps > MAX_STEPS {
            return None;
        }
        let real = |x: f64| Complex64::new(x, 0.0);
        Some(match node {
            Node::Num { value, .. } => real(value.to_f64()?),
            Node::Var(v) => self.vars.iter().find(|(n, _)| n == v)?.1,
            Node::Pi => real(std::f64::consts::PI),
            Node::E => real(std::f64::consts::E),
            Node::I => Complex64::i(),
            Node::Add(v) => v
                .iter()
                .try_fold(real(0.0), |acc, x| Some(acc + self.eval(x)?))?,
            Node::Mul(v) => v
                .iter()
                .try_fold(real(1.0), |acc, x| Some(acc * self.eval(x)?))?,
            Node::Neg(a) => -self.eval(a)?,
            Node::Div(a, b) => self.eval(a)? / self.eval(b)?,
            Node::Pow(a, b) => {
                let (base, e) = (self.eval(a)?, self.eval(b)?);
                power(base, e)
            }
            Node::Root(a, n) => {
                let (x, n) = (self.eval(a)?, self.eval(n)?);
                // Odd roots of negative reals are real (∛-8 = -2), as in school maths.
                if x.im == 0.0
                    && x.re < 0.0
                    && n.im == 0.0
                    && n.re.fract() == 0.0
                    && n.re as i64 % 2 != 0
                {
                    real(-(-x.re).powf(1.0 / n.re))
                } else {
                    power(x, n.inv())
                }
            }
            Node::Apply(f, a) => {
                let x = self.eval(a)?;
                match f {
                    Func::Sin => x.sin(),
                    Func::Cos => x.cos(),
                    Func::Tan => x.tan(),
                    Func::Cot => x.tan().inv(),
                    Func::Sec => x.cos().inv(),
                    Func::Csc => x.sin().inv(),
                    Func::Asin => x.asin(),
                    Func::Acos => x.acos(),
                    Func::Atan => x.atan(),
                    Func::Sinh => x.sinh(),
                    Func::Cosh => x.cosh(),
                    Func::Tanh => x.tanh(),
                    Func::Ln => x.ln(),
                    Func::Log10 => x.log10(),
                    Func::Exp => x.exp(),
                    Func::Abs => real(x.norm()),
                    Func::Floor => real(x.re.floor()),
                    Func::Ceil => real(x.re.ceil()),
                }
            }
            Node::LogBase(b, x) => self.eval(x)?.ln() / self.eval(b)?.ln(),
            Node::Factorial(_) => real(exact(node)?.to_f64()?),
            // C(n, k) = n(n-1)…(n-k+1)/k! for a whole k, so a symbolic n still evaluates.
            Node::Binom(n, k) => {
                let k = exact(k)
                    .filter(|k| k.is_integer() && !k.is_negative())?
                    .to_integer()
                    .to_u32()?;
                let n = self.eval(n)?;
                (0..k.min(200)).fold(real(1.0), |acc, j| {
                    acc * (n - f64::from(j)) / f64::from(j + 1)
                })
            }
            _ => return None,
        })
    }
}

fn power(base: Complex64, e: Complex64) -> Complex64 {
    // `-4` is computed as `-(4 + 0i)` = `-4 - 0i`, which sits on the other side of the
    // branch cut; adding 0.0 turns -0.0 into +0.0 so `\sqrt{-4}` is `2i`, not `-2i`.
    let base = Complex64::new(base.re, base.im + 0.0);
    if e.im == 0.0 && e.re.fract() == 0.0 && e.re.abs() <= 1024.0 {
        base.powi(e.re as i32)
    } else if base == Complex64::new(0.0, 0.0) && e.re > 0.0 {
        base
    } else {
        base.powc(e)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{lexer::lex, normalize::normalize, parser::parse};
    use super::*;

    fn node(s: &str) -> Node {
        parse(&lex(&normalize(s)).unwrap()).unwrap()
    }

    #[test]
    fn exact_arithmetic() {
        let r = |n: i64, d: i64| Some(BigRational::new(n.into(), d.into()));
        assert_eq!(exact(&node("\\frac{3}{4} + 0.25")), r(1, 1));
        assert_eq!(exact(&node("\\sqrt{\\frac{9}{16}}")), r(3, 4));
        assert_eq!(exact(&node("\\sqrt[3]{-8}")), r(-2, 1));
        assert_eq!(exact(&node("2^{-3}")), r(1, 8));
        assert_eq!(exact(&node("5!")), r(120, 1));
        assert_eq!(exact(&node("\\binom{10}{3}")), r(120, 1));
        assert_eq!(
            exact(&node("\\lfloor -3.5 \\rfloor + \\lceil 2.1 \\rceil")),
            r(-1, 1)
        );
        assert_eq!(exact(&node("8^{2/3}")), r(4, 1));
        assert_eq!(exact(&node("\\sqrt{2}")), None);
        assert_eq!(exact(&node("10^{100000}")), None);
        assert_eq!(exact(&node("3^{2023}")), exact(&node("3 \\cdot 3^{2022}")));
        assert!(exact(&node("3^{2023}")).is_some());
        assert_eq!(exact(&node("\\frac{1}{0}")), None);
    }

    #[test]
    fn numeric_values() {
        let v = numeric(&node("\\sqrt{-4}"), &[]).unwrap();
        assert!((v - Complex64::new(0.0, 2.0)).norm() < 1e-12);
        let v = numeric(&node("2\\sin(\\pi/6) + i^2"), &[]).unwrap();
        assert!((v - Complex64::new(0.0, 0.0)).norm() < 1e-12);
        let x = [("x".to_string(), Complex64::new(2.0, 0.0))];
        assert!((numeric(&node("\\log_2 x^3"), &x).unwrap().re - 3.0).abs() < 1e-12);
        assert_eq!(numeric(&node("y"), &x), None);
        let x = [("n".to_string(), Complex64::new(5.0, 0.0))];
        assert!((numeric(&node("\\binom{n}{2}"), &x).unwrap().re - 10.0).abs() < 1e-12);
    }
}

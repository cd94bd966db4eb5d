//! Formulas of formula indicators: `+ - * /`, parentheses, numbers and
//! indicator codes, e.g. `rd_spend / gdp * 100`. Codes used in formulas must
//! not contain `-` (it would read as a minus sign).

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    Var(String),
    Neg(Box<Expr>),
    Bin(Box<Expr>, Op, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// A formula that could not be read; `offset` is the byte offset in the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("公式第 {offset} 个字符处：{message}")]
pub struct ExprError {
    pub offset: usize,
    pub message: String,
}

impl Expr {
    pub fn parse(text: &str) -> Result<Expr, ExprError> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let e = p.expr()?;
        p.ws();
        if p.i < p.s.len() {
            return Err(p.err("多余的内容，应为运算符 + - * / 或公式结束"));
        }
        Ok(e)
    }

    /// Indicator codes the formula uses, in order of first use.
    pub fn variables(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut Vec<String>) {
        match self {
            Expr::Num(_) => {}
            Expr::Var(v) => {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            Expr::Neg(e) => e.collect(out),
            Expr::Bin(a, _, b) => {
                a.collect(out);
                b.collect(out);
            }
        }
    }

    /// Evaluates the formula; `None` when a variable is missing, or the result
    /// is not a finite number (division by zero).
    pub fn eval(&self, var: &dyn Fn(&str) -> Option<f64>) -> Option<f64> {
        let v = match self {
            Expr::Num(n) => *n,
            Expr::Var(name) => var(name)?,
            Expr::Neg(e) => -e.eval(var)?,
            Expr::Bin(a, op, b) => {
                let (x, y) = (a.eval(var)?, b.eval(var)?);
                match op {
                    Op::Add => x + y,
                    Op::Sub => x - y,
                    Op::Mul => x * y,
                    Op::Div => {
                        if y == 0.0 {
                            return None;
                        }
                        x / y
                    }
                }
            }
        };
        v.is_finite().then_some(v)
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, message: &str) -> ExprError {
        ExprError {
            offset: self.i,
            message: message.to_string(),
        }
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn expr(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.term()?;
        while let Some(c @ (b'+' | b'-')) = self.peek() {
            self.i += 1;
            let op = if c == b'+' { Op::Add } else { Op::Sub };
            left = Expr::Bin(Box::new(left), op, Box::new(self.term()?));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.factor()?;
        while let Some(c @ (b'*' | b'/')) = self.peek() {
            self.i += 1;
            let op = if c == b'*' { Op::Mul } else { Op::Div };
            left = Expr::Bin(Box::new(left), op, Box::new(self.factor()?));
        }
        Ok(left)
    }

    fn factor(&mut self) -> Result<Expr, ExprError> {
        match self.peek() {
            Some(b'(') => {
                self.i += 1;
                let e = self.expr()?;
                if self.peek() != Some(b')') {
                    return Err(self.err("缺少右括号 )"));
                }
                self.i += 1;
                Ok(e)
            }
            Some(b'-') => {
                self.i += 1;
                Ok(Expr::Neg(Box::new(self.factor()?)))
            }
            Some(c) if c.is_ascii_digit() || c == b'.' => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_digit() || self.s[self.i] == b'.')
                {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                text.parse::<f64>().map(Expr::Num).map_err(|_| ExprError {
                    offset: start,
                    message: format!("“{text}”不是数字"),
                })
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric()
                        || matches!(self.s[self.i], b'_' | b'.'))
                {
                    self.i += 1;
                }
                let name = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                Ok(Expr::Var(name.to_string()))
            }
            Some(_) => Err(self.err("应为数字、指标编码或左括号 (")),
            None => Err(self.err("公式不完整")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_and_variables() {
        let e = Expr::parse("a + b * 2 - (c - 1) / 2").unwrap();
        let env = |n: &str| match n {
            "a" => Some(1.0),
            "b" => Some(3.0),
            "c" => Some(5.0),
            _ => None,
        };
        assert_eq!(e.eval(&env), Some(5.0));
        assert_eq!(e.variables(), vec!["a", "b", "c"]);
        assert_eq!(
            Expr::parse("-x * 2").unwrap().eval(&|_| Some(2.0)),
            Some(-4.0)
        );
    }

    #[test]
    fn division_by_zero_and_missing_give_none() {
        let e = Expr::parse("x / y").unwrap();
        assert_eq!(
            e.eval(&|n| if n == "x" { Some(1.0) } else { Some(0.0) }),
            None
        );
        assert_eq!(e.eval(&|_| None), None);
    }

    #[test]
    fn errors_carry_offsets() {
        for (bad, at) in [
            ("a +", 3),
            ("(a", 2),
            ("a b", 2),
            ("a # b", 2),
            ("", 0),
            ("1..2", 0),
        ] {
            let err = Expr::parse(bad).unwrap_err();
            assert_eq!(err.offset, at, "{bad:?}: {err}");
        }
    }
}

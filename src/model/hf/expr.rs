//! Expressions over a model config's keys, as family templates write them:
//! `hidden_size / num_attention_heads`, `num_key_value_heads * head_dim`,
//! `initializer_range / sqrt(2 * n_layer)`, and conditions `attention_bias`,
//! `not tie_word_embeddings`.
//!
//! Grammar (usual precedence, left-associative):
//!
//! ```text
//! condition := ["not"] expr | key ("==" | "!=") "'"text"'"
//! expr      := term (("+" | "-") term)*
//! term      := factor (("*" | "/") factor)*
//! factor    := number | key | ("sqrt" | "ceil") "(" expr ")" | "(" expr ")" | "-" factor
//! ```
//!
//! Values are f64 (config sizes are integers far below 2⁵³, so they stay exact); a
//! context that needs a size asks [`Scope::size`], which refuses a fraction, a value
//! below 1 or above a limit, naming the expression and the numbers that made it.
//! Keys are looked up in a [`Scope`]: the config's values over the template's defaults.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// A config value as a template sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Bool(bool),
    Text(String),
    /// JSON `null`, or a key the config and the defaults both lack.
    Null,
}

/// The largest size a template may compute (one dimension): far above any real model,
/// far below overflow.
pub const MAX_SIZE: f64 = (1u64 << 40) as f64;

/// Keys and their values; `where_` names the source in errors (the config file).
pub struct Scope<'a> {
    pub values: &'a BTreeMap<String, Value>,
    pub where_: &'a str,
}

impl Scope<'_> {
    fn bad(&self, what: String) -> Error {
        Error::Param(format!("{}: {what}", self.where_))
    }

    /// The number `text` evaluates to.
    pub fn number(&self, text: &str) -> Result<f64> {
        let mut parser = Parser {
            tokens: tokenize(text).map_err(|e| self.bad(format!("in '{text}': {e}")))?,
            at: 0,
            scope: self,
            text,
        };
        let value = parser.expr()?;
        if parser.at != parser.tokens.len() {
            return Err(self.bad(format!("in '{text}': unexpected text after the expression")));
        }
        Ok(value)
    }

    /// A size (a whole number from 1 to 2⁴⁰) that `text` evaluates to.
    pub fn size(&self, text: &str) -> Result<usize> {
        let value = self.number(text)?;
        if value.fract() != 0.0 || !(1.0..=MAX_SIZE).contains(&value) {
            return Err(self.bad(format!(
                "'{text}' = {} ({}), which is not a size: a whole number from 1 to 2^40",
                crate::text::num(value),
                self.explain(text)
            )));
        }
        Ok(value as usize)
    }

    /// Whether a condition (`key`, `not key`) holds: a key holds when it is true, a
    /// non-zero number or a non-empty text; false, 0, null and missing keys do not.
    pub fn holds(&self, condition: &str) -> Result<bool> {
        let trimmed = condition.trim();
        if let Some(rest) = trimmed.strip_prefix("not ") {
            return Ok(!self.holds(rest)?);
        }
        // A text key compared with a quoted word (Mamba's `time_step_init_scheme ==
        // 'random'`): `==` holds when the key holds exactly that text, `!=` otherwise.
        for (op, equal) in [("==", true), ("!=", false)] {
            if let Some((key, word)) = trimmed.split_once(op) {
                let (key, word) = (key.trim(), word.trim());
                let quoted = word.len() >= 2 && word.starts_with('\'') && word.ends_with('\'');
                if !is_key(key) || !quoted {
                    return Err(
                        self.bad(format!("in '{condition}': a comparison is key {op} 'text'"))
                    );
                }
                let same = matches!(self.values.get(key), Some(Value::Text(t)) if *t == word[1..word.len() - 1]);
                return Ok(same == equal);
            }
        }
        if is_key(trimmed) {
            return Ok(match self.values.get(trimmed) {
                Some(Value::Bool(b)) => *b,
                Some(Value::Number(x)) => *x != 0.0,
                Some(Value::Text(t)) => !t.is_empty(),
                Some(Value::Null) | None => false,
            });
        }
        Ok(self.number(trimmed)? != 0.0)
    }

    /// The keys of `text` with their values, e.g. `hidden_size = 4096, num_heads = 30`.
    fn explain(&self, text: &str) -> String {
        let mut keys: Vec<&str> = Vec::new();
        if let Ok(tokens) = tokenize(text) {
            for t in tokens {
                if let Token::Key(k) = t
                    && !keys.contains(&k)
                    && k != "sqrt"
                    && k != "ceil"
                {
                    keys.push(k);
                }
            }
        }
        keys.iter()
            .map(|k| match self.values.get(*k) {
                Some(Value::Number(x)) => format!("{k} = {}", crate::text::num(*x)),
                Some(other) => format!("{k} = {other:?}"),
                None => format!("{k} missing"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn is_key(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Token<'a> {
    Number(f64),
    Key(&'a str),
    Op(char),
}

fn tokenize(text: &str) -> std::result::Result<Vec<Token<'_>>, String> {
    let mut tokens = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            let number = &text[start..i];
            tokens.push(Token::Number(
                number
                    .parse()
                    .map_err(|_| format!("'{number}' is not a number"))?,
            ));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            tokens.push(Token::Key(&text[start..i]));
        } else if "+-*/()".contains(c) {
            tokens.push(Token::Op(c));
            i += 1;
        } else {
            return Err(format!("unexpected '{c}'"));
        }
    }
    Ok(tokens)
}

struct Parser<'t, 's> {
    tokens: Vec<Token<'t>>,
    at: usize,
    scope: &'s Scope<'s>,
    text: &'t str,
}

impl<'t> Parser<'t, '_> {
    fn peek(&self) -> Option<Token<'t>> {
        self.tokens.get(self.at).copied()
    }

    fn fail(&self, what: &str) -> Error {
        self.scope.bad(format!("in '{}': {what}", self.text))
    }

    fn expr(&mut self) -> Result<f64> {
        let mut value = self.term()?;
        while let Some(Token::Op(op @ ('+' | '-'))) = self.peek() {
            self.at += 1;
            let rhs = self.term()?;
            value = if op == '+' { value + rhs } else { value - rhs };
        }
        Ok(value)
    }

    fn term(&mut self) -> Result<f64> {
        let mut value = self.factor()?;
        while let Some(Token::Op(op @ ('*' | '/'))) = self.peek() {
            self.at += 1;
            let rhs = self.factor()?;
            if op == '/' && rhs == 0.0 {
                return Err(self.fail(&format!(
                    "division by zero ({})",
                    self.scope.explain(self.text)
                )));
            }
            value = if op == '*' { value * rhs } else { value / rhs };
        }
        Ok(value)
    }

    fn factor(&mut self) -> Result<f64> {
        match self.peek() {
            Some(Token::Number(x)) => {
                self.at += 1;
                Ok(x)
            }
            Some(Token::Op('-')) => {
                self.at += 1;
                Ok(-self.factor()?)
            }
            Some(Token::Op('(')) => {
                self.at += 1;
                let value = self.expr()?;
                self.close()?;
                Ok(value)
            }
            Some(Token::Key("sqrt")) if self.tokens.get(self.at + 1) == Some(&Token::Op('(')) => {
                self.at += 2;
                let value = self.expr()?;
                self.close()?;
                if value < 0.0 {
                    return Err(self.fail("square root of a negative number"));
                }
                Ok(value.sqrt())
            }
            Some(Token::Key("ceil")) if self.tokens.get(self.at + 1) == Some(&Token::Op('(')) => {
                self.at += 2;
                let value = self.expr()?;
                self.close()?;
                Ok(value.ceil())
            }
            Some(Token::Key(key)) => {
                self.at += 1;
                match self.scope.values.get(key) {
                    Some(Value::Number(x)) => Ok(*x),
                    Some(Value::Bool(b)) => Ok(f64::from(u8::from(*b))),
                    Some(other) => Err(self.fail(&format!("'{key}' is {other:?}, not a number"))),
                    None => Err(self.fail(&format!("the config has no '{key}'"))),
                }
            }
            _ => Err(self.fail("expected a number, a key or '('")),
        }
    }

    fn close(&mut self) -> Result<()> {
        if self.peek() == Some(Token::Op(')')) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.fail("missing ')'"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(values: &[(&str, Value)]) -> BTreeMap<String, Value> {
        values
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn arithmetic_keys_and_conditions() {
        let values = scope(&[
            ("hidden_size", Value::Number(4096.0)),
            ("num_attention_heads", Value::Number(32.0)),
            ("n_layer", Value::Number(12.0)),
            ("initializer_range", Value::Number(0.02)),
            ("tie", Value::Bool(true)),
            ("pad", Value::Null),
        ]);
        let s = Scope {
            values: &values,
            where_: "config.json",
        };
        assert_eq!(s.size("hidden_size / num_attention_heads").unwrap(), 128);
        assert_eq!(s.size("3 * (hidden_size - 4000) + 1").unwrap(), 289);
        let std = s.number("initializer_range / sqrt(2 * n_layer)").unwrap();
        assert_eq!(std, 0.02 / 24f64.sqrt());
        assert!(s.holds("tie").unwrap() && !s.holds("not tie").unwrap());
        assert!(!s.holds("pad").unwrap() && !s.holds("missing_key").unwrap());
        assert_eq!(s.size("ceil(hidden_size / 3000)").unwrap(), 2);
        let values = scope(&[("scheme", Value::Text("random".into()))]);
        let s = Scope {
            values: &values,
            where_: "config.json",
        };
        assert!(s.holds("scheme == 'random'").unwrap() && !s.holds("scheme != 'random'").unwrap());
        assert!(!s.holds("scheme == 'constant'").unwrap() && s.holds("scheme != 'x'").unwrap());
        assert!(!s.holds("missing == 'random'").unwrap());
        assert!(s.holds("scheme == random").is_err());
    }

    #[test]
    fn bad_expressions_name_the_numbers() {
        let values = scope(&[
            ("hidden_size", Value::Number(4096.0)),
            ("num_attention_heads", Value::Number(30.0)),
            ("zero", Value::Number(0.0)),
            ("name", Value::Text("x".into())),
        ]);
        let s = Scope {
            values: &values,
            where_: "config.json",
        };
        let err = s
            .size("hidden_size / num_attention_heads")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("136.533") && err.contains("num_attention_heads = 30"),
            "{err}"
        );
        for (text, needle) in [
            ("hidden_size / zero", "division by zero"),
            ("nope * 2", "no 'nope'"),
            ("name + 1", "not a number"),
            ("(1 + 2", "missing ')'"),
            ("1 $ 2", "unexpected '$'"),
            ("1 2", "unexpected text"),
        ] {
            let err = s.number(text).unwrap_err().to_string();
            assert!(
                err.contains(needle) && err.starts_with("config.json"),
                "{text}: {err}"
            );
        }
        assert!(s.size("0 - 4").is_err() && s.size("2 * 1099511627776").is_err());
    }
}

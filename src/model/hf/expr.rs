//! Expressions over a model config's keys, as family templates write them:
//! `hidden_size / num_attention_heads`, `num_key_value_heads * head_dim`,
//! `initializer_range / sqrt(2 * n_layer)`, and conditions `attention_bias`,
//! `not tie_word_embeddings`, `i >= first_k_dense_replace`,
//! `i not in mlp_only_layers and (i + 1) % decoder_sparse_step == 0`.
//!
//! Grammar (usual precedence, binary operators left-associative):
//!
//! ```text
//! condition  := conjunction ("or" conjunction)*
//! conjunction:= negation ("and" negation)*
//! negation   := "not" negation | "(" condition ")" | test
//! test       := expr [("==" | "!=" | "<" | "<=" | ">" | ">=") expr]
//!             | expr ["not"] "in" key
//! expr       := term (("+" | "-") term)*
//! term       := factor (("*" | "/" | "%") factor)*
//! factor     := number | key | ("sqrt" | "ceil") "(" expr ")" | "(" expr ")" | "-" factor
//! ```
//!
//! A condition may instead compare a text key with a quoted word, alone:
//! `key == 'text'` or `key != 'text'` (Mamba's `time_step_init_scheme == 'random'`).
//!
//! A test without a comparison holds when its value is not zero, except a lone key: that
//! holds when it is true, a non-zero number or a non-empty text (false, 0, null and a
//! missing key do not), so `if = "q_lora_rank"` means "set". `x in key` holds when the
//! key is a list holding `x` (a null or missing key is the empty list, as the config
//! classes read `mlp_only_layers: null`). Both sides of `and` / `or` are evaluated (an
//! error in either is reported). `%` is the floored modulo Python computes.
//!
//! Values are f64 (config sizes are integers far below 2⁵³, so they stay exact); a
//! context that needs a size asks [`Scope::size`], which refuses a fraction, a value
//! below 1 or above a limit, naming the expression and the numbers that made it.
//! Keys are looked up in a [`Scope`]: the config's values over the template's defaults,
//! and `i`, the index of the repeat being expanded (a tensor's layer), when there is one.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// A config value as a template sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Bool(bool),
    Text(String),
    /// A JSON array of numbers (e.g. `mlp_only_layers`).
    List(Vec<f64>),
    /// JSON `null`, or a key the config and the defaults both lack.
    Null,
}

/// The largest size a template may compute (one dimension): far above any real model,
/// far below overflow.
pub const MAX_SIZE: f64 = (1u64 << 40) as f64;

/// The name of the repeat index in expressions (`{i}` in names, `i` in conditions).
pub const INDEX: &str = "i";

/// Keys and their values; `where_` names the source in errors (the config file);
/// `index` is the repeat being expanded (`i`), if any.
pub struct Scope<'a> {
    pub values: &'a BTreeMap<String, Value>,
    pub where_: &'a str,
    pub index: Option<usize>,
}

/// Words that are operators in conditions, never keys.
const KEYWORDS: &[&str] = &["and", "or", "not", "in"];

impl Scope<'_> {
    fn bad(&self, what: String) -> Error {
        Error::Param(format!("{}: {what}", self.where_))
    }

    /// A key's value: `i` is the repeat index when there is one, else the config's.
    fn get(&self, key: &str) -> Option<Value> {
        match self.index {
            Some(i) if key == INDEX => Some(Value::Number(i as f64)),
            _ => self.values.get(key).cloned(),
        }
    }

    fn parser<'t>(&'t self, text: &'t str) -> Result<Parser<'t, 't>> {
        Ok(Parser {
            tokens: tokenize(text).map_err(|e| self.bad(format!("in '{text}': {e}")))?,
            at: 0,
            scope: self,
            text,
        })
    }

    /// The number `text` evaluates to.
    pub fn number(&self, text: &str) -> Result<f64> {
        let mut parser = self.parser(text)?;
        let value = parser.expr()?;
        parser.end()?;
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

    /// A count (a whole number from 0 to 2⁴⁰) that `text` evaluates to: how many times a
    /// nested block repeats, none for a layer without experts.
    pub fn count(&self, text: &str) -> Result<usize> {
        let value = self.number(text)?;
        if value.fract() != 0.0 || !(0.0..=MAX_SIZE).contains(&value) {
            return Err(self.bad(format!(
                "'{text}' = {} ({}), which is not a count: a whole number from 0 to 2^40",
                crate::text::num(value),
                self.explain(text)
            )));
        }
        Ok(value as usize)
    }

    /// Whether a condition holds (see the module's grammar).
    pub fn holds(&self, condition: &str) -> Result<bool> {
        if condition.contains('\'') {
            return self.text_equals(condition);
        }
        let mut parser = self.parser(condition)?;
        let value = parser.condition()?;
        parser.end()?;
        Ok(value)
    }

    /// `key == 'text'` / `key != 'text'`: `==` holds when the key holds exactly that text.
    fn text_equals(&self, condition: &str) -> Result<bool> {
        for (op, equal) in [("==", true), ("!=", false)] {
            if let Some((key, word)) = condition.split_once(op) {
                let (key, word) = (key.trim(), word.trim());
                let quoted = word.len() >= 2 && word.starts_with('\'') && word.ends_with('\'');
                if !is_key(key) || !quoted {
                    break;
                }
                let same =
                    matches!(self.get(key), Some(Value::Text(t)) if t == word[1..word.len() - 1]);
                return Ok(same == equal);
            }
        }
        Err(self.bad(format!(
            "in '{condition}': a comparison with text is key == 'text' or key != 'text'"
        )))
    }

    /// Whether a lone key holds: true, a non-zero number, a non-empty text or list.
    fn key_holds(&self, key: &str) -> bool {
        match self.get(key) {
            Some(Value::Bool(b)) => b,
            Some(Value::Number(x)) => x != 0.0,
            Some(Value::Text(t)) => !t.is_empty(),
            Some(Value::List(xs)) => !xs.is_empty(),
            Some(Value::Null) | None => false,
        }
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
                    && !KEYWORDS.contains(&k)
                {
                    keys.push(k);
                }
            }
        }
        keys.iter()
            .map(|k| match self.get(k) {
                Some(Value::Number(x)) => format!("{k} = {}", shown(x)),
                Some(Value::List(xs)) => format!(
                    "{k} = [{}]",
                    xs.iter().map(|x| shown(*x)).collect::<Vec<_>>().join(", ")
                ),
                Some(other) => format!("{k} = {other:?}"),
                None => format!("{k} missing"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether `text` is a key name (a letter or `_`, then letters, digits and `_`).
fn is_key(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A number as an error shows it: whole numbers (config sizes) as integers.
fn shown(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        crate::text::num(x)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Token<'a> {
    Number(f64),
    Key(&'a str),
    /// `+ - * / % ( )` and the comparisons `== != < <= > >=`.
    Op(&'static str),
}

const OPS: &[&str] = &[
    "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "(", ")",
];

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
        } else if let Some(&op) = OPS.iter().find(|op| text[i..].starts_with(**op)) {
            tokens.push(Token::Op(op));
            i += op.len();
        } else {
            let c = text[i..].chars().next().unwrap_or(c);
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

    fn peek_key(&self, word: &str) -> bool {
        self.peek() == Some(Token::Key(word))
    }

    fn fail(&self, what: &str) -> Error {
        self.scope.bad(format!("in '{}': {what}", self.text))
    }

    fn end(&self) -> Result<()> {
        if self.at != self.tokens.len() {
            return Err(self.fail("unexpected text after the expression"));
        }
        Ok(())
    }

    fn condition(&mut self) -> Result<bool> {
        let mut value = self.conjunction()?;
        while self.peek_key("or") {
            self.at += 1;
            let rhs = self.conjunction()?;
            value = value || rhs;
        }
        Ok(value)
    }

    fn conjunction(&mut self) -> Result<bool> {
        let mut value = self.negation()?;
        while self.peek_key("and") {
            self.at += 1;
            let rhs = self.negation()?;
            value = value && rhs;
        }
        Ok(value)
    }

    fn negation(&mut self) -> Result<bool> {
        if self.peek_key("not") {
            self.at += 1;
            return Ok(!self.negation()?);
        }
        // "(" opens a condition, or an arithmetic group (`(i + 1) % 2 == 0`): try the
        // condition, and read the group as arithmetic when an operator follows it.
        if self.peek() == Some(Token::Op("(")) {
            let start = self.at;
            self.at += 1;
            if let Ok(value) = self.condition()
                && self.peek() == Some(Token::Op(")"))
            {
                self.at += 1;
                let arithmetic = matches!(self.peek(), Some(Token::Op(op)) if op != ")")
                    || self.peek_key("in")
                    || (self.peek_key("not")
                        && self.tokens.get(self.at + 1) == Some(&Token::Key("in")));
                if !arithmetic {
                    return Ok(value);
                }
            }
            self.at = start;
        }
        self.test()
    }

    fn test(&mut self) -> Result<bool> {
        // A lone key (nothing but `and`, `or`, `)` or the end after it): whether it holds,
        // without needing it to be a number or present.
        if let Some(Token::Key(key)) = self.peek()
            && !KEYWORDS.contains(&key)
            && match self.tokens.get(self.at + 1) {
                None | Some(Token::Op(")")) => true,
                Some(Token::Key(word)) => *word == "and" || *word == "or",
                _ => false,
            }
        {
            self.at += 1;
            return Ok(self.scope.key_holds(key));
        }
        let lhs = self.expr()?;
        let negated_in =
            self.peek_key("not") && self.tokens.get(self.at + 1) == Some(&Token::Key("in"));
        if self.peek_key("in") || negated_in {
            self.at += if negated_in { 2 } else { 1 };
            let Some(Token::Key(key)) = self.peek() else {
                return Err(self.fail("'in' needs a key (a list) after it"));
            };
            self.at += 1;
            let found = match self.scope.get(key) {
                Some(Value::List(xs)) => xs.contains(&lhs),
                Some(Value::Null) | None => false,
                Some(other) => {
                    return Err(self.fail(&format!("'{key}' is {other:?}, not a list")));
                }
            };
            return Ok(found != negated_in);
        }
        let compare: Option<fn(&f64, &f64) -> bool> = match self.peek() {
            Some(Token::Op("==")) => Some(|a, b| a == b),
            Some(Token::Op("!=")) => Some(|a, b| a != b),
            Some(Token::Op("<")) => Some(|a, b| a < b),
            Some(Token::Op("<=")) => Some(|a, b| a <= b),
            Some(Token::Op(">")) => Some(|a, b| a > b),
            Some(Token::Op(">=")) => Some(|a, b| a >= b),
            _ => None,
        };
        if let Some(compare) = compare {
            self.at += 1;
            let rhs = self.expr()?;
            return Ok(compare(&lhs, &rhs));
        }
        Ok(lhs != 0.0)
    }

    fn expr(&mut self) -> Result<f64> {
        let mut value = self.term()?;
        while let Some(Token::Op(op @ ("+" | "-"))) = self.peek() {
            self.at += 1;
            let rhs = self.term()?;
            value = if op == "+" { value + rhs } else { value - rhs };
        }
        Ok(value)
    }

    fn term(&mut self) -> Result<f64> {
        let mut value = self.factor()?;
        while let Some(Token::Op(op @ ("*" | "/" | "%"))) = self.peek() {
            self.at += 1;
            let rhs = self.factor()?;
            if op != "*" && rhs == 0.0 {
                return Err(self.fail(&format!(
                    "division by zero ({})",
                    self.scope.explain(self.text)
                )));
            }
            value = match op {
                "*" => value * rhs,
                "/" => value / rhs,
                // Python's: the result has the divisor's sign.
                _ => value - rhs * (value / rhs).floor(),
            };
        }
        Ok(value)
    }

    fn factor(&mut self) -> Result<f64> {
        match self.peek() {
            Some(Token::Number(x)) => {
                self.at += 1;
                Ok(x)
            }
            Some(Token::Op("-")) => {
                self.at += 1;
                Ok(-self.factor()?)
            }
            Some(Token::Op("(")) => {
                self.at += 1;
                let value = self.expr()?;
                self.close()?;
                Ok(value)
            }
            Some(Token::Key("sqrt")) if self.tokens.get(self.at + 1) == Some(&Token::Op("(")) => {
                self.at += 2;
                let value = self.expr()?;
                self.close()?;
                if value < 0.0 {
                    return Err(self.fail("square root of a negative number"));
                }
                Ok(value.sqrt())
            }
            Some(Token::Key("ceil")) if self.tokens.get(self.at + 1) == Some(&Token::Op("(")) => {
                self.at += 2;
                let value = self.expr()?;
                self.close()?;
                Ok(value.ceil())
            }
            Some(Token::Key(key)) if !KEYWORDS.contains(&key) => {
                self.at += 1;
                match self.scope.get(key) {
                    Some(Value::Number(x)) => Ok(x),
                    Some(Value::Bool(b)) => Ok(f64::from(u8::from(b))),
                    Some(other) => Err(self.fail(&format!("'{key}' is {other:?}, not a number"))),
                    None => Err(self.fail(&format!("the config has no '{key}'"))),
                }
            }
            _ => Err(self.fail("expected a number, a key or '('")),
        }
    }

    fn close(&mut self) -> Result<()> {
        if self.peek() == Some(Token::Op(")")) {
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
            index: None,
        };
        assert_eq!(s.size("hidden_size / num_attention_heads").unwrap(), 128);
        assert_eq!(s.size("3 * (hidden_size - 4000) + 1").unwrap(), 289);
        let std = s.number("initializer_range / sqrt(2 * n_layer)").unwrap();
        assert_eq!(std, 0.02 / 24f64.sqrt());
        assert!(s.holds("tie").unwrap() && !s.holds("not tie").unwrap());
        assert!(!s.holds("pad").unwrap() && !s.holds("missing_key").unwrap());
    }

    #[test]
    fn layer_conditions_compare_and_test_membership() {
        let values = scope(&[
            ("first_k_dense_replace", Value::Number(2.0)),
            ("step", Value::Number(2.0)),
            ("mlp_only_layers", Value::List(vec![0.0, 3.0])),
            ("empty", Value::List(vec![])),
            ("none", Value::Null),
            ("q_lora_rank", Value::Null),
            ("tie", Value::Bool(false)),
        ]);
        let at = |i: usize, condition: &str| {
            Scope {
                values: &values,
                where_: "config.json",
                index: Some(i),
            }
            .holds(condition)
            .unwrap()
        };
        let dense: Vec<bool> = (0..4)
            .map(|i| at(i, "i >= first_k_dense_replace"))
            .collect();
        assert_eq!(dense, [false, false, true, true]);
        let sparse = "i not in mlp_only_layers and (i + 1) % step == 0";
        let moe: Vec<bool> = (0..6).map(|i| at(i, sparse)).collect();
        assert_eq!(moe, [false, true, false, false, false, true]);
        assert!(at(3, "i in mlp_only_layers") && !at(1, "i in mlp_only_layers"));
        assert!(!at(0, "i in empty") && !at(0, "i in none") && at(0, "i not in none"));
        assert!(!at(0, "q_lora_rank") && at(0, "not q_lora_rank"));
        assert!(at(0, "tie or not (tie or q_lora_rank)"));
        assert!(at(5, "(i == 5) and not tie") && at(5, "(i - 1) / 2 == 2"));
        assert!(at(1, "i != 0 and i < 2 and i <= 1 and i > 0 and not i > 1"));
        assert!(at(1, "i") && !at(0, "i"));
        // Python's modulo: the divisor's sign.
        assert!(at(0, "-1 % 3 == 2"));
        let s = Scope {
            values: &values,
            where_: "config.json",
            index: None,
        };
        for (text, needle) in [
            ("1 in tie", "not a list"),
            ("1 in 2", "needs a key"),
            ("i > 1", "no 'i'"),
            ("step % 0", "division by zero (step = 2)"),
            ("i in mlp_only_layers", "no 'i'"),
            ("1 / (step - 2)", "step = 2"),
            ("and", "expected a number"),
            ("step == 2 step", "unexpected text"),
        ] {
            let err = s.holds(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
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
            index: None,
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
            ("1 == 1", "unexpected text"),
        ] {
            let err = s.number(text).unwrap_err().to_string();
            assert!(
                err.contains(needle) && err.starts_with("config.json"),
                "{text}: {err}"
            );
        }
        assert!(s.size("0 - 4").is_err() && s.size("2 * 1099511627776").is_err());
    }

    #[test]
    fn ceil_and_text_comparisons() {
        let values: BTreeMap<String, Value> = [
            ("hidden_size".to_string(), Value::Number(4096.0)),
            ("scheme".to_string(), Value::Text("random".into())),
        ]
        .into_iter()
        .collect();
        let s = Scope {
            values: &values,
            where_: "config.json",
            index: None,
        };
        assert_eq!(s.size("ceil(hidden_size / 3000)").unwrap(), 2);
        assert!(s.holds("scheme == 'random'").unwrap() && !s.holds("scheme != 'random'").unwrap());
        assert!(!s.holds("scheme == 'constant'").unwrap() && s.holds("scheme != 'x'").unwrap());
        assert!(!s.holds("missing == 'random'").unwrap());
        assert!(s.holds("scheme == random").is_err());
    }
}

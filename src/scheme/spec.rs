//! A scheme as typed, `name:key=value,...`: parsing, display (canonical, and parsed
//! back to the same scheme) and parameters set by name.

use std::fmt;
use std::str::FromStr;

use super::params::{ParamKey, Params};
use super::table::SchemeKind;
use crate::error::{Error, Result};

/// A scheme with its parameters, as typed: `he-uniform:mode=fan-out`.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemeSpec {
    pub kind: SchemeKind,
    pub params: Params,
}

impl SchemeSpec {
    /// A scheme with no parameters set (defaults apply at resolution).
    pub fn new(kind: SchemeKind) -> Self {
        SchemeSpec {
            kind,
            params: Params::default(),
        }
    }

    /// The canonical name.
    pub fn name(&self) -> &'static str {
        self.kind.info().name
    }

    /// Sets a parameter from its text, checking it is one this scheme takes.
    pub fn set_param(&mut self, key: ParamKey, text: &str) -> Result<()> {
        self.check_applies(key)?;
        self.params.set_text(key, text)
    }

    fn check_applies(&self, key: ParamKey) -> Result<()> {
        let info = self.kind.info();
        if info.params.contains(&key) {
            return Ok(());
        }
        let takes = if info.params.is_empty() {
            "it takes no parameters".to_string()
        } else {
            let names: Vec<&str> = info.params.iter().map(|k| k.name()).collect();
            format!("it takes: {}", names.join(", "))
        };
        Err(Error::Param(format!(
            "parameter '{key}' does not apply to scheme '{}'; {takes}",
            info.name
        )))
    }
}

impl FromStr for SchemeSpec {
    type Err = Error;

    /// Parses `name` or `name:key=value,key=value`.
    fn from_str(text: &str) -> Result<SchemeSpec> {
        let (name, rest) = match text.split_once(':') {
            Some((name, rest)) => (name, Some(rest)),
            None => (text, None),
        };
        let mut spec = SchemeSpec::new(SchemeKind::lookup(name)?);
        if let Some(rest) = rest {
            let params: Params = rest.parse()?;
            for key in params.keys() {
                spec.check_applies(key)?;
            }
            spec.params = params;
        }
        Ok(spec)
    }
}

impl fmt::Display for SchemeSpec {
    /// The canonical spelling; parsing it gives back an equal spec.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        if !self.params.is_empty() {
            write!(f, ":{}", self.params)?;
        }
        Ok(())
    }
}

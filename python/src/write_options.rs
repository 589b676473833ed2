//! `write()`'s keyword arguments as the library's [`GenRequest`], run in this process:
//! no command line in between. Each keyword is one of `weightinit gen`'s options with `_`
//! for `-` (`hf_config` is `--hf-config`); the Python package has already turned its
//! values into text, booleans, whole numbers or lists of text (`shape` as `784x128`).

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

use weightinit::names::Choice;
use weightinit::request::GenRequest;
use weightinit::scheme::ParamKey;

/// What `write()` asks for besides the request: the memory budget and the report.
pub(crate) struct WriteCall {
    pub request: GenRequest,
    /// `--max-memory`: a size (`8GiB`, `512MB`) or a share of memory (`90%`).
    pub max_memory: Option<String>,
    /// `none` (the default), `human` (gen's table on stderr) or `json` (on stdout).
    pub report: String,
}

/// One option's value as text (numbers and paths arrive as text already).
fn text(key: &str, value: &Bound<'_, PyAny>) -> PyResult<String> {
    value.extract::<String>().map_err(|_| {
        crate::invalid(format!(
            "write() option {key}: expected text, got {}",
            value
                .get_type()
                .name()
                .map_or("?".into(), |n| n.to_string())
        ))
    })
}

/// One option's values: a list of text, or one text.
fn texts(key: &str, value: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if value.is_instance_of::<PyString>() {
        return Ok(vec![text(key, value)?]);
    }
    let list = value
        .cast::<PyList>()
        .map_err(|_| crate::invalid(format!("write() option {key}: expected a list of text")))?;
    list.iter().map(|v| text(key, &v)).collect()
}

fn choice<T: Choice>(key: &str, value: &Bound<'_, PyAny>) -> PyResult<T> {
    crate::parse_choice(key, &text(key, value)?)
}

/// A yes/no option: a bool, or the text `true`/`false` (as gen's `--jax-partitionable`).
fn flag(key: &str, value: &Bound<'_, PyAny>) -> PyResult<bool> {
    if let Ok(b) = value.extract::<bool>() {
        return Ok(b);
    }
    match text(key, value)?.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(crate::invalid(format!(
            "write() option {key}: '{other}' is neither true nor false"
        ))),
    }
}

/// The request `write(path, **options)` asks for.
pub(crate) fn request_from(output: String, options: &Bound<'_, PyDict>) -> PyResult<WriteCall> {
    let mut request = GenRequest {
        output: Some(PathBuf::from(output)),
        ..GenRequest::default()
    };
    let mut max_memory = None;
    let mut report = "none".to_string();
    for (key, value) in options.iter() {
        let key: String = key.extract()?;
        if value.is_none() {
            continue;
        }
        let v = &value;
        let k = key.as_str();
        match k {
            "scheme" => request.scheme = Some(text(k, v)?),
            "shape" => request.shape = texts(k, v)?,
            "preset" => request.preset = Some(choice(k, v)?),
            "like" => request.like = Some(text(k, v)?.into()),
            "hf_config" => request.hf_config = Some(text(k, v)?.into()),
            "recipe" => request.recipe = Some(text(k, v)?),
            "hf_experts" => request.hf_experts = Some(choice(k, v)?),
            "rule" | "rules" => request.rules = texts(k, v)?,
            "shard" => request.shard = Some(text(k, v)?),
            "max_shard_size" => request.max_shard_size = Some(text(k, v)?),
            "default" => request.default_scheme = Some(text(k, v)?),
            "spec" => request.spec = Some(text(k, v)?.into()),
            "layers" => request.layers = Some(text(k, v)?),
            "activation" => request.activation = Some(choice(k, v)?),
            "bias" => request.bias = Some(text(k, v)?),
            "name" | "names" => request.name = texts(k, v)?,
            "mup_base" => request.mup_base = Some(text(k, v)?),
            "mup_zero_readout" => request.mup_zero_readout = texts(k, v)?,
            "layout" => request.layout = choice(k, v)?,
            "dtype" => request.dtype = Some(choice(k, v)?),
            "seed" => request.seed = Some(text(k, v)?),
            "rng" => request.rng = choice(k, v)?,
            "jax_key" => request.jax_key = Some(text(k, v)?),
            "jax_partitionable" => request.jax_partitionable = flag(k, v)?,
            "jax_x64" => request.jax_x64 = flag(k, v)?,
            "format" => request.format = Some(choice(k, v)?),
            "force" => request.force = flag(k, v)?,
            "fsync" => request.fsync = flag(k, v)?,
            "dry_run" => request.dry_run = flag(k, v)?,
            "threads" => {
                request.threads = Some(v.extract::<usize>().map_err(|_| {
                    crate::invalid("write() option threads: expected a whole number")
                })?)
            }
            "max_memory" => max_memory = Some(text(k, v)?),
            "report" => report = text(k, v)?,
            _ => {
                let flag_name = k.replace('_', "-");
                match ParamKey::ALL.iter().find(|(_, name)| *name == flag_name) {
                    Some((param, _)) => request.params.push((*param, text(k, v)?)),
                    None => {
                        return Err(crate::invalid(format!(
                            "write() got an unknown option '{k}': --{flag_name} is not one of \
                             weightinit gen's options"
                        )));
                    }
                }
            }
        }
    }
    if !matches!(report.as_str(), "none" | "human" | "json") {
        return Err(crate::invalid(format!(
            "write() option report: '{report}' is not one of none, human, json"
        )));
    }
    Ok(WriteCall {
        request,
        max_memory,
        report,
    })
}

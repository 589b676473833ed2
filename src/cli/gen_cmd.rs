//! `weightinit gen`: the flags become a [`GenRequest`](crate::request::GenRequest), which the library checks, plans
//! and runs; this prints the dry run's plan or the variance report.

use std::io::Write;

pub use super::gen_args::{GenArgs, ReportMode};
use super::progress;
use crate::check::report::{TensorReport, render_human, render_json};
use crate::error::{Error, Result};
use crate::request::{Outcome, run as run_request};

pub fn run(args: GenArgs) -> Result<()> {
    let report = args.report;
    let request = args.into_request();
    match run_request(&request, &mut progress::Bar::default())? {
        Outcome::Planned(plan) => super::dry_run::print(&plan, report),
        Outcome::Written {
            reports,
            data_on_stdout,
        } => emit_report(report, &reports, data_on_stdout),
    }
}

fn emit_report(mode: ReportMode, reports: &[TensorReport], data_on_stdout: bool) -> Result<()> {
    let text = match mode {
        ReportMode::None => return Ok(()),
        ReportMode::Human => render_human(reports),
        ReportMode::Json => render_json(reports),
    };
    let result = if mode == ReportMode::Json && !data_on_stdout {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush())
    } else {
        std::io::stderr().lock().write_all(text.as_bytes())
    };
    result.map_err(|e| Error::io("<report>", e))
}

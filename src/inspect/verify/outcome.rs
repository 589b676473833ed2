//! One check of a tensor and its outcome: the unit `verify` reports in.

use serde::Serialize;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// Not run, and why is in the detail (too few values, rows too short ...).
    Skipped,
}

/// One check of one tensor, with every number it used.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// `finite`, `mean`, `variance`, `bounds`, `ks`, `values`, `orthogonality`, `rows`,
    /// `columns`.
    pub check: &'static str,
    pub status: Status,
    /// The measured quantity (mean, variance, min/max, KS distance, error, count).
    pub observed: Option<f64>,
    /// What the law says it should be.
    pub expected: Option<f64>,
    /// The test statistic: z for mean and variance, the p-value for KS.
    pub statistic: Option<f64>,
    /// The limit the statistic (or the observed value) is held to.
    pub limit: Option<f64>,
    /// The line the human report prints.
    pub detail: String,
}

impl Check {
    pub(super) fn new(check: &'static str, passed: bool, detail: String) -> Check {
        Check {
            check,
            status: if passed { Status::Pass } else { Status::Fail },
            observed: None,
            expected: None,
            statistic: None,
            limit: None,
            detail,
        }
    }

    pub(super) fn skipped(check: &'static str, detail: String) -> Check {
        Check {
            status: Status::Skipped,
            ..Check::new(check, true, detail)
        }
    }

    pub(super) fn numbers(
        mut self,
        observed: f64,
        expected: Option<f64>,
        statistic: Option<f64>,
        limit: f64,
    ) -> Check {
        self.observed = Some(observed);
        self.expected = expected;
        self.statistic = statistic;
        self.limit = Some(limit);
        self
    }
}

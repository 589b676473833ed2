//! The law of Mamba's dt bias (`mamba-dt-bias`): its exact CDF, its density and its
//! moments by quadrature, and the softplus pair it is built on.

use super::Theory;

/// ln(eˣ − 1), the inverse of softplus(y) = ln(1 + eʸ), for x > 0, written as
/// x + ln(−expm1(−x)) so that it neither overflows for large x nor cancels for small x
/// (the form PyTorch issue 72759 gives, which transformers' Mamba init uses).
pub fn inverse_softplus(x: f64) -> f64 {
    x + libm::log(-libm::expm1(-x))
}

/// softplus(y) = ln(1 + eʸ), without overflow for large y.
pub fn softplus(y: f64) -> f64 {
    if y > 0.0 {
        y + libm::log1p(libm::exp(-y))
    } else {
        libm::log1p(libm::exp(y))
    }
}

/// The law of Mamba's dt bias (Gu & Dao 2023, the `mamba_ssm` reference init, as
/// transformers' `MambaMixer.init_mamba_weights` computes it): Y = g(D) with
/// g = [`inverse_softplus`] and D = max(exp(a + U·(b − a)), floor), a = ln dt_min,
/// b = ln dt_max, U uniform on [0, 1).
///
/// **CDF, exact.** g is increasing with inverse softplus, so P(Y ≤ y) = P(D ≤ s) with
/// s = softplus(y): 0 below g(max(dt_min, floor)) (D is never below the floor), else
/// max(P(floor), clamp((ln s − a)/(b − a), 0, 1)). When floor > dt_min, D equals the
/// floor with probability P(floor) = (ln floor − a)/(b − a): an atom at g(floor), the
/// CDF's jump there.
///
/// **Moments, by quadrature.** With t = ln D before flooring (uniform on [a, b]),
/// E[h(Y)] = P(floor)·h(g(floor)) + (1/(b − a))·∫ h(g(eᵗ)) dt over [max(a, ln floor), b];
/// the mean, then the second and fourth central moments, by composite Simpson's rule on
/// 4096 intervals (the integrand is analytic in t, so the error is far below the
/// statistical tests' resolution: checked against 65536 intervals in the unit tests).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DtBias {
    pub dt_min: f64,
    pub dt_max: f64,
    pub floor: f64,
}

/// Simpson intervals for the dt bias's moments (even).
const DT_BIAS_INTERVALS: usize = 4096;

impl DtBias {
    pub fn new(dt_min: f64, dt_max: f64, floor: f64) -> DtBias {
        DtBias {
            dt_min,
            dt_max,
            floor,
        }
    }

    fn log_range(&self) -> (f64, f64) {
        (libm::log(self.dt_min), libm::log(self.dt_max))
    }

    /// The smallest dt the law produces: max(dt_min, floor).
    pub fn smallest_dt(&self) -> f64 {
        self.dt_min.max(self.floor)
    }

    /// The smallest value, g(max(dt_min, floor)).
    pub fn low(&self) -> f64 {
        inverse_softplus(self.smallest_dt())
    }

    /// The largest value, g(dt_max) (reached only in the limit U → 1).
    pub fn high(&self) -> f64 {
        inverse_softplus(self.dt_max)
    }

    /// P(D = floor): the probability that the floor lifts dt (0 when floor ≤ dt_min).
    pub fn floor_mass(&self) -> f64 {
        if self.floor <= self.dt_min {
            return 0.0;
        }
        let (a, b) = self.log_range();
        ((libm::log(self.floor) - a) / (b - a)).clamp(0.0, 1.0)
    }

    /// P(Y ≤ y). The atom at g(floor) is counted from a few ulps below the value this
    /// function's arithmetic gives it, so that a sampler whose own exp and ln land an ulp
    /// lower still finds the jump where it put its values.
    pub fn cdf(&self, y: f64) -> f64 {
        let low = self.low();
        if y < low - 8.0 * f64::EPSILON * low.abs() {
            return 0.0;
        }
        let (a, b) = self.log_range();
        let continuous = ((libm::log(softplus(y)) - a) / (b - a)).clamp(0.0, 1.0);
        continuous.max(self.floor_mass())
    }

    /// The density of the continuous part (the atom at the floor, if any, aside):
    /// 1/((b − a)·s) · ds/dy with s = softplus(y), ds/dy = 1/(1 + e^−y).
    pub fn pdf(&self, y: f64) -> f64 {
        if !(self.low()..=self.high()).contains(&y) {
            return 0.0;
        }
        let (a, b) = self.log_range();
        let s = softplus(y);
        1.0 / ((b - a) * s * (1.0 + libm::exp(-y)))
    }

    /// E[h(Y)] by the quadrature above.
    fn expect(&self, h: impl Fn(f64) -> f64) -> f64 {
        let (a, b) = self.log_range();
        let mass = self.floor_mass();
        let start = if mass > 0.0 { libm::log(self.floor) } else { a };
        let n = DT_BIAS_INTERVALS;
        let step = (b - start) / n as f64;
        let f = |t: f64| h(inverse_softplus(libm::exp(t)));
        let mut sum = f(start) + f(b);
        for i in 1..n {
            let weight = if i % 2 == 1 { 4.0 } else { 2.0 };
            sum += weight * f(start + step * i as f64);
        }
        let continuous = sum * step / 3.0 / (b - a);
        let atom = if mass > 0.0 {
            mass * h(inverse_softplus(self.floor))
        } else {
            0.0
        };
        atom + continuous
    }

    pub fn theory(&self) -> Theory {
        let mean = self.expect(|y| y);
        let variance = self.expect(|y| (y - mean).powi(2));
        Theory {
            mean,
            variance,
            std: variance.sqrt(),
            low: Some(self.low()),
            high: Some(self.high()),
            fourth_moment: self.expect(|y| (y - mean).powi(4)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::Distribution;

    #[test]
    fn dt_bias_quadrature_has_converged() {
        // The Simpson sums on 4096 intervals against 16 times as many.
        for (lo, hi, floor) in [(0.001, 0.1, 1e-4), (0.002, 0.2, 0.005), (1e-4, 10.0, 0.0)] {
            let law = DtBias::new(lo, hi, floor);
            let t = law.theory();
            let fine = |h: &dyn Fn(f64) -> f64| {
                let (a, b) = law.log_range();
                let mass = law.floor_mass();
                let start = if mass > 0.0 { floor.ln() } else { a };
                let n = 65536;
                let step = (b - start) / n as f64;
                let f = |t: f64| h(inverse_softplus(t.exp()));
                let mut sum = f(start) + f(b);
                for i in 1..n {
                    sum += if i % 2 == 1 { 4.0 } else { 2.0 } * f(start + step * i as f64);
                }
                let atom = if mass > 0.0 {
                    mass * h(inverse_softplus(floor))
                } else {
                    0.0
                };
                atom + sum * step / 3.0 / (b - a)
            };
            let mean = fine(&|y| y);
            let variance = fine(&|y| (y - mean).powi(2));
            let fourth = fine(&|y| (y - mean).powi(4));
            assert!(
                (t.mean - mean).abs() < 1e-9 * variance.sqrt(),
                "{lo} {hi}: mean {} vs {mean}",
                t.mean
            );
            assert!(
                (t.variance - variance).abs() < 1e-9 * variance,
                "{lo} {hi}: variance {} vs {variance}",
                t.variance
            );
            assert!(
                (t.fourth_moment - fourth).abs() < 1e-8 * fourth,
                "{lo} {hi}: fourth"
            );
        }
    }

    #[test]
    fn dt_bias_pdf_is_the_derivative_of_its_cdf_and_the_atom_is_the_jump() {
        let d = Distribution::MambaDtBias {
            dt_min: 0.001,
            dt_max: 0.1,
            floor: 0.005,
        };
        let law = DtBias::new(0.001, 0.1, 0.005);
        let (low, high) = (law.low(), law.high());
        for k in 1..50 {
            let x = low + (high - low) * k as f64 / 50.0;
            let h = 1e-6;
            let numeric = (d.cdf(x + h).unwrap() - d.cdf(x - h).unwrap()) / (2.0 * h);
            let pdf = d.pdf(x).unwrap();
            assert!(
                (numeric - pdf).abs() <= 1e-6 * (1.0 + pdf),
                "{x}: {pdf} {numeric}"
            );
        }
        assert_eq!(d.cdf(low - 1e-9), Some(0.0));
        assert!((d.cdf(low).unwrap() - 5f64.ln() / 100f64.ln()).abs() < 1e-15);
        assert_eq!(d.cdf(high + 1e-9), Some(1.0));
        assert!(d.is_elementwise());
        assert!(!Distribution::S4dRealLog { last: 4 }.is_elementwise());
        assert_eq!(d.reach(0.0), low.abs());
    }
}

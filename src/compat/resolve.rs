//! A tensor's law in its stream's terms: [`TensorSpec::resolve`] reads the scheme against
//! the shape (the scheme table), lets the tensor's stream refuse it or say what it really
//! draws, and checks the values fit the dtype; [`ResolvedTensor::meta`] describes the
//! result with the stream's label and framework expression. These are methods of the
//! plain tensor types, written here because they need the streams, which `tensor/` must
//! not know.

use super::stream;
use super::stream::unreproducible;
use crate::array::DType;
use crate::error::Result;
use crate::law::Distribution;
use crate::scheme::SchemeSpec;
use crate::tensor::{ResolvedTensor, TensorMeta, TensorSpec};

impl TensorSpec {
    /// Resolves the scheme against the shape and reads it in the tensor's stream's terms;
    /// fails with a one-line reason when it does not apply or the stream cannot
    /// reproduce it.
    pub fn resolve(self) -> Result<ResolvedTensor> {
        let mut resolved = self.scheme.resolve(&self.shape, self.layout)?;
        check_representable(&self.scheme, &resolved.distribution, self.dtype)?;
        let native_law = resolved.distribution;
        stream(self.rng)
            .adapt(&self, &mut resolved)
            .map_err(|why| unreproducible(&self, why))?;
        if resolved.distribution != native_law {
            check_representable(&self.scheme, &resolved.distribution, self.dtype)?;
        }
        Ok(ResolvedTensor {
            spec: self,
            resolved,
            zero_row: None,
            torch_replay: None,
        })
    }
}

/// How far from the mean, in standard deviations, a normal's values are taken to reach
/// when checking that they fit the dtype: one value in 10⁹ lies beyond 6σ. (The native
/// stream's f32 path cannot go past 6.77σ, its f64 path past 9.50σ; the framework streams
/// have no hard limit.) A draw beyond it that still overflows is caught after drawing
/// ([`crate::pipeline::generate`] refuses to commit a tensor holding ±inf).
pub const NORMAL_REACH: f64 = 6.0;

/// Refuses a law whose values cannot be stored in `dtype`: a constant, bound or gain
/// beyond the dtype's largest finite value, or a normal whose mean ± [`NORMAL_REACH`]σ
/// is. Without this, f16's 65504 limit turns `constant:value=70000` into a file of inf.
fn check_representable(
    scheme: &SchemeSpec,
    distribution: &Distribution,
    dtype: DType,
) -> Result<()> {
    use Distribution as D;
    if let D::TruncatedNormal {
        mean,
        std,
        low,
        high,
    } = *distribution
    {
        check_window_mass(scheme, (low - mean) / std, (high - mean) / std, dtype)?;
    }
    let reach = distribution.reach(NORMAL_REACH);
    let largest = crate::scheme::shortest(dtype.largest_finite());
    if crate::check::stored_value(dtype, reach).is_finite() {
        return Ok(());
    }
    let reach_text = if reach.is_finite() {
        crate::scheme::shortest(reach)
    } else {
        "beyond even f64's range".to_string()
    };
    let what = match distribution {
        D::Normal { .. } => format!(
            "its values reach {NORMAL_REACH} standard deviations from the mean, ±{reach_text}"
        ),
        _ => format!("its values reach {reach_text}"),
    };
    Err(crate::error::Error::Param(format!(
        "scheme '{scheme}' cannot be stored as {dtype}: {what}, beyond the largest finite \
         {dtype}, {largest}; use a wider dtype or smaller values"
    )))
}

/// Refuses a truncation window too far out for the dtype's arithmetic: the inverse CDF
/// works with the window's mass divided by 2³² (f32 path) or 2⁶⁴ (f64 path), which must
/// stay a normal number (see [`crate::draw::truncated`]).
fn check_window_mass(scheme: &SchemeSpec, alpha: f64, beta: f64, dtype: DType) -> Result<()> {
    use crate::draw::truncated::{MIN_MASS_F32, MIN_MASS_F64, Probabilities};
    let mass = Probabilities::of_window(alpha, beta).mass;
    let (least, least_text) = if dtype == DType::F64 {
        (MIN_MASS_F64, "2^-360")
    } else {
        (MIN_MASS_F32, "2^-90")
    };
    if mass >= least {
        return Ok(());
    }
    Err(crate::error::Error::Param(format!(
        "scheme '{scheme}' truncates to a window holding {} of the normal's mass; {dtype} \
         draws need at least {least_text} ({}); move the bounds toward the mean{}",
        crate::text::num(mass),
        crate::text::num(least),
        if dtype == DType::F64 {
            ""
        } else {
            " or use --dtype f64"
        }
    )))
}

impl ResolvedTensor {
    /// For a framework stream, the framework code that computes this tensor's values as
    /// `w` (for `--rng numpy`: given `rng = np.random.default_rng(seed)`, from which the
    /// run's earlier tensors were drawn first).
    pub fn equivalent(&self) -> Option<String> {
        stream(self.spec.rng).equivalent(self)
    }

    /// The metadata recorded in JSON output, manifests and reports.
    pub fn meta(&self) -> TensorMeta {
        let s = &self.spec;
        let r = &self.resolved;
        let theory = r.distribution.theory();
        TensorMeta {
            name: s.name.clone(),
            shape: s.shape.dims().to_vec(),
            dtype: s.dtype,
            layout: s.layout,
            scheme: s.scheme.to_string(),
            scheme_name: s.scheme.name(),
            params: s.scheme.params.to_json(),
            fan_in: r.fans.map(|f| f.fan_in),
            fan_out: r.fans.map(|f| f.fan_out),
            receptive_field: r.fans.map(|f| f.receptive_field),
            gain: r.gain,
            fan_mode: r.fan_mode.map(|m| m.name()),
            fan: r.fan,
            distribution: r.distribution,
            std: theory.map(|t| t.std),
            bound: match r.distribution {
                Distribution::Uniform { low, high } if low == -high => Some(high),
                _ => None,
            },
            seed: s.seed,
            rng: s.rng,
            stream: stream(s.rng).label(s),
            equivalent: self.equivalent(),
            generator: concat!("weightinit ", env!("CARGO_PKG_VERSION")),
        }
    }
}

//! Laws with structure beyond independent draws: orthogonal matrices, identity, Dirac
//! and delta-orthogonal kernels, the LSTM forget-gate bias and sparse weights.

use super::build::{Request, Resolved, positive, whole_number};
use super::params::ParamKey;
use crate::error::{Error, Result};
use crate::law::Distribution;
use crate::scheme::gain::Nonlinearity;

/// Saxe, McClelland & Ganguli 2014, "Exact solutions to the nonlinear dynamics
/// of learning in deep linear neural networks", ICLR: orthogonal weights keep
/// every singular value at gain; drawn as in draw::orthogonal (Mezzadri 2007).
pub(super) fn orthogonal(r: &Request, resolved: &mut Resolved) -> Result<Distribution> {
    r.need_fans().map_err(|_| {
        r.not_applicable("orthogonal needs at least 2 dimensions (rows and columns)")
    })?;
    let gain = r.spec.gain(Nonlinearity::Linear)?;
    resolved.gain = Some(gain);
    Ok(Distribution::Orthogonal {
        gain,
        blocks: r.blocks,
    })
}

/// `identity`: gain·I of a 2-D weight (PyTorch's `eye_`, Keras' `Identity`), the
/// signal passed through unchanged.
pub(super) fn identity(r: &Request, resolved: &mut Resolved) -> Result<Distribution> {
    if r.shape.rank() != 2 {
        return Err(r.not_applicable(&format!(
            "identity needs a 2-D shape, this one has {} dimension{}",
            r.shape.rank(),
            if r.shape.rank() == 1 { "" } else { "s" }
        )));
    }
    let gain = r.spec.gain(Nonlinearity::Linear)?;
    resolved.gain = Some(gain);
    Ok(Distribution::Identity { gain })
}

/// PyTorch's `dirac_(tensor, groups)`: a convolution that passes each input
/// channel through unchanged (Zagoruyko & Komodakis 2017, "DiracNets"),
/// times gain. `grouped` above checked that groups divides the output channels.
pub(super) fn dirac(r: &Request, resolved: &mut Resolved) -> Result<Distribution> {
    if r.shape.rank() < 3 {
        return Err(r.not_applicable(&format!(
            "dirac needs a convolution kernel (3 or more dimensions: channels and \
             kernel axes), this shape has {}",
            r.shape.rank()
        )));
    }
    let gain = r.spec.gain(Nonlinearity::Linear)?;
    resolved.gain = Some(gain);
    let groups = match r.spec.params.number(ParamKey::Groups) {
        Some(g) => whole_number(ParamKey::Groups, g)?,
        None => 1,
    };
    Ok(Distribution::Dirac { gain, groups })
}

/// Xiao, Bahri, Sohl-Dickstein, Schoenholz & Pennington 2018, "Dynamical
/// Isometry and a Mean Field Theory of CNNs", ICML, Algorithm 2: an orthogonal
/// c_in × c_out matrix at the spatial centre, zeros elsewhere, which needs
/// c_in ≤ c_out (as JAX's `delta_orthogonal` requires).
pub(super) fn delta_orthogonal(r: &Request, resolved: &mut Resolved) -> Result<Distribution> {
    let f = r.need_fans()?;
    if r.shape.rank() < 3 {
        return Err(r.not_applicable(&format!(
            "delta-orthogonal needs a convolution kernel (3 or more dimensions), \
             this shape has {}",
            r.shape.rank()
        )));
    }
    let (inputs, outputs) = (
        f.fan_in / f.receptive_field.max(1),
        f.fan_out / f.receptive_field.max(1),
    );
    if inputs > outputs {
        return Err(r.not_applicable(&format!(
            "delta-orthogonal needs in channels ≤ out channels (an orthogonal \
             in x out matrix keeps every input's norm), this kernel has {inputs} in \
             and {outputs} out"
        )));
    }
    let gain = r.spec.gain(Nonlinearity::Linear)?;
    resolved.gain = Some(gain);
    Ok(Distribution::DeltaOrthogonal { gain })
}

/// Gers, Schmidhuber & Cummins 2000 and Jozefowicz, Zaremba & Sutskever 2015
/// ("An Empirical Exploration of Recurrent Network Architectures", §2.2): a
/// forget-gate bias of 1 lets gradients through from the start. Both PyTorch
/// (i, f, g, o) and Keras (i, f, c, o; `unit_forget_bias`) put the forget gate
/// second of four, so one layout serves both.
pub(super) fn lstm_bias(r: &Request) -> Result<Distribution> {
    if r.shape.rank() != 1 || !r.shape.dims()[0].is_multiple_of(4) {
        return Err(
            r.not_applicable("lstm-bias needs a 1-D bias of 4·hidden values (the four gates)")
        );
    }
    Ok(Distribution::LstmBias {
        forget: r.num(ParamKey::Forget, 1.0),
    })
}

/// Martens 2010, "Deep learning via Hessian-free optimization", §5, as
/// PyTorch's `sparse_(w, sparsity, std=0.01)` implements it: normal values,
/// then ⌈sparsity·rows⌉ zeros in every column of its out × in matrix, i.e.
/// for every input unit.
pub(super) fn sparse(r: &Request) -> Result<Distribution> {
    if r.shape.rank() != 2 {
        return Err(r.not_applicable(&format!(
            "sparse needs a 2-D weight (out x in or in x out), this shape has {} \
             dimension{}",
            r.shape.rank(),
            if r.shape.rank() == 1 { "" } else { "s" }
        )));
    }
    let sparsity = r.spec.params.number(ParamKey::Sparsity).ok_or_else(|| {
        Error::Param(
            "sparse needs sparsity, the fraction of each input's weights set to \
             0 (for example sparse:sparsity=0.9)"
                .into(),
        )
    })?;
    if !(0.0..=1.0).contains(&sparsity) {
        return Err(Error::Param(format!(
            "sparsity must be between 0 and 1, got {sparsity}"
        )));
    }
    let std = positive(ParamKey::Std, r.num(ParamKey::Std, 0.01))?;
    let out = r.fans.map_or(1, |f| f.fan_out);
    // Python's math.ceil(sparsity * rows), the same f64 product.
    let zeros = (sparsity * out as f64).ceil() as usize;
    Ok(Distribution::Sparse {
        std,
        sparsity,
        zeros: zeros.min(out),
        out,
    })
}

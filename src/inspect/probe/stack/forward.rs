//! The forward pass: weights drawn one tensor at a time as the pass needs them, norms,
//! attention's per-token value path, dense and mixture-of-experts MLPs.

use super::*;

/// A row-major `rows × cols` matrix of f64 (a row is one token).
#[derive(Debug, Clone, Default)]
pub(super) struct Mat {
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) data: Vec<f64>,
}

impl Mat {
    pub(super) fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
}

/// A linear map: weight row-major `out × in` (PyTorch's layout), optional bias.
pub(super) struct Linear {
    pub(super) out: usize,
    pub(super) inp: usize,
    pub(super) w: Vec<f64>,
    pub(super) bias: Option<Vec<f64>>,
}

impl Linear {
    /// y = x · Wᵀ + b.
    pub(super) fn apply(&self, x: &Mat) -> Mat {
        assert_eq!(x.cols, self.inp, "a linear map's input width");
        let mut y = Mat {
            rows: x.rows,
            cols: self.out,
            data: vec![0.0; x.rows * self.out],
        };
        faer::linalg::matmul::matmul(
            MatMut::from_row_major_slice_mut(&mut y.data, x.rows, self.out),
            Accum::Replace,
            MatRef::from_row_major_slice(&x.data, x.rows, x.cols),
            MatRef::from_row_major_slice(&self.w, self.out, self.inp).transpose(),
            1.0,
            // Sequential: the same bits whatever the thread count.
            Par::Seq,
        );
        if let Some(b) = &self.bias {
            for row in y.data.chunks_mut(self.out) {
                for (v, b) in row.iter_mut().zip(b) {
                    *v += b;
                }
            }
        }
        y
    }

    /// Output rows `from..to` only (a part of a fused projection).
    pub(super) fn rows(mut self, from: usize, to: usize) -> Linear {
        self.w = self.w[from * self.inp..to * self.inp].to_vec();
        self.bias = self.bias.map(|b| b[from..to].to_vec());
        self.out = to - from;
        self
    }

    /// The output rows in `ranges`, in order (MLA's value rows, head by head).
    pub(super) fn select(self, ranges: &[std::ops::Range<usize>]) -> Linear {
        let mut w = Vec::new();
        let mut bias = self.bias.as_ref().map(|_| Vec::new());
        for r in ranges {
            w.extend_from_slice(&self.w[r.start * self.inp..r.end * self.inp]);
            if let (Some(out), Some(b)) = (bias.as_mut(), &self.bias) {
                out.extend_from_slice(&b[r.clone()]);
            }
        }
        Linear {
            out: ranges.iter().map(|r| r.len()).sum(),
            inp: self.inp,
            w,
            bias,
        }
    }
}

/// `tensor` drawn as `gen` writes it, as f64.
pub(super) fn draw(tensor: &ResolvedTensor) -> Result<Vec<f64>> {
    use crate::array::dtype::Element;
    use crate::pipeline::generate::draw_array;
    pub(super) fn convert<E: Element>(t: &ResolvedTensor) -> Result<Vec<f64>> {
        let (a, _) = draw_array::<E>(t)?;
        Ok(a.iter().map(|v| v.to_f64()).collect())
    }
    match tensor.spec.dtype {
        DType::F32 => convert::<f32>(tensor),
        DType::F64 => convert::<f64>(tensor),
        DType::F16 => convert::<half::f16>(tensor),
        DType::Bf16 => convert::<half::bf16>(tensor),
        #[allow(unreachable_patterns)]
        other => Err(Error::Usage(format!(
            "probe --hf-config: tensor '{}' is {other}, which the stack model does not read",
            tensor.spec.name
        ))),
    }
}

/// One recipe's tensors by name, drawn on demand.
pub(super) struct Weights<'a> {
    pub(super) tensors: BTreeMap<&'a str, &'a ResolvedTensor>,
    pub(super) conv1d: bool,
    /// The config's query head count (for grouped-query attention).
    pub(super) heads: Option<usize>,
}

impl Weights<'_> {
    pub(super) fn get(&self, name: &str) -> Result<&ResolvedTensor> {
        self.tensors.get(name).copied().ok_or_else(|| {
            Error::Numerical(format!(
                "probe --hf-config: no tensor '{name}' was resolved"
            ))
        })
    }

    pub(super) fn vector(&self, name: &str) -> Result<Vec<f64>> {
        draw(self.get(name)?)
    }

    /// A linear map from a block's weight (Conv1D weights transposed to out × in) and
    /// its bias when the family has one.
    pub(super) fn linear(&self, name: &str) -> Result<Linear> {
        let t = self.get(name)?;
        let dims = t.spec.shape.dims();
        let [a, b] = dims[..] else {
            return Err(Error::Numerical(format!(
                "probe --hf-config: '{name}' is not 2-D"
            )));
        };
        let mut w = draw(t)?;
        let (out, inp) = if self.conv1d {
            let mut transposed = vec![0.0; w.len()];
            for i in 0..a {
                for j in 0..b {
                    transposed[j * a + i] = w[i * b + j];
                }
            }
            w = transposed;
            (b, a)
        } else {
            (a, b)
        };
        let bias = match name.strip_suffix(".weight") {
            Some(stem) if self.tensors.contains_key(format!("{stem}.bias").as_str()) => {
                Some(self.vector(&format!("{stem}.bias"))?)
            }
            _ => None,
        };
        Ok(Linear { out, inp, w, bias })
    }
}

/// Mean and variance over every entry.
pub(super) fn moments(m: &Mat) -> (f64, f64) {
    crate::inspect::probe::network::mean_variance(&m.data)
}

pub(super) fn rms(m: &Mat) -> f64 {
    (m.data.iter().map(|v| v * v).sum::<f64>() / m.data.len().max(1) as f64).sqrt()
}

pub(super) fn normalize(s: &Structure, w: &Weights, name: &str, x: &Mat) -> Result<Mat> {
    let scale = w.vector(name)?;
    let bias = match name.strip_suffix(".weight") {
        Some(stem) if w.tensors.contains_key(format!("{stem}.bias").as_str()) => {
            Some(w.vector(&format!("{stem}.bias"))?)
        }
        _ => None,
    };
    Ok(norm_rows(s.norm, s.eps, &scale, bias.as_deref(), x))
}

/// Each row normalized: RMSNorm, Gemma's (1 + w) RMSNorm, or LayerNorm (with a bias).
pub(super) fn norm_rows(
    kind: NormKind,
    eps: f64,
    scale: &[f64],
    bias: Option<&[f64]>,
    x: &Mat,
) -> Mat {
    let mut out = x.clone();
    let n = x.cols as f64;
    for row in out.data.chunks_mut(x.cols) {
        let mean = if kind == NormKind::Layer {
            row.iter().sum::<f64>() / n
        } else {
            0.0
        };
        let ms = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let inv = 1.0 / (ms + eps).sqrt();
        for (j, v) in row.iter_mut().enumerate() {
            let g = if kind == NormKind::RmsOffset {
                1.0 + scale[j]
            } else {
                scale[j]
            };
            *v = (*v - mean) * inv * g + bias.map_or(0.0, |b| b[j]);
        }
    }
    out
}

/// The attention branch: o(v(h)), each query head reading its key-value head's value.
pub(super) fn attention(plan: &LayerPlan, w: &Weights, h: &Mat) -> Result<Mat> {
    let o = w.linear(&plan.o)?;
    let v = match &plan.value {
        ValueSource::Own(name) => w.linear(name)?,
        ValueSource::Fused(name) => {
            // q | k | v rows, q as wide as o's input, k and v alike.
            let qkv = w.linear(name)?;
            let q = o.inp;
            let kv = qkv.out.saturating_sub(q) / 2;
            if q + 2 * kv != qkv.out {
                return Err(Error::Usage(format!(
                    "probe --hf-config: cannot split '{name}' ({} rows) into q ({q}), k and v",
                    qkv.out
                )));
            }
            qkv.rows(q + kv, q + 2 * kv)
        }
        ValueSource::Latent {
            down,
            norm,
            up,
            rank,
            nope,
            v,
        } => {
            // compressed_kv = kv_a_proj_with_mqa(h); kv_nope = its first kv_lora_rank
            // outputs (the rest is the rotary key), through kv_a_layernorm (ε 1e-6).
            let a = w.linear(down)?;
            if a.out < *rank {
                return Err(Error::Usage(format!(
                    "probe --hf-config: '{down}' has {} rows, fewer than kv_lora_rank {rank}",
                    a.out
                )));
            }
            let latent = a.rows(0, *rank).apply(h);
            let latent = norm_rows(NormKind::Rms, 1e-6, &w.vector(norm)?, None, &latent);
            // kv_b_proj's rows are per head: qk_nope_head_dim key rows, v_head_dim value rows.
            let b = w.linear(up)?;
            let per_head = nope + v;
            if per_head == 0 || b.out % per_head != 0 || b.out / per_head * v != o.inp {
                return Err(Error::Usage(format!(
                    "probe --hf-config: '{up}' ({} rows) does not split into heads of \
                     {nope} key and {v} value rows feeding o's {} inputs",
                    b.out, o.inp
                )));
            }
            let heads = b.out / per_head;
            let values = b.select(
                &(0..heads)
                    .map(|h| h * per_head + nope..(h + 1) * per_head)
                    .collect::<Vec<_>>(),
            );
            return Ok(o.apply(&values.apply(&latent)));
        }
    };
    let mut values = v.apply(h);
    if values.cols != o.inp {
        // Grouped-query attention: query head j reads key-value head j / group.
        if values.cols == 0 || !o.inp.is_multiple_of(values.cols) {
            return Err(Error::Usage(format!(
                "probe --hf-config: the value width {} does not divide the output projection's {}",
                values.cols, o.inp
            )));
        }
        let heads_kv = kv_heads(w, values.cols, o.inp)?;
        let head_dim = values.cols / heads_kv;
        let group = o.inp / values.cols;
        let mut wide = Mat {
            rows: values.rows,
            cols: o.inp,
            data: Vec::with_capacity(values.rows * o.inp),
        };
        for i in 0..values.rows {
            let row = values.row(i);
            for kv in 0..heads_kv {
                for _ in 0..group {
                    wide.data
                        .extend_from_slice(&row[kv * head_dim..(kv + 1) * head_dim]);
                }
            }
        }
        values = wide;
    }
    Ok(o.apply(&values))
}

/// The number of key-value heads, from the value width and the config's head count.
pub(super) fn kv_heads(w: &Weights, value_width: usize, query_width: usize) -> Result<usize> {
    let heads = w.heads.ok_or_else(|| {
        Error::Usage("probe --hf-config: the config names no num_attention_heads".into())
    })?;
    let head_dim = query_width / heads.max(1);
    if head_dim == 0 || !value_width.is_multiple_of(head_dim) {
        return Err(Error::Usage(format!(
            "probe --hf-config: {heads} heads over {query_width} query units do not split the \
             value width {value_width}"
        )));
    }
    Ok(value_width / head_dim)
}

/// act(gate) ⊙ up, gate the first half of each row of `both` (Phi-3's and the fused
/// experts' `chunk(2, -1)`).
pub(super) fn gated_halves(act: Act, both: &Mat) -> Mat {
    let half = both.cols / 2;
    let mut out = Mat {
        rows: both.rows,
        cols: half,
        data: Vec::with_capacity(both.rows * half),
    };
    for i in 0..both.rows {
        let row = both.row(i);
        out.data.extend(
            row[..half]
                .iter()
                .zip(&row[half..])
                .map(|(g, u)| act.apply(*g) * u),
        );
    }
    out
}

pub(super) fn dense_mlp(s: &Structure, dense: &Dense, w: &Weights, h: &Mat) -> Result<Mat> {
    let hidden = match &dense.source {
        MlpSource::Gated { gate, up } => {
            let mut g = w.linear(gate)?.apply(h);
            let u = w.linear(up)?.apply(h);
            for (g, u) in g.data.iter_mut().zip(&u.data) {
                *g = s.act.apply(*g) * u;
            }
            g
        }
        // Phi-3: gate first, up second (`gate, up = gate_up_proj(x).chunk(2, -1)`).
        MlpSource::FusedGateUp(name) => gated_halves(s.act, &w.linear(name)?.apply(h)),
        MlpSource::Plain { up } => {
            let mut u = w.linear(up)?.apply(h);
            u.data.iter_mut().for_each(|v| *v = s.act.apply(*v));
            u
        }
    };
    Ok(w.linear(&dense.down)?.apply(&hidden))
}

/// The MLP branch: the dense MLP, or the routed experts plus the shared ones.
pub(super) fn mlp(
    s: &Structure,
    plan: &LayerPlan,
    w: &Weights,
    h: &Mat,
) -> Result<(Mat, Option<Routing>)> {
    let shared = match &plan.dense {
        Some(dense) => Some(dense_mlp(s, dense, w, h)?),
        None => None,
    };
    let (Some(moe), Some(router)) = (&plan.moe, &s.router) else {
        return shared
            .map(|m| (m, None))
            .ok_or_else(|| Error::Numerical("probe --hf-config: a layer without an MLP".into()));
    };
    let (mut out, routing) = experts(s.act, moe, router, w, h)?;
    let routing = Routing {
        shared_variance: shared.as_ref().map(|m| moments(m).1),
        ..routing
    };
    if let Some(shared) = shared {
        for (o, v) in out.data.iter_mut().zip(&shared.data) {
            *o += v;
        }
    }
    Ok((out, Some(routing)))
}

/// One tensor of a layer's experts at a time: a stack is drawn once and sliced per expert,
/// a per-expert tensor drawn when its expert is reached.
pub(super) struct ExpertSource<'w, 'a> {
    pub(super) w: &'w Weights<'a>,
    pub(super) weights: &'w ExpertWeights,
    pub(super) stack: Option<(Vec<f64>, usize, usize)>,
}

impl<'w, 'a> ExpertSource<'w, 'a> {
    pub(super) fn new(w: &'w Weights<'a>, weights: &'w ExpertWeights) -> Self {
        ExpertSource {
            w,
            weights,
            stack: None,
        }
    }

    /// Expert `e`'s matrix as a linear map.
    pub(super) fn linear(&mut self, e: usize) -> Result<Linear> {
        match self.weights {
            ExpertWeights::Each(names) => self.w.linear(&names[e]),
            ExpertWeights::Stack(name) => {
                if self.stack.is_none() {
                    let t = self.w.get(name)?;
                    let dims = t.spec.shape.dims();
                    let [_, out, inp] = dims[..] else {
                        return Err(Error::Numerical(format!(
                            "probe --hf-config: '{name}' is not 3-D"
                        )));
                    };
                    self.stack = Some((draw(t)?, out, inp));
                }
                let (data, out, inp) = self.stack.as_ref().expect("drawn above");
                let size = out * inp;
                Ok(Linear {
                    out: *out,
                    inp: *inp,
                    w: data[e * size..(e + 1) * size].to_vec(),
                    bias: None,
                })
            }
        }
    }
}

/// The routed experts: router logits = router · h; each token through its top-k experts'
/// act(gate) ⊙ up and down, weighted by its routing weights and summed.
pub(super) fn experts(
    act: Act,
    moe: &Moe,
    router: &Router,
    w: &Weights,
    h: &Mat,
) -> Result<(Mat, Routing)> {
    let logits = w.linear(&moe.router)?.apply(h);
    let correction = match &moe.correction {
        Some(name) => Some(w.vector(name)?),
        None => None,
    };
    let e_count = router.experts;
    // Per expert: (token, weight) in token order.
    let mut assigned: Vec<Vec<(usize, f64)>> = vec![Vec::new(); e_count];
    let mut weight_sum = 0.0;
    for t in 0..h.rows {
        for (e, weight) in router.route(logits.row(t), correction.as_deref()) {
            assigned[e].push((t, weight));
            weight_sum += weight;
        }
    }
    drop(logits);
    let inputs: Vec<Mat> = assigned
        .iter()
        .map(|tokens| {
            let mut x = Mat {
                rows: tokens.len(),
                cols: h.cols,
                data: Vec::with_capacity(tokens.len() * h.cols),
            };
            for (t, _) in tokens {
                x.data.extend_from_slice(h.row(*t));
            }
            x
        })
        .collect();
    // The intermediate activations, one expert after another.
    let mut hidden: Vec<Mat> = Vec::with_capacity(e_count);
    match &moe.input {
        ExpertInput::GateUp(weights) => {
            let mut source = ExpertSource::new(w, weights);
            for x in &inputs {
                let e = hidden.len();
                hidden.push(if x.rows == 0 {
                    Mat::default()
                } else {
                    gated_halves(act, &source.linear(e)?.apply(x))
                });
            }
        }
        ExpertInput::Split { gate, up } => {
            // Every gate, then every up: one stack drawn at a time.
            let mut source = ExpertSource::new(w, gate);
            for x in &inputs {
                let e = hidden.len();
                hidden.push(if x.rows == 0 {
                    Mat::default()
                } else {
                    source.linear(e)?.apply(x)
                });
            }
            drop(source);
            let mut source = ExpertSource::new(w, up);
            for (e, x) in inputs.iter().enumerate() {
                if x.rows > 0 {
                    let u = source.linear(e)?.apply(x);
                    for (g, u) in hidden[e].data.iter_mut().zip(&u.data) {
                        *g = act.apply(*g) * u;
                    }
                }
            }
        }
    }
    drop(inputs);
    let mut out = Mat {
        rows: h.rows,
        cols: h.cols,
        data: vec![0.0; h.rows * h.cols],
    };
    let mut source = ExpertSource::new(w, &moe.down);
    for (e, tokens) in assigned.iter().enumerate() {
        if tokens.is_empty() {
            continue;
        }
        let y = source.linear(e)?.apply(&hidden[e]);
        if y.cols != h.cols {
            return Err(Error::Usage(format!(
                "probe --hf-config: an expert's down projection gives {} outputs, not the \
                 hidden size {}",
                y.cols, h.cols
            )));
        }
        for (i, (t, weight)) in tokens.iter().enumerate() {
            for (o, v) in out.data[t * h.cols..(t + 1) * h.cols]
                .iter_mut()
                .zip(y.row(i))
            {
                *o += weight * v;
            }
        }
    }
    let routed_variance = moments(&out).1;
    Ok((
        out,
        Routing {
            experts: e_count,
            top_k: router.top_k,
            load: assigned.iter().map(Vec::len).collect(),
            weight_sum: weight_sum / h.rows.max(1) as f64,
            routed_variance,
            shared_variance: None,
        },
    ))
}

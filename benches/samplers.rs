//! Sampler and end-to-end throughput, through the public library API (issue 3).
//!
//! Per block of [`BLOCK_LEN`] (65536) elements, single-threaded: the ChaCha8 keystream
//! alone, then uniform, normal and truncated-normal fills as `generate::generate` makes
//! them. End to end: a 2048x2048 f32 he-normal tensor through `generate::generate` into
//! an `.npy` writer over `io::sink()` (rayon's global pool, so all cores; no disk).
//!
//! Then PyTorch's MT19937: words drawn against words skipped (`--hf-config --rng torch`).
//!
//! Run: `cargo bench --bench samplers` (a few minutes on 2 cores); one group:
//! `cargo bench --bench samplers -- sampler/normal`. Throughput is in elements/s.
//! bench/compare.sh times the whole command against NumPy, PyTorch and dd.

use std::hint::black_box;
use std::io;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use weightinit::array::dtype::DType;
use weightinit::array::fan::Layout;
use weightinit::draw::{BLOCK_LEN, DrawElement, Keystream, Sampler, derive_key};
use weightinit::law::Distribution;
use weightinit::output::npy::NpyWriter;
use weightinit::pipeline::generate;
use weightinit::scheme::SchemeSpec;
use weightinit::tensor::TensorSpec;
use weightinit::tensor::rng::RngMode;

/// One block of `E`, filled again and again; the block index advances every iteration
/// so each fill starts a fresh stream, as in a real tensor.
fn bench_fill<E: DrawElement>(c: &mut Criterion, name: &str, distribution: Distribution) {
    let sampler = Sampler::new(&distribution).expect("an elementwise distribution");
    let keystream = Keystream::new(&derive_key(1, "w0"));
    let mut buf = vec![E::default(); BLOCK_LEN];
    let mut block = 0u64;
    let mut group = c.benchmark_group("sampler");
    group.throughput(Throughput::Elements(BLOCK_LEN as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            block = block.wrapping_add(1);
            sampler.fill(&keystream, black_box(block) * BLOCK_LEN as u64, &mut buf);
            black_box(&buf);
        })
    });
    group.finish();
}

fn keystream(c: &mut Criterion) {
    let keystream = Keystream::new(&derive_key(1, "w0"));
    let mut block = 0u64;
    let mut group = c.benchmark_group("keystream");
    group.throughput(Throughput::Elements(BLOCK_LEN as u64));
    let mut words = vec![0u32; BLOCK_LEN];
    group.bench_function("chacha8 words", |b| {
        b.iter(|| {
            block = block.wrapping_add(1);
            keystream.fill(black_box(block) * BLOCK_LEN as u64, &mut words);
            black_box(words[BLOCK_LEN - 1])
        })
    });
    group.finish();
}

fn samplers(c: &mut Criterion) {
    let uniform = Distribution::Uniform {
        low: -0.05,
        high: 0.05,
    };
    let normal = Distribution::Normal {
        mean: 0.0,
        std: 0.02,
    };
    // The default `truncated-normal`: N(0, 1) cut at ±2.
    let truncated = Distribution::TruncatedNormal {
        mean: 0.0,
        std: 1.0,
        low: -2.0,
        high: 2.0,
    };
    bench_fill::<f32>(c, "uniform f32", uniform);
    bench_fill::<f64>(c, "uniform f64", uniform);
    bench_fill::<f32>(c, "normal f32", normal);
    bench_fill::<f64>(c, "normal f64", normal);
    bench_fill::<f32>(c, "truncated-normal f32", truncated);
    bench_fill::<f64>(c, "truncated-normal f64", truncated);
    bench_fill::<half::bf16>(c, "normal bf16", normal);
}

fn end_to_end(c: &mut Criterion) {
    let tensor = TensorSpec {
        name: "w0".into(),
        shape: "2048x2048".parse().expect("a shape"),
        layout: Layout::Io,
        scheme: "he-normal".parse::<SchemeSpec>().expect("a scheme"),
        dtype: DType::F32,
        seed: 1,
        rng: RngMode::Native,
        jax: Default::default(),
    }
    .resolve()
    .expect("he-normal resolves for 2048x2048");
    let mut group = c.benchmark_group("generate");
    group.throughput(Throughput::Elements(tensor.spec.shape.len() as u64));
    group.bench_function("he-normal 2048x2048 f32 npy to io::sink", |b| {
        b.iter(|| {
            let mut sink = NpyWriter::new(io::sink(), tensor.spec.dtype, &tensor.spec.shape)
                .expect("writing to io::sink");
            black_box(generate::generate(&tensor, &mut sink, "<sink>").expect("generate"))
        })
    });
    group.finish();
}

/// `--hf-config --rng torch` skips the draws transformers throws away: PyTorch's MT19937
/// advanced without tempering or storing (`skip`), against drawing the same words.
fn torch_skip(c: &mut Criterion) {
    use weightinit::compat::torch::generator::Mt19937;
    let mut group = c.benchmark_group("mt19937");
    group.throughput(Throughput::Elements(BLOCK_LEN as u64));
    let mut rng = Mt19937::new(0);
    let mut words = vec![0u32; BLOCK_LEN];
    group.bench_function("draw words", |b| {
        b.iter(|| {
            rng.fill_u32(&mut words);
            black_box(words[BLOCK_LEN - 1])
        })
    });
    group.bench_function("skip words", |b| {
        b.iter(|| {
            rng.skip(black_box(BLOCK_LEN as u64));
            black_box(rng.next_u32())
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = keystream, samplers, end_to_end, torch_skip
}
criterion_main!(benches);

//! Using weightinit as a library: resolve a scheme for a shape, draw the tensor into
//! memory, and write it as .npy.
//!
//! Run: `cargo run --release --example library`

use weightinit::engine::draw_array;
use weightinit::fan::Layout;
use weightinit::output::TensorSink;
use weightinit::output::npy::NpyWriter;
use weightinit::rng::RngMode;
use weightinit::sample::DType;
use weightinit::scheme::SchemeSpec;
use weightinit::tensor::TensorSpec;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // He-normal for a 784 → 256 dense layer, Keras/JAX layout (in x out).
    let tensor = TensorSpec {
        name: "fc0.weight".into(),
        shape: "784x256".parse()?,
        layout: Layout::Io,
        scheme: "he-normal".parse::<SchemeSpec>()?,
        dtype: DType::F32,
        seed: 42,
        rng: RngMode::Native,
    }
    .resolve()?;

    let meta = tensor.meta();
    println!(
        "{}: fan_in {:?}, fan_out {:?}, gain {:?}, std {:?}",
        meta.name, meta.fan_in, meta.fan_out, meta.gain, meta.std
    );

    // In memory, as an ndarray in the tensor's shape.
    let (weights, generated) = draw_array::<f32>(&tensor)?;
    println!(
        "drew {:?}: mean {:.2e}, variance {:.6} (theory {:.6})",
        weights.shape(),
        generated.stats.mean,
        generated.stats.variance(),
        2.0 / 784.0
    );

    // Or streamed to any `io::Write` (here a Vec) as .npy; the bytes equal what
    // `weightinit gen --scheme he-normal --shape 784x256 --name fc0.weight --seed 42` writes.
    let mut sink = NpyWriter::new(Vec::new(), tensor.spec.dtype, &tensor.spec.shape)?;
    weightinit::engine::generate(&tensor, &mut sink, "<memory>")?;
    sink.finish()?;
    println!("npy: {} bytes", sink.into_inner().len());
    Ok(())
}

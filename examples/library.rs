//! Using weightinit as a library: an array in memory, a file on disk, and the resolved
//! law behind them.
//!
//! Run: `cargo run --release --example library`

use weightinit::{Init, Layout, RngMode};

fn main() -> weightinit::Result<()> {
    // He-normal for a 784 → 256 dense layer, Keras/JAX layout (in x out): the same values
    // as `weightinit gen --scheme he-normal --shape 784x256 --seed 42`.
    let init = Init::new("he-normal", [784, 256])?.seed(42);
    let w = init.draw::<f32>()?;
    let law = init.resolve()?.meta();
    println!(
        "{:?}: fan_in {:?}, std {:?}, drawn std {:.5}",
        w.shape(),
        law.fan_in,
        law.std,
        w.std(0.0)
    );

    // PyTorch's nn.Linear(784, 128).weight after torch.manual_seed(0), bit for bit.
    let t = Init::new(
        "kaiming-uniform:negative-slope=2.2360679774997896",
        [128, 784],
    )?
    .layout(Layout::Oi)
    .rng(RngMode::Torch)
    .seed(0)
    .draw::<f32>()?;
    println!("torch-exact {:?}, first value {}", t.shape(), t[[0, 0]]);

    // Streamed to disk in bounded memory, atomically.
    let path = std::env::temp_dir().join("weightinit-example-embed.npy");
    Init::new("normal:std=0.02", [50257, 768])?
        .seed(7)
        .name("embed")
        .force(true)
        .write(&path)?;
    println!("wrote {}", path.display());
    Ok(())
}

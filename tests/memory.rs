//! Memory stays flat as tensors grow: the engine streams bounded batches of blocks to
//! the sink and never holds a whole elementwise tensor.
//!
//! A counting global allocator records the peak number of live heap bytes while a
//! tensor is drawn into a sink that discards its input. The peak must not grow with the
//! tensor's size, and must stay far below the 64 MiB bound.
//!
//! One rank's shard (issue 24): filling a quarter of a 1 GiB tensor, by rows or by
//! columns, holds the shard and almost nothing else — never the whole tensor.

use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use weightinit::array::dtype::DType;
use weightinit::array::fan::Layout;
use weightinit::output::npy::NpyWriter;
use weightinit::pipeline::generate;
use weightinit::tensor::TensorSpec;
use weightinit::tensor::rng::RngMode;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: AllocLayout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(live, Ordering::SeqCst);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: AllocLayout) {
        // SAFETY: `ptr` was allocated by `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak live heap bytes, above what was live before, while drawing `shape`.
fn peak_while_drawing(scheme: &str, shape: &str, dtype: DType, threads: usize) -> usize {
    let tensor = TensorSpec {
        name: "w0".into(),
        shape: shape.parse().unwrap(),
        layout: Layout::Io,
        scheme: scheme.parse().unwrap(),
        dtype,
        seed: 1,
        rng: RngMode::Native,
        jax: Default::default(),
    }
    .resolve()
    .unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let mut sink = NpyWriter::new(std::io::sink(), dtype, &tensor.spec.shape).unwrap();
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    pool.install(|| generate::generate(&tensor, &mut sink, "<sink>").unwrap());
    PEAK.load(Ordering::SeqCst) - before
}

const MIB: usize = 1 << 20;

#[test]
fn peak_memory_does_not_grow_with_tensor_size() {
    // One test function, so no other test allocates concurrently in this binary.
    for (scheme, dtype) in [
        ("he-normal", DType::F32),
        ("xavier-uniform", DType::F64),
        ("truncated-normal", DType::F32),
    ] {
        for threads in [1, 2, 4, 16] {
            // 8 Mi and 32 Mi elements (32 and 128 MiB of f32): both at least two full
            // batches, so any growth with size would show.
            let small = peak_while_drawing(scheme, "2048x4096", dtype, threads);
            let large = peak_while_drawing(scheme, "8192x4096", dtype, threads);
            eprintln!(
                "{scheme} {dtype} threads {threads}: peak {:.1} MiB (8 Mi elements), {:.1} MiB (32 Mi elements)",
                small as f64 / MIB as f64,
                large as f64 / MIB as f64
            );
            // Two batches of at most 16 MiB each, whatever the thread count.
            assert!(
                large <= 33 * MIB,
                "{scheme}: peak {large} bytes exceeds the 32 MiB batch budget"
            );
            // Flat: four times the elements may not cost more than 1 MiB extra.
            assert!(
                large <= small + MIB,
                "{scheme} threads {threads}: peak grew from {small} to {large} bytes"
            );
            // And the data really is larger than the peak: nothing held it whole.
            let data = 8192 * 4096 * if dtype == DType::F32 { 4 } else { 8 };
            assert!(large * 3 < data, "{scheme}: peak {large} vs data {data}");
        }
    }
    // In the same test function, for the same reason.
    a_shard_holds_only_itself();
}

/// A quarter of a 16384 x 16384 f32 tensor (1 GiB), as rank 1 of 4 holds it by rows
/// (FSDP2's Shard(0)) and by columns (tensor parallel's Shard(1)): beyond the 256 MiB
/// shard the caller owns, the draw holds at most 64 MiB (the region's index lists).
fn a_shard_holds_only_itself() {
    use weightinit::array::Region;
    let n = 16384;
    let init = weightinit::Init::new("he-normal", [n, n]).unwrap().seed(3);
    let quarter: Vec<usize> = (n / 4..n / 2).collect();
    let all: Vec<usize> = (0..n).collect();
    for axes in [vec![quarter.clone(), all.clone()], vec![all, quarter]] {
        let region = Region::new(&[n, n], axes).unwrap();
        let mut shard = vec![0f32; region.len()];
        let before = LIVE.load(Ordering::SeqCst);
        PEAK.store(before, Ordering::SeqCst);
        init.draw_region_into(&region, &mut shard).unwrap();
        let extra = PEAK.load(Ordering::SeqCst) - before;
        eprintln!(
            "a quarter of a 1 GiB tensor ({:?}): {:.2} MiB beyond the 256 MiB shard",
            region.local_dims(),
            extra as f64 / MIB as f64
        );
        assert!(extra <= 64 * MIB, "drawing a shard held {extra} bytes more");
        assert!(shard.iter().any(|&v| v != 0.0));
    }
}

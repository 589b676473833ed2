//! Run-time choice of vector instructions for the hot loops.
//!
//! The default build targets baseline x86-64 (SSE2), so the loops that draw and summarize
//! values are compiled three times — for AVX-512, AVX2 and the baseline — by
//! `dispatched!`, and the best one the CPU supports runs. All three perform the same
//! IEEE-754 operations in the same order (Rust never fuses a multiply and an add, and
//! integer operations are exact), so they produce the same bits; only speed differs. The
//! levels include FMA so that an explicit `mul_add` (the framework-exact samplers need
//! fused operations where the frameworks' compilers made them) is one instruction rather
//! than a call to the software `fma`; both are exact, so the result is the same.
//!
//! `WEIGHTINIT_SIMD=baseline|avx2|avx512` caps the level, so the equality can be tested on
//! one machine (tests/streams/reproducibility.rs runs the golden cases at every level) and a
//! suspected vector-unit problem can be ruled out in the field.

use std::sync::OnceLock;

/// The vector instruction sets the hot loops are compiled for, in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Baseline,
    Avx2,
    Avx512,
}

/// Environment variable that caps the level (for tests and diagnosis).
pub const LEVEL_VAR: &str = "WEIGHTINIT_SIMD";

/// The level in use: the best this CPU supports, capped by `WEIGHTINIT_SIMD`.
pub fn level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let cap = match std::env::var(LEVEL_VAR).as_deref() {
            Ok("baseline") => Level::Baseline,
            Ok("avx2") => Level::Avx2,
            _ => Level::Avx512,
        };
        detected().min(cap)
    })
}

/// The best level this CPU supports.
fn detected() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        let fma = std::is_x86_feature_detected!("fma");
        if fma
            && std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512cd")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("avx512vl")
        {
            return Level::Avx512;
        }
        if fma && std::is_x86_feature_detected!("avx2") {
            return Level::Avx2;
        }
    }
    Level::Baseline
}

/// Defines `fn $name(args) -> ret` that runs `$body(args)` compiled for the [`level`] in
/// use. `$body` should be `#[inline(always)]` so that each copy is compiled with its
/// target features.
macro_rules! dispatched {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident $(<$T:ident: $B:path>)? ($($arg:ident: $ty:ty),* $(,)?)
            $(-> $ret:ty)? = $body:path;
    ) => {
        $(#[$meta])*
        $vis fn $name $(<$T: $B>)? ($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512bw,avx512cd,avx512dq,avx512vl,fma")]
                fn avx512 $(<$T: $B>)? ($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2,avx,sse4.2,fma")]
                fn avx2 $(<$T: $B>)? ($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                match $crate::simd::level() {
                    // SAFETY: `level()` only reports a level whose features the CPU has.
                    $crate::simd::Level::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: as above.
                    $crate::simd::Level::Avx2 => return unsafe { avx2($($arg),*) },
                    $crate::simd::Level::Baseline => {}
                }
            }
            $body($($arg),*)
        }
    };
}

pub(crate) use dispatched;

//! The platform C math library's functions that NumPy's and PyTorch's samplers call
//! (`exp`, `log`, `log1p`, `cos`, `sin`, `erf` in double and `log1pf` in single
//! precision; `erf` is what Python's `math.erf` calls).
//!
//! The native stream never uses these (its draws must not depend on the platform); the
//! framework-exact streams must, because the frameworks do: C libraries disagree in the
//! last bit on some inputs (glibc 2.36 and the pure-Rust `libm` crate on 9% of `exp` and
//! 0.09% of `log1pf` arguments), and only the same library gives the framework's values.
//! The C math library is linked into every Rust program on the platforms these
//! frameworks run on.

unsafe extern "C" {
    #[link_name = "exp"]
    fn c_exp(x: f64) -> f64;
    #[link_name = "log"]
    fn c_log(x: f64) -> f64;
    #[link_name = "log1p"]
    fn c_log1p(x: f64) -> f64;
    #[link_name = "cos"]
    fn c_cos(x: f64) -> f64;
    #[link_name = "sin"]
    fn c_sin(x: f64) -> f64;
    #[link_name = "log1pf"]
    fn c_log1pf(x: f32) -> f32;
    #[link_name = "erf"]
    fn c_erf(x: f64) -> f64;
}

// SAFETY (all below): pure C99 functions of one floating-point argument, defined for
// every input (NaN or infinity out of range, never undefined behaviour).

pub fn exp(x: f64) -> f64 {
    unsafe { c_exp(x) }
}

pub fn log(x: f64) -> f64 {
    unsafe { c_log(x) }
}

pub fn log1p(x: f64) -> f64 {
    unsafe { c_log1p(x) }
}

pub fn cos(x: f64) -> f64 {
    unsafe { c_cos(x) }
}

pub fn sin(x: f64) -> f64 {
    unsafe { c_sin(x) }
}

pub fn log1pf(x: f32) -> f32 {
    unsafe { c_log1pf(x) }
}

pub fn erf(x: f64) -> f64 {
    unsafe { c_erf(x) }
}

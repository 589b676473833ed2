//! How Flax (linen, 0.12) derives a parameter's key in `model.init(key, x)`
//! (flax/core/scope.py: `Scope.push`, `Scope.make_rng`, `LazyRng`, `_fold_in_static`).
//!
//! Every scope carries the root key with a suffix of static data: a child module's
//! scope appends its name (`"Dense_0"`, or the `name=` given), so the suffix is the
//! module path. `make_rng('params')` — which `self.param(name, init, ...)` calls once
//! per parameter, in creation order — increments that scope's counter (starting at 1)
//! and folds `suffix + (counter,)` into the root key: SHA-1 over the items (a string as
//! UTF-8, an int as its minimal big-endian bytes; with `flax_fix_rng_separator`, default
//! off, a 0 byte before each item), the digest's first 4 bytes as a big-endian u32, and
//! `jax.random.fold_in(root, that)`. So `Dense_0`'s kernel has path `["Dense_0"]`,
//! counter 1, its bias counter 2; a parameter of the top module itself has an empty path.

use super::key::JaxKey;

/// One item of static data folded into a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Foldable<'a> {
    Str(&'a str),
    Int(u64),
}

/// `_fold_in_static(key, data)`; empty data leaves the key as it is.
pub fn fold_in_static(key: JaxKey, data: &[Foldable], separator: bool) -> JaxKey {
    if data.is_empty() {
        return key;
    }
    let mut bytes = Vec::new();
    for item in data {
        if separator {
            bytes.push(0);
        }
        match *item {
            Foldable::Str(s) => bytes.extend_from_slice(s.as_bytes()),
            Foldable::Int(n) => {
                let be = n.to_be_bytes();
                let skip = (n.leading_zeros() / 8) as usize;
                bytes.extend_from_slice(&be[skip..]);
            }
        }
    }
    // SHA-1 as Flax hashes (hashlib.sha1), from the RustCrypto crate.
    let digest = <sha1::Sha1 as sha1::Digest>::digest(&bytes);
    key.fold_in(u32::from_be_bytes([
        digest[0], digest[1], digest[2], digest[3],
    ]))
}

/// The key the `counter`-th `make_rng('params')` of the module at `path` receives
/// (counter 1 for its first parameter: a Dense's kernel; 2 for the bias).
pub fn param_key(root: JaxKey, path: &[&str], counter: u64, separator: bool) -> JaxKey {
    let mut data: Vec<Foldable> = path.iter().map(|s| Foldable::Str(s)).collect();
    data.push(Foldable::Int(counter));
    fold_in_static(root, &data, separator)
}

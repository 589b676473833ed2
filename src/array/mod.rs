//! What an array of weights is before any law is drawn into it: its [`Shape`], its
//! [`Layout`] and fans ([`fan`], the one place that says which axis is in and which is
//! out), where structured schemes put their values ([`geometry`]), the stored element
//! types ([`DType`], [`Element`]) with their slices ([`Values`]), the [`TensorSink`]
//! values go to in order, and the [`Region`] of a tensor one shard
//! holds. Plain data: knows no schemes, streams, flags or files.

pub mod dtype;
pub mod fan;
pub mod geometry;
pub mod region;
pub mod shape;
pub mod sink;

pub use dtype::{DType, Element, Values};
pub use fan::{Fans, Layout};
pub use region::Region;
pub use shape::Shape;
pub use sink::TensorSink;

//! The C ABI of flare-wallet. Every `unsafe` block of the project lives in this
//! crate or in the Python binding, each with a `// SAFETY:` comment.

pub use wallet_core;

//! xmrd-tools.
fn main() {}

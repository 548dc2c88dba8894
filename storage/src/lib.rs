//! Chain store (placeholder until the storage issue).

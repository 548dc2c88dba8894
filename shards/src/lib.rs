//! Thread-per-core runtime (placeholder until the shards issue).

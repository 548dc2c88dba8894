//! The generic portable-storage decoder: never panics, and whatever it accepts
//! re-encodes to a storage that decodes to the same tree.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use xmrd::wire::epee::{Limits, Section};

fuzz_target!(|data: &[u8]| {
    let b = Bytes::copy_from_slice(data);
    for limits in [Limits::P2P, Limits::TOOLS] {
        if let Ok(s) = Section::from_storage(&b, limits) {
            let again = Bytes::from(s.to_storage());
            let s2 = Section::from_storage(&again, Limits::TOOLS).expect("re-encoded storage decodes");
            // NaN doubles compare unequal; compare the encodings instead.
            assert_eq!(s2.to_storage(), again.to_vec());
        }
    }
});

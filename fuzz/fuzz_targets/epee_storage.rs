//! The generic portable-storage decoder: never panics, and whatever it accepts
//! re-encodes to a storage that decodes to the same tree, once padded with zeros to the
//! original length (monerod's array size check counts the bytes that follow, padding
//! included, so a storage that relied on padding may need it back: see the epee test
//! `re_encoding_needs_the_padding_back_when_monerods_size_check_used_it`).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use xmrd::wire::epee::{Limits, Section};

fuzz_target!(|data: &[u8]| {
    let b = Bytes::copy_from_slice(data);
    for limits in [Limits::P2P, Limits::TOOLS] {
        if let Ok(s) = Section::from_storage(&b, limits) {
            let mut padded = s.to_storage();
            assert!(padded.len() <= data.len(), "re-encoding grew");
            padded.resize(data.len(), 0);
            let again = Bytes::from(padded);
            let s2 = Section::from_storage(&again, Limits::TOOLS).expect("re-encoded storage decodes");
            // NaN doubles compare unequal; compare the encodings instead.
            assert_eq!(s2.to_storage(), s.to_storage());
        }
    }
});

//! The daemon RPC's untrusted inputs that xmrd decodes itself: every `.bin` request
//! (portable storage with the RPC limits) never panics, and what decodes re-encodes to
//! a storage that decodes and re-encodes to the same bytes; the digest `Authorization` parser never
//! panics on any header. The first byte picks the target.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use xmrd::rpc::auth::{DigestAuth, Session};
use xmrd::wire::epee::{self, EpeeObject, Limits};
use xmrd::wire::messages::rpc::{
    GetBlocksByHeightRequest, GetBlocksRequest, GetHashesRequest, GetOIndexesRequest,
    GetOutputDistributionRequest, GetOutsRequest,
};

fn round_trip<T: EpeeObject>(data: &[u8]) {
    let b = Bytes::copy_from_slice(data);
    if let Ok(v) = epee::from_bytes_with::<T>(&b, Limits::RPC) {
        let once = epee::to_bytes(&v);
        let again = Bytes::from(once.clone());
        let v2 = epee::from_bytes_with::<T>(&again, Limits::RPC).expect("re-encoded request decodes");
        assert_eq!(epee::to_bytes(&v2), once, "re-encoding is not stable");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    match sel % 7 {
        0 => round_trip::<GetBlocksRequest>(rest),
        1 => round_trip::<GetBlocksByHeightRequest>(rest),
        2 => round_trip::<GetHashesRequest>(rest),
        3 => round_trip::<GetOIndexesRequest>(rest),
        4 => round_trip::<GetOutsRequest>(rest),
        5 => round_trip::<GetOutputDistributionRequest>(rest),
        _ => {
            if let (Some(auth), Ok(h)) = (DigestAuth::parse("user:pass"), std::str::from_utf8(rest)) {
                let mut s = Session::default();
                let _ = auth.check(&mut s, "POST", Some(h));
                let _ = auth.check(&mut s, "POST", Some(h));
            }
        }
    }
});

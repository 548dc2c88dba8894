//! Every levin packet captured between two real monerods decodes into its typed
//! message and re-encodes to exactly the same bytes.

use bytes::Bytes;
use xmrd::testdata::{files_with_ext, shared_subdir};
use xmrd::wire::levin::LevinDecoder;
use xmrd::wire::limits::MAX_PACKET;
use xmrd::wire::messages::Message;

#[test]
fn every_captured_packet_round_trips_byte_exactly() {
    let Some(dir) = shared_subdir("vectors/levin") else {
        return;
    };
    let files = files_with_ext(&dir, "bin");
    assert!(
        files.len() > 200,
        "expected the captured packets, found {}",
        files.len()
    );
    for f in &files {
        let raw = std::fs::read(f).unwrap();
        let mut d = LevinDecoder::new(MAX_PACKET);
        d.push(&raw).unwrap();
        let p = d
            .next_packet()
            .unwrap()
            .unwrap_or_else(|| panic!("{f:?}: no packet"));
        d.finish().unwrap();
        let m = Message::from_packet(&p).unwrap_or_else(|e| panic!("{f:?}: {e}"));
        assert_eq!(m.command().id(), p.header.command);
        let body = m.to_body();
        assert_eq!(
            Bytes::from(body),
            p.body,
            "{f:?}: body differs on re-encode"
        );
        assert_eq!(p.to_bytes(), raw, "{f:?}: packet differs on re-encode");
    }
}

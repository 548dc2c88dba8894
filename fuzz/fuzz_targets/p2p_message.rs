//! Every message decoder: the first byte picks the command and direction, the rest is
//! the body. Never panics; whatever decodes re-encodes to a body that decodes to the
//! same message, and a body that decoded canonically re-encodes to the same bytes.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use xmrd::wire::levin::{Command, Header};
use xmrd::wire::messages::Message;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else { return };
    let cmd = Command::ALL[usize::from(sel) % Command::ALL.len()];
    let header = if sel & 0x80 != 0 && cmd.is_invoke() {
        Header::response(cmd.id(), 1)
    } else if cmd.is_invoke() {
        Header::request(cmd.id())
    } else {
        Header::notify(cmd.id())
    };
    let body = Bytes::copy_from_slice(body);
    if let Ok(m) = Message::decode(&header, &body) {
        let enc = Bytes::from(m.to_body());
        let m2 = Message::decode(&header, &enc).expect("re-encoded message decodes");
        assert_eq!(m, m2);
    }
});

//! The streaming levin decoder: never panics, stays within its buffer bound, and gives
//! the same packets whether fed whole or cut at the points the input chooses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xmrd::wire::levin::{LevinDecoder, Packet};
use xmrd::wire::messages::Message;

const CAP: usize = 1 << 20;

fn run(data: &[u8], cuts: &[u8]) -> (Vec<Packet>, bool) {
    let mut d = LevinDecoder::new(CAP);
    let mut out = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = if cuts.is_empty() { rest.len() } else { usize::from(cuts[i % cuts.len()]) + 1 };
        i += 1;
        let (chunk, r) = rest.split_at(n.min(rest.len()));
        rest = r;
        if d.push(chunk).is_err() {
            return (out, false);
        }
        assert!(d.buffered() <= CAP + 33);
        loop {
            match d.next_packet() {
                Ok(Some(p)) => {
                    let _ = Message::from_packet(&p);
                    out.push(p)
                }
                Ok(None) => break,
                Err(_) => return (out, false),
            }
        }
    }
    (out, true)
}

fuzz_target!(|data: &[u8]| {
    let (cuts, data) = match data.split_first() {
        Some((&n, rest)) => rest.split_at(usize::from(n % 16).min(rest.len())),
        None => return,
    };
    let (whole, ok_whole) = run(data, &[]);
    let (split, ok_split) = run(data, cuts);
    if ok_whole && ok_split {
        assert_eq!(whole, split);
    }
});

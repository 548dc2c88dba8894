//! Specifications of levin framing.

use rand::{Rng, SeedableRng};

use super::*;
use crate::testdata::{files_with_ext, shared_subdir};
use crate::wire::limits::{MAX_PACKET, MAX_PACKET_BEFORE_HANDSHAKE};

fn decode_all(d: &mut LevinDecoder, data: &[u8]) -> Result<Vec<Packet>, LevinError> {
    d.push(data)?;
    let mut v = Vec::new();
    while let Some(p) = d.next_packet()? {
        v.push(p);
    }
    Ok(v)
}

fn decode_in_chunks(data: &[u8], sizes: &mut dyn FnMut() -> usize) -> Vec<Packet> {
    let mut d = LevinDecoder::new(MAX_PACKET);
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let (c, r) = rest.split_at(sizes().clamp(1, rest.len()));
        rest = r;
        out.extend(decode_all(&mut d, c).unwrap());
    }
    d.finish().unwrap();
    out
}

fn synthetic_stream() -> Vec<u8> {
    let mut s = Vec::new();
    s.extend(request(1001, &[1; 300]));
    s.extend(noise(100).unwrap());
    s.extend(response(1001, 1, &[2; 40]));
    s.extend(fragment(200, 2002, &[3; 1000]).unwrap());
    s.extend(notify(2004, &[]));
    s
}

fn captured_stream() -> Option<Vec<u8>> {
    let dir = shared_subdir("vectors/levin")?;
    let mut s = Vec::new();
    for f in files_with_ext(&dir, "bin") {
        s.extend(std::fs::read(f).unwrap());
    }
    Some(s)
}

#[test]
fn gives_the_same_packets_however_the_stream_is_cut() {
    let mut streams = vec![synthetic_stream()];
    streams.extend(captured_stream());
    for stream in streams {
        let whole = decode_in_chunks(&stream, &mut || usize::MAX);
        assert!(!whole.is_empty());
        let ones = decode_in_chunks(&stream, &mut || 1);
        assert_eq!(whole, ones);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..20 {
            let max = rng.gen_range(2..5000);
            let random = decode_in_chunks(&stream, &mut || rng.gen_range(1..max));
            assert_eq!(whole, random);
        }
    }
}

#[test]
fn skips_and_counts_noise_and_reassembles_fragments() {
    let mut d = LevinDecoder::new(MAX_PACKET);
    let got = decode_all(&mut d, &synthetic_stream()).unwrap();
    assert_eq!(d.noise_packets(), 1);
    let cmds: Vec<u32> = got.iter().map(|p| p.header.command).collect();
    assert_eq!(cmds, vec![1001, 1001, 2002, 2004]);
    assert_eq!(got[2].body.as_ref(), &[3u8; 1000][..]);
    assert_eq!(
        got[2].fragments,
        (1000 + HEADER_LEN).div_ceil(200 - HEADER_LEN)
    );
    assert!(got[1].header.is_response() && got[0].header.is_request());
}

#[test]
fn fragments_are_sized_exactly_like_monerods() {
    let f = fragment(128, 2002, &[9; 500]).unwrap();
    assert_eq!(f.len() % 128, 0);
    // A message that fits is padded inside its body and sent whole.
    let f = fragment(128, 2002, &[9; 10]).unwrap();
    assert_eq!(f.len(), 128);
    let mut d = LevinDecoder::new(MAX_PACKET);
    let got = decode_all(&mut d, &f).unwrap();
    assert_eq!(got[0].body.len(), 128 - HEADER_LEN);
    assert_eq!(&got[0].body[..10], &[9u8; 10][..]);
    assert!(got[0].body[10..].iter().all(|&b| b == 0));
    assert!(fragment(65, 2002, &[9; 500]).is_none());
}

#[test]
fn rejects_a_bad_signature_as_soon_as_eight_bytes_arrive() {
    let mut d = LevinDecoder::new(MAX_PACKET);
    assert_eq!(d.push(&[0x01, 0x21, 0x01, 0x01, 0x01, 0x01, 0x01]), Ok(()));
    assert_eq!(d.next_packet(), Ok(None));
    d.push(&[0x02]).unwrap();
    assert_eq!(d.next_packet(), Err(LevinError::BadSignature));
}

fn header_only(command: u32, len: u64) -> Vec<u8> {
    let mut v = Vec::new();
    Header::notify(command).write(len, &mut v);
    v
}

#[test]
fn each_command_is_capped_at_monerods_size_before_its_body_arrives() {
    for c in Command::ALL {
        let cap = c.max_body_len().min(MAX_PACKET);
        let mut d = LevinDecoder::new(MAX_PACKET);
        assert!(matches!(
            decode_all(&mut d, &header_only(c.id(), cap as u64 + 1)),
            Err(LevinError::TooLarge { .. })
        ));
        let mut d = LevinDecoder::new(MAX_PACKET);
        assert_eq!(
            decode_all(&mut d, &header_only(c.id(), cap as u64)),
            Ok(vec![])
        );
    }
    assert_eq!(Command::Handshake.max_body_len(), 65_536);
    assert_eq!(Command::Ping.max_body_len(), 4_096);
    assert_eq!(Command::ChainRequest.max_body_len(), 512 * 1024);
    assert_eq!(Command::FluffyMissingTxRequest.max_body_len(), 1024 * 1024);
}

#[test]
fn the_packet_cap_before_handshake_is_256_kib() {
    let mut d = LevinDecoder::new(MAX_PACKET_BEFORE_HANDSHAKE);
    assert!(matches!(
        decode_all(&mut d, &header_only(2004, 256 * 1024 + 1)),
        Err(LevinError::TooLarge { .. })
    ));
    let mut d = LevinDecoder::new(MAX_PACKET_BEFORE_HANDSHAKE);
    assert!(decode_all(&mut d, &header_only(2004, 256 * 1024)).is_ok());
    assert!(matches!(
        d.push(&vec![0; MAX_PACKET_BEFORE_HANDSHAKE + 100]),
        Err(LevinError::BufferOverflow(_))
    ));
    // Unknown commands are bounded by the packet cap alone.
    let mut d = LevinDecoder::new(MAX_PACKET_BEFORE_HANDSHAKE);
    assert!(decode_all(&mut d, &header_only(4242, 1 << 40)).is_err());
}

#[test]
fn rejects_header_fields_monerod_never_writes() {
    let mut bad_version = request(1003, &[]);
    bad_version[29] = 0;
    let mut bad_flags = request(1003, &[]);
    bad_flags[25] = 3;
    let mut bad_bool = request(1003, &[]);
    bad_bool[16] = 2;
    for (bytes, want) in [
        (bad_version, LevinError::BadVersion(0)),
        (bad_flags, LevinError::BadFlags(3)),
        (bad_bool, LevinError::BadBool(2)),
    ] {
        let mut d = LevinDecoder::new(MAX_PACKET);
        assert_eq!(decode_all(&mut d, &bytes), Err(want));
    }
}

/// Cuts an arbitrary inner packet into fragments (to forge bad inner packets).
fn fragment_raw(noise_size: usize, inner: &[u8]) -> Vec<u8> {
    let space = noise_size - HEADER_LEN;
    let chunks: Vec<&[u8]> = inner.chunks(space).collect();
    let mut out = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        let flags = if i == 0 {
            FLAG_BEGIN
        } else if i + 1 == chunks.len() {
            FLAG_END
        } else {
            0
        };
        let mut body = c.to_vec();
        body.resize(space, 0);
        out.extend(fragment_packet(flags, &body));
    }
    out
}

fn fragment_packet(flags: u32, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    encode_packet(&Header::fragment(flags), body, &mut v);
    v
}

#[test]
fn rejects_malformed_fragment_sequences() {
    let mut d = LevinDecoder::new(MAX_PACKET);
    assert_eq!(
        decode_all(&mut d, &fragment_packet(FLAG_END, &[0; 40])),
        Err(LevinError::FragmentWithoutBegin)
    );
    let mut d = LevinDecoder::new(MAX_PACKET);
    assert_eq!(
        decode_all(&mut d, &fragment_packet(0, &[0; 40])),
        Err(LevinError::FragmentWithoutBegin)
    );
    // Inner message shorter than a header.
    let mut d = LevinDecoder::new(MAX_PACKET);
    let mut s = fragment_packet(FLAG_BEGIN, &[1; 10]);
    s.extend(fragment_packet(FLAG_END, &[1; 10]));
    assert_eq!(
        decode_all(&mut d, &s),
        Err(LevinError::BadFragmentedMessage)
    );
    // Inner header with a bad signature.
    let mut inner = notify(2002, &[5; 100]);
    inner[0] = 9;
    let mut d = LevinDecoder::new(MAX_PACKET);
    assert_eq!(
        decode_all(&mut d, &fragment_raw(80, &inner)),
        Err(LevinError::BadSignature)
    );
    // Inner length beyond what was reassembled.
    let mut inner = notify(2002, &[5; 100]);
    inner[8] = 200;
    let mut d = LevinDecoder::new(MAX_PACKET);
    assert_eq!(
        decode_all(&mut d, &fragment_raw(80, &inner)),
        Err(LevinError::BadFragmentedMessage)
    );
    // A fragment inside fragments.
    let inner = fragment_packet(FLAG_BEGIN, &[0; 50]);
    let mut d = LevinDecoder::new(MAX_PACKET);
    assert_eq!(
        decode_all(&mut d, &fragment_raw(70, &inner)),
        Err(LevinError::BadFragmentedMessage)
    );
}

#[test]
fn bounds_fragment_count_and_reassembled_size() {
    let mut s = fragment_packet(FLAG_BEGIN, &[0; 1]);
    for _ in 0..MAX_FRAGMENTS_PER_MESSAGE {
        s.extend(fragment_packet(0, &[0; 1]));
    }
    let mut d = LevinDecoder::new(MAX_PACKET);
    assert_eq!(
        decode_all(&mut d, &s),
        Err(LevinError::TooManyFragments(MAX_FRAGMENTS_PER_MESSAGE))
    );
    let mut d = LevinDecoder::new(1000);
    let mut s = fragment_packet(FLAG_BEGIN, &[0; 600]);
    s.extend(fragment_packet(0, &[0; 600]));
    let mut got = Ok(vec![]);
    for c in s.chunks(300) {
        got = decode_all(&mut d, c);
        if got.is_err() {
            break;
        }
    }
    assert!(got.is_err());
}

#[test]
fn a_stream_ending_mid_packet_is_reported() {
    let p = request(1001, &[1; 50]);
    let mut d = LevinDecoder::new(MAX_PACKET);
    decode_all(&mut d, &p[..40]).unwrap();
    assert_eq!(d.finish(), Err(LevinError::Truncated(7)));
}

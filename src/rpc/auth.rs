//! HTTP digest authentication for `--rpc-login user:pass`, as monerod's
//! `epee::net_utils::http::http_server_auth` (`contrib/epee/src/http_auth.cpp`): realm
//! `monero-rpc`, algorithms MD5 and MD5-sess, `qop="auth"` or RFC 2069 (no qop); the
//! nonce is per connection, and its count (`nc`) must follow the requests on that
//! connection (a reused or replayed one is answered `stale=true`). Parsing the client's
//! `Authorization` header is bounded and never panics.

use md5::{Digest, Md5};

/// monerod's realm (`auth_realm`).
pub const AUTH_REALM: &str = "monero-rpc";
/// Longest `Authorization` header value parsed (monerod bounds it only by the 100,000
/// bytes of a request head; a valid one is ~300 bytes).
pub const MAX_AUTHORIZATION_BYTES: usize = 4096;
/// Most `name=value` pairs parsed from one `Authorization` header.
pub const MAX_AUTH_FIELDS: usize = 16;

/// The configured login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestAuth {
    user: String,
    password: String,
}

/// What the server makes of a request's `Authorization`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Challenge {
    /// The request may go on.
    Pass,
    /// Answer 401 with a fresh nonce; `true`: the credentials were right but the nonce or
    /// count was not (`stale=true`).
    Unauthorized(bool),
}

/// One connection's digest state: its nonce and how many authorised requests it saw.
#[derive(Debug, Default)]
pub struct Session {
    nonce: String,
    counter: u32,
}

impl DigestAuth {
    /// Parses `user:pass` (monerod's `--rpc-login`; the password may contain `:`).
    pub fn parse(login: &str) -> Option<Self> {
        let (user, password) = login.split_once(':')?;
        if user.is_empty() {
            return None;
        }
        Some(DigestAuth {
            user: user.to_string(),
            password: password.to_string(),
        })
    }

    /// Checks a request (`method`, its `Authorization` header) against the connection's
    /// session, as `http_server_auth::do_get_response`: a failure or stale answer resets
    /// the session with a new nonce, which [`Self::challenges`] then carries.
    pub fn check(&self, session: &mut Session, method: &str, header: Option<&str>) -> Challenge {
        let mut stale = false;
        if let Some(h) = header {
            session.counter = session.counter.saturating_add(1);
            match self.verify(session, method, h) {
                Verdict::Pass => return Challenge::Pass,
                Verdict::Stale => stale = true,
                Verdict::Fail => {}
            }
        }
        session.counter = 0;
        let nonce: [u8; 16] = rand::random();
        session.nonce = base64(&nonce);
        Challenge::Unauthorized(stale)
    }

    /// The two `WWW-authenticate` values of a 401 (MD5, then MD5-sess), as monerod's
    /// `add_challenge`.
    pub fn challenges(&self, session: &Session, stale: bool) -> [String; 2] {
        let one = |alg: &str| {
            format!(
                "Digest qop=\"auth\",algorithm={alg},realm=\"{AUTH_REALM}\",nonce=\"{}\",stale={}",
                session.nonce,
                if stale { "true" } else { "false" }
            )
        };
        [one("MD5"), one("MD5-sess")]
    }

    fn verify(&self, session: &Session, method: &str, header: &str) -> Verdict {
        let Some(m) = parse_authorization(header) else {
            return Verdict::Fail;
        };
        if m.get("username") != Some(self.user.as_str()) || !self.valid_response(&m, method) {
            return Verdict::Fail;
        }
        if m.get("nonce") == Some(session.nonce.as_str()) && !session.nonce.is_empty() {
            let qop = m.get("qop").unwrap_or("");
            let nc = m.get("nc").and_then(|n| u32::from_str_radix(n, 16).ok());
            if session.counter == 1 || (!qop.is_empty() && nc == Some(session.counter)) {
                return Verdict::Pass;
            }
        }
        Verdict::Stale
    }

    fn valid_response(&self, m: &AuthFields<'_>, method: &str) -> bool {
        let algorithm = m.get("algorithm").unwrap_or("");
        let is_md5 = algorithm.is_empty()
            || algorithm
                .get(..3)
                .is_some_and(|p| p.eq_ignore_ascii_case("MD5"));
        if !is_md5 {
            return false;
        }
        let (nonce, uri) = (m.get("nonce").unwrap_or(""), m.get("uri").unwrap_or(""));
        let mut key = md5_hex(&[&self.user, ":", AUTH_REALM, ":", &self.password]);
        if algorithm.len() >= 5
            && algorithm
                .get(algorithm.len() - 5..)
                .is_some_and(|s| s.eq_ignore_ascii_case("-sess"))
        {
            key = md5_hex(&[&key, ":", nonce, ":", m.get("cnonce").unwrap_or("")]);
        }
        let ha2 = md5_hex(&[method, ":", uri]);
        let qop = m.get("qop").unwrap_or("");
        let expected = if qop.is_empty() {
            md5_hex(&[&key, ":", nonce, ":", &ha2])
        } else if qop.eq_ignore_ascii_case("auth") {
            md5_hex(&[
                &key,
                ":",
                nonce,
                ":",
                m.get("nc").unwrap_or(""),
                ":",
                m.get("cnonce").unwrap_or(""),
                ":",
                qop,
                ":",
                &ha2,
            ])
        } else {
            return false;
        };
        m.get("response")
            .is_some_and(|r| r.eq_ignore_ascii_case(&expected))
    }
}

enum Verdict {
    Pass,
    Stale,
    Fail,
}

/// The `name=value` pairs of a `Digest ...` header, values unquoted.
struct AuthFields<'a>(Vec<(&'a str, &'a str)>);

impl<'a> AuthFields<'a> {
    fn get(&self, name: &str) -> Option<&'a str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// Parses `Digest a="b", c=d, ...` (bounded; quoted values may hold commas; no escapes,
/// as no field monerod reads needs them).
fn parse_authorization(header: &str) -> Option<AuthFields<'_>> {
    if header.len() > MAX_AUTHORIZATION_BYTES {
        return None;
    }
    let rest = header.trim_start();
    let scheme = rest.get(..6)?;
    if !scheme.eq_ignore_ascii_case("digest") {
        return None;
    }
    let mut rest = rest.get(6..)?;
    let mut fields = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        if fields.len() >= MAX_AUTH_FIELDS {
            return None;
        }
        let eq = rest.find('=')?;
        let name = rest.get(..eq)?.trim();
        rest = rest.get(eq + 1..)?.trim_start();
        let value;
        if let Some(q) = rest.strip_prefix('"') {
            let end = q.find('"')?;
            value = q.get(..end)?;
            rest = q.get(end + 1..)?;
        } else {
            let end = rest.find([',', ' ', '\t']).unwrap_or(rest.len());
            value = rest.get(..end)?;
            rest = rest.get(end..)?;
        }
        if name.is_empty() {
            return None;
        }
        fields.push((name, value));
    }
    Some(AuthFields(fields))
}

fn md5_hex(parts: &[&str]) -> String {
    let mut h = Md5::new();
    for p in parts {
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = ((n >> (18 - 6 * i)) & 63) as usize;
                out.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn client_header(auth: &DigestAuth, nonce: &str, nc: u32, method: &str, uri: &str) -> String {
        let ha1 = md5_hex(&[&auth.user, ":", AUTH_REALM, ":", &auth.password]);
        let ha2 = md5_hex(&[method, ":", uri]);
        let nc = format!("{nc:08x}");
        let resp = md5_hex(&[
            &ha1, ":", nonce, ":", &nc, ":", "abc", ":", "auth", ":", &ha2,
        ]);
        format!(
            "Digest username=\"{}\", realm=\"{AUTH_REALM}\", nonce=\"{nonce}\", uri=\"{uri}\", algorithm=MD5, response=\"{resp}\", qop=auth, nc={nc}, cnonce=\"abc\"",
            auth.user
        )
    }

    #[test]
    fn rpc_rejects_requests_without_or_with_wrong_credentials_and_accepts_the_right_digest() {
        let auth = DigestAuth::parse("alice:pa:ss").unwrap();
        let mut s = Session::default();
        assert_eq!(
            auth.check(&mut s, "POST", None),
            Challenge::Unauthorized(false)
        );
        let nonce = s.nonce.clone();
        let [md5, sess] = auth.challenges(&s, false);
        assert!(md5.starts_with("Digest qop=\"auth\",algorithm=MD5,realm=\"monero-rpc\""));
        assert!(sess.contains("algorithm=MD5-sess"));
        let wrong = DigestAuth::parse("alice:nope").unwrap();
        let h = client_header(&wrong, &nonce, 1, "POST", "/json_rpc");
        assert_eq!(
            auth.check(&mut s, "POST", Some(&h)),
            Challenge::Unauthorized(false)
        );
        let nonce = s.nonce.clone();
        for nc in 1..=3 {
            let h = client_header(&auth, &nonce, nc, "POST", "/json_rpc");
            assert_eq!(
                auth.check(&mut s, "POST", Some(&h)),
                Challenge::Pass,
                "nc {nc}"
            );
        }
        // A replayed count is stale.
        let h = client_header(&auth, &nonce, 2, "POST", "/json_rpc");
        assert_eq!(
            auth.check(&mut s, "POST", Some(&h)),
            Challenge::Unauthorized(true)
        );
        assert!(parse_authorization("Digest a=\"unterminated").is_none());
        assert!(parse_authorization("Basic YWxpY2U6cGFzcw==").is_none());
        assert!(parse_authorization(&"Digest a=b, ".repeat(MAX_AUTH_FIELDS + 1)).is_none());
        let long = format!("Digest a=\"{}\"", "x".repeat(MAX_AUTHORIZATION_BYTES));
        assert!(parse_authorization(&long).is_none());
        assert!(DigestAuth::parse("nocolon").is_none());
    }

    #[test]
    fn rpc_digest_base64_matches_rfc4648() {
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"fooba"), "Zm9vYmE=");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
    }
}

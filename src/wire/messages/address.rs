//! `epee::net_utils::network_address` as monerod serialises it: a section
//! `{addr: {...}, type: u8}` whose payload shape depends on `type` (1 IPv4, 2 IPv6,
//! 3 I2P, 4 Tor; `enums.h`). See `contrib/epee/include/net/net_utils_base.h`,
//! `src/net/tor_address.cpp`, `src/net/i2p_address.cpp`.

use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::Bytes;

use crate::epee_object;
use crate::wire::epee::{
    read_object, typed_support::SeenNames, EpeeError, EpeeObject, EpeeValue, FieldLayout, Reader,
    Result, Writer, TYPE_OBJECT,
};

/// `address_type::ipv4`.
pub const ADDRESS_TYPE_IPV4: u8 = 1;
/// `address_type::ipv6`.
pub const ADDRESS_TYPE_IPV6: u8 = 2;
/// `address_type::i2p`.
pub const ADDRESS_TYPE_I2P: u8 = 3;
/// `address_type::tor`.
pub const ADDRESS_TYPE_TOR: u8 = 4;

/// monerod's IPv4 address as an integer (`ipv4_network_address::ip()`, also the RPC's
/// `ip` fields): the address bytes in network order read as a little-endian u32
/// (127.0.0.1 is 0x0100007f).
pub fn ipv4_to_u32(ip: Ipv4Addr) -> u32 {
    u32::from_le_bytes(ip.octets())
}

/// The inverse of [`ipv4_to_u32`].
pub fn ipv4_from_u32(raw: u32) -> Ipv4Addr {
    Ipv4Addr::from(raw.to_le_bytes())
}

epee_object! {
    /// `ipv4_network_address`: `m_ip` holds the address bytes in network order read as
    /// a little-endian u32 (127.0.0.1 is 0x0100007f).
    pub struct Ipv4Address {
        /// The address, network-order bytes as a little-endian u32.
        m_ip: req(u32) = "m_ip",
        /// The port.
        m_port: req(u16) = "m_port",
    }
}

impl Ipv4Address {
    /// Builds from an address and port.
    pub fn new(ip: Ipv4Addr, port: u16) -> Self {
        Ipv4Address {
            m_ip: ipv4_to_u32(ip),
            m_port: port,
            layout: FieldLayout::CANONICAL,
        }
    }

    /// The IP address.
    pub fn ip(&self) -> Ipv4Addr {
        ipv4_from_u32(self.m_ip)
    }
}

epee_object! {
    /// `ipv6_network_address`.
    pub struct Ipv6Address {
        /// The 16 address bytes.
        addr: req([u8; 16]) = "addr",
        /// The port.
        m_port: req(u16) = "m_port",
    }
}

impl Ipv6Address {
    /// The IP address.
    pub fn ip(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.addr)
    }
}

epee_object! {
    /// `tor_address` / `i2p_address` payload: a host name and a port.
    pub struct HostAddress {
        /// The host (`….onion`, `….b32.i2p`), validated by the net node, not here.
        host: req(Bytes) = "host",
        /// The port.
        port: req(u16) = "port",
    }
}

/// The payload of an address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Address {
    /// IPv4.
    Ipv4(Ipv4Address),
    /// IPv6.
    Ipv6(Ipv6Address),
    /// I2P.
    I2p(HostAddress),
    /// Tor onion service.
    Tor(HostAddress),
    /// A type this version does not know, kept as its raw `addr` value (marker
    /// included) so it re-encodes exactly; the net node ignores such entries, as
    /// monerod drops entries it cannot load.
    Unknown {
        /// The `type` byte.
        type_id: u8,
        /// The `addr` value's bytes.
        raw: Bytes,
    },
}

impl Address {
    /// The `type` byte.
    pub fn type_id(&self) -> u8 {
        match self {
            Address::Ipv4(_) => ADDRESS_TYPE_IPV4,
            Address::Ipv6(_) => ADDRESS_TYPE_IPV6,
            Address::I2p(_) => ADDRESS_TYPE_I2P,
            Address::Tor(_) => ADDRESS_TYPE_TOR,
            Address::Unknown { type_id, .. } => *type_id,
        }
    }
}

/// A network address with its wire layout.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NetworkAddress {
    /// The address.
    pub addr: Address,
    /// Field order as received (0 = `addr`, 1 = `type`).
    pub layout: FieldLayout,
}

impl Default for NetworkAddress {
    fn default() -> Self {
        NetworkAddress::from(Ipv4Address::new(Ipv4Addr::UNSPECIFIED, 0))
    }
}

impl From<Ipv4Address> for NetworkAddress {
    fn from(a: Ipv4Address) -> Self {
        NetworkAddress {
            addr: Address::Ipv4(a),
            layout: FieldLayout::CANONICAL,
        }
    }
}

const ADDR: &str = "addr";
const TYPE: &str = "type";

fn canonical() -> FieldLayout {
    let mut l = FieldLayout::CANONICAL;
    l.push(0);
    l.push(1);
    l
}

impl EpeeObject for NetworkAddress {
    fn read_fields(r: &mut Reader<'_>, count: usize) -> Result<Self> {
        let mut layout = FieldLayout::CANONICAL;
        let mut addr_at = None;
        let mut type_id: Option<u8> = None;
        let mut unknown = SeenNames::default();
        for _ in 0..count {
            let name = r.name()?;
            let before = r.checkpoint();
            let marker = r.marker()?;
            if name == ADDR.as_bytes() {
                if addr_at.is_some() {
                    return Err(EpeeError::DuplicateField(ADDR.into()));
                }
                if marker != TYPE_OBJECT {
                    return Err(EpeeError::WrongType {
                        field: ADDR,
                        found: marker,
                    });
                }
                // Skip now (counting as if decoded), decode once `type` is known.
                r.skip_value(marker)?;
                addr_at = Some((before, r.checkpoint()));
                layout.push(0);
            } else if name == TYPE.as_bytes() {
                if type_id.is_some() {
                    return Err(EpeeError::DuplicateField(TYPE.into()));
                }
                type_id = Some(u8::read(r, marker, TYPE)?);
                layout.push(1);
            } else {
                unknown.insert(name)?;
                r.skip_value(marker)?;
            }
        }
        let type_id = type_id.ok_or(EpeeError::MissingField(TYPE))?;
        let (start, end) = addr_at.ok_or(EpeeError::MissingField(ADDR))?;
        let after = r.checkpoint();
        // Re-read the payload with the counters it had before it was skipped, then
        // return to where we were (whose counters already include it once).
        r.rewind(start);
        let marker = r.marker()?;
        let addr = match type_id {
            ADDRESS_TYPE_IPV4 => Address::Ipv4(read_object(r, marker, ADDR)?),
            ADDRESS_TYPE_IPV6 => Address::Ipv6(read_object(r, marker, ADDR)?),
            ADDRESS_TYPE_I2P => Address::I2p(read_object(r, marker, ADDR)?),
            ADDRESS_TYPE_TOR => Address::Tor(read_object(r, marker, ADDR)?),
            _ => {
                r.rewind(end);
                Address::Unknown {
                    type_id,
                    raw: r.bytes_since(start),
                }
            }
        };
        r.rewind(after);
        Ok(NetworkAddress {
            addr,
            layout: layout.normalize(canonical()),
        })
    }

    fn write_section(&self, w: &mut Writer) {
        let layout = if self.layout.is_canonical() {
            canonical()
        } else {
            self.layout
        };
        w.varint(layout.len() as u64);
        for i in layout.iter() {
            if i == 0 {
                w.name(ADDR.as_bytes());
                match &self.addr {
                    Address::Ipv4(a) => a.write(w),
                    Address::Ipv6(a) => a.write(w),
                    Address::I2p(a) | Address::Tor(a) => a.write(w),
                    Address::Unknown { raw, .. } => w.put_slice(raw),
                }
            } else {
                w.name(TYPE.as_bytes());
                self.addr.type_id().write(w);
            }
        }
    }
}

impl EpeeValue for NetworkAddress {
    fn read(r: &mut Reader<'_>, marker: u8, field: &'static str) -> Result<Self> {
        read_object(r, marker, field)
    }
    fn write(&self, w: &mut Writer) {
        w.put_u8(TYPE_OBJECT);
        self.write_section(w);
    }
}

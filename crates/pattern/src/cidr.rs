//! `cidr` patterns: IPv4 and IPv6 networks.

use std::net::IpAddr;

/// A network: address bits, prefix length, family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    base: u128,
    mask: u128,
    v6: bool,
    prefix: u8,
}

fn bits(ip: IpAddr) -> (u128, bool) {
    match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), false),
        IpAddr::V6(a) => (u128::from(a), true),
    }
}

impl Cidr {
    /// Parses `10.0.0.0/24` or `2001:db8::/32`.
    ///
    /// # Errors
    ///
    /// AWS's reason text.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let parts: Vec<&str> = text.split('/').collect();
        if parts.len() != 2 {
            return Err("Malformed CIDR, one '/' required".into());
        }
        let prefix: u8 = parts[1].parse().map_err(|_| "Malformed CIDR, mask bits must be an integer".to_string())?;
        let ip: IpAddr = parts[0].parse().map_err(|_| format!("Nonstandard IP address: {}", parts[0]))?;
        let (addr, v6) = bits(ip);
        let width = if v6 { 128 } else { 32 };
        if u32::from(prefix) > width {
            return Err(format!("Malformed CIDR, mask bits must be between 0 and {width}"));
        }
        let mask = if prefix == 0 { 0 } else { (!0u128 << (width - u32::from(prefix))) & (!0u128 >> (128 - width)) };
        Ok(Cidr { base: addr & mask, mask, v6, prefix })
    }

    /// Whether `text` is an address inside this network.
    pub fn contains(&self, text: &str) -> bool {
        match text.parse::<IpAddr>() {
            Ok(ip) => {
                let (addr, v6) = bits(ip);
                v6 == self.v6 && addr & self.mask == self.base
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_and_v6_membership_and_errors() {
        let net = Cidr::parse("10.0.0.0/24").unwrap();
        assert!(net.contains("10.0.0.255") && !net.contains("10.0.1.0") && !net.contains("abc"));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("8.8.8.8"));
        let v6 = Cidr::parse("2001:db8:1234:1a00::/64").unwrap();
        assert!(
            v6.contains("2001:db8:1234:1a00::1") && !v6.contains("2001:db8:1234:1a01::1") && !v6.contains("10.0.0.1")
        );
        assert_eq!(Cidr::parse("10.0.0.0").unwrap_err(), "Malformed CIDR, one '/' required");
        assert_eq!(Cidr::parse("10.0.0.0/x").unwrap_err(), "Malformed CIDR, mask bits must be an integer");
        assert_eq!(Cidr::parse("xx.11.xx/24").unwrap_err(), "Nonstandard IP address: xx.11.xx");
        assert!(Cidr::parse("10.0.0.0/33").is_err());
    }
}

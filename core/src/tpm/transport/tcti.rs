//! The tpm2-tss TCTI connection-string syntax, parsed without allocation.

use super::TransportError;

/// A parsed TCTI string; the strings borrow from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tcti<'a> {
    /// `device:PATH` (`device` alone means `/dev/tpmrm0`).
    Device {
        /// The character device.
        path: &'a str,
    },
    /// `swtpm:host=H,port=P` (`swtpm` alone means `localhost:2321`).
    SwtpmTcp {
        /// Host name or address.
        host: &'a str,
        /// Data-channel port.
        port: u16,
    },
    /// `swtpm:path=SOCKET`: swtpm's data channel on a Unix socket.
    SwtpmUnix {
        /// The socket path.
        path: &'a str,
    },
}

/// Parses a TCTI string such as `swtpm:path=/tmp/s.sock`.
///
/// # Errors
///
/// [`TransportError::InvalidTcti`] for an unknown kind, an unknown or repeated
/// key, an empty value or a port that is not a number in `1..=65535`.
pub fn parse_tcti(tcti: &str) -> Result<Tcti<'_>, TransportError> {
    let (kind, config) = match tcti.split_once(':') {
        Some((kind, config)) => (kind, config),
        None => (tcti, ""),
    };
    match kind {
        "device" => {
            let path = if config.is_empty() {
                super::DEFAULT_DEVICE
            } else {
                config
            };
            Ok(Tcti::Device { path })
        }
        "swtpm" => parse_swtpm(config),
        _ => Err(TransportError::InvalidTcti),
    }
}

fn parse_swtpm(config: &str) -> Result<Tcti<'_>, TransportError> {
    let mut host = None;
    let mut port = None;
    let mut path = None;
    if !config.is_empty() {
        for pair in config.split(',') {
            let (key, value) = pair.split_once('=').ok_or(TransportError::InvalidTcti)?;
            if value.is_empty() {
                return Err(TransportError::InvalidTcti);
            }
            let slot = match key {
                "host" => &mut host,
                "port" => &mut port,
                "path" => &mut path,
                _ => return Err(TransportError::InvalidTcti),
            };
            if slot.replace(value).is_some() {
                return Err(TransportError::InvalidTcti);
            }
        }
    }
    match (path, host, port) {
        (Some(path), None, None) => Ok(Tcti::SwtpmUnix { path }),
        (Some(_), _, _) => Err(TransportError::InvalidTcti),
        (None, host, port) => {
            let port = match port {
                Some(text) => match text.parse::<u16>() {
                    Ok(0) | Err(_) => return Err(TransportError::InvalidTcti),
                    Ok(port) => port,
                },
                None => 2321,
            };
            Ok(Tcti::SwtpmTcp {
                host: host.unwrap_or("localhost"),
                port,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms() {
        assert_eq!(
            parse_tcti("device:/dev/tpmrm0"),
            Ok(Tcti::Device {
                path: "/dev/tpmrm0"
            })
        );
        assert_eq!(
            parse_tcti("device"),
            Ok(Tcti::Device {
                path: "/dev/tpmrm0"
            })
        );
        assert_eq!(
            parse_tcti("swtpm:host=127.0.0.1,port=2321"),
            Ok(Tcti::SwtpmTcp {
                host: "127.0.0.1",
                port: 2321
            })
        );
        assert_eq!(
            parse_tcti("swtpm:port=2400"),
            Ok(Tcti::SwtpmTcp {
                host: "localhost",
                port: 2400
            })
        );
        assert_eq!(
            parse_tcti("swtpm:path=/run/swtpm.sock"),
            Ok(Tcti::SwtpmUnix {
                path: "/run/swtpm.sock"
            })
        );
    }

    #[test]
    fn rejects_malformed_strings() {
        for bad in [
            "mssim:host=x",
            "swtpm:port=0",
            "swtpm:port=70000",
            "swtpm:port=abc",
            "swtpm:host=",
            "swtpm:path=/a,host=b",
            "swtpm:path=/a,path=/b",
            "swtpm:colour=blue",
            "swtpm:host",
            "",
        ] {
            assert_eq!(parse_tcti(bad), Err(TransportError::InvalidTcti), "{bad}");
        }
    }
}

//! Arguments of the keystore calls: passwords and KDF parameters.
//!
//! The KDF runs with the GIL released (scrypt at its default cost takes about
//! a second), so a password cannot stay borrowed from a Python object that
//! another thread could change meanwhile: it is copied once into zeroizing
//! memory, and that copy is the only one the binding makes.

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};
use zeroize::Zeroizing;

use wallet_core::keystore::KdfParams;

use crate::error::BindingError;

type Result<T, E = BindingError> = core::result::Result<T, E>;

/// A keystore password as UTF-8 bytes (what eth-account, geth and Foundry
/// derive from), wiped when dropped.
pub(crate) fn password_bytes(password: &Bound<'_, PyAny>) -> Result<Zeroizing<Vec<u8>>> {
    if let Ok(bytes) = password.cast::<PyBytes>() {
        return Ok(Zeroizing::new(bytes.as_bytes().to_vec()));
    }
    if let Ok(array) = password.cast::<PyByteArray>() {
        return Ok(Zeroizing::new(array.to_vec()));
    }
    if let Ok(text) = password.cast::<PyString>() {
        let text = text.to_str().map_err(|_| {
            BindingError::invalid_keystore_argument("the password is not valid Unicode text")
        })?;
        return Ok(Zeroizing::new(text.as_bytes().to_vec()));
    }
    Err(BindingError::invalid_keystore_argument(
        "the password must be str or bytes",
    ))
}

/// The KDF of an export, by name, with its parameters as a keystore spells
/// them; a parameter left out takes the default's value.
pub(crate) fn kdf_params(
    kdf: &str,
    n: Option<u64>,
    r: Option<u64>,
    p: Option<u64>,
    c: Option<u64>,
) -> Result<KdfParams> {
    match kdf {
        "scrypt" => {
            if c.is_some() {
                return Err(BindingError::invalid_keystore_argument(
                    "c is a pbkdf2 parameter; scrypt takes n, r and p",
                ));
            }
            let KdfParams::Scrypt {
                log_n,
                r: default_r,
                p: default_p,
            } = KdfParams::SCRYPT_DEFAULT
            else {
                return Err(BindingError::invalid_keystore_argument(
                    "the default scrypt parameters are not scrypt",
                ));
            };
            Ok(KdfParams::scrypt(
                n.unwrap_or(1 << log_n),
                r.unwrap_or(u64::from(default_r)),
                p.unwrap_or(u64::from(default_p)),
            )?)
        }
        "pbkdf2" => {
            if n.is_some() || r.is_some() || p.is_some() {
                return Err(BindingError::invalid_keystore_argument(
                    "n, r and p are scrypt parameters; pbkdf2 takes c",
                ));
            }
            match c {
                Some(c) => Ok(KdfParams::pbkdf2(c)?),
                None => Ok(KdfParams::PBKDF2_DEFAULT),
            }
        }
        other => Err(BindingError::invalid_keystore_argument(format!(
            "kdf must be 'scrypt' or 'pbkdf2', not {other:?}"
        ))),
    }
}

//! The keystore's JSON form: a strict reader that names the field behind
//! every error, and the writer.
//!
//! The reader goes through `serde_json::Value` rather than derived structs
//! so each failure maps to a `Copy` error naming its field, with no text
//! from the file. Input is bounded by [`limits::MAX_JSON_LEN`] and
//! `serde_json`'s recursion limit, so parsing is cheap whatever it is fed.

use std::borrow::ToOwned as _;
use std::string::{String, ToString as _};

use serde_json::{Map, Value};

use super::kdf::{limits, KdfParams};
use super::{
    hex, Field, Keystore, KeystoreError, Limit, CIPHERTEXT_LEN, DERIVED_KEY_LEN, IV_LEN, MAC_LEN,
};
use crate::signer::Address;

const VERSION: u64 = 3;
const CIPHER: &str = "aes-128-ctr";
const KDF_SCRYPT: &str = "scrypt";
const KDF_PBKDF2: &str = "pbkdf2";
const PRF: &str = "hmac-sha256";

type Object = Map<String, Value>;

fn syntax_error(error: &serde_json::Error) -> KeystoreError {
    if error.is_eof() {
        KeystoreError::JsonTruncated
    } else {
        KeystoreError::JsonSyntax {
            line: error.line(),
            column: error.column(),
        }
    }
}

fn object<'a>(parent: &'a Object, key: &str, field: Field) -> Result<&'a Object, KeystoreError> {
    parent
        .get(key)
        .ok_or(KeystoreError::MissingField(field))?
        .as_object()
        .ok_or(KeystoreError::WrongType(field))
}

fn string<'a>(parent: &'a Object, key: &str, field: Field) -> Result<&'a str, KeystoreError> {
    parent
        .get(key)
        .ok_or(KeystoreError::MissingField(field))?
        .as_str()
        .ok_or(KeystoreError::WrongType(field))
}

fn integer(parent: &Object, key: &str, field: Field) -> Result<u64, KeystoreError> {
    parent
        .get(key)
        .ok_or(KeystoreError::MissingField(field))?
        .as_u64()
        .ok_or(KeystoreError::WrongType(field))
}

/// `crypto`, or `Crypto` as files from early geth releases spell it.
fn crypto(root: &Object) -> Result<&Object, KeystoreError> {
    match (root.get("crypto"), root.get("Crypto")) {
        (Some(_), Some(_)) => Err(KeystoreError::DuplicateCrypto),
        (Some(value), None) | (None, Some(value)) => value
            .as_object()
            .ok_or(KeystoreError::WrongType(Field::Crypto)),
        (None, None) => Err(KeystoreError::MissingField(Field::Crypto)),
    }
}

fn kdf_params(crypto: &Object) -> Result<(KdfParams, std::vec::Vec<u8>), KeystoreError> {
    let kdf = string(crypto, "kdf", Field::Kdf)?;
    if kdf != KDF_SCRYPT && kdf != KDF_PBKDF2 {
        return Err(KeystoreError::UnsupportedKdf);
    }
    let params = object(crypto, "kdfparams", Field::KdfParams)?;
    let dklen = integer(params, "dklen", Field::Dklen)?;
    if dklen != DERIVED_KEY_LEN as u64 {
        return Err(KeystoreError::InvalidKdfParam(Field::Dklen));
    }
    let kdf = if kdf == KDF_SCRYPT {
        KdfParams::scrypt(
            integer(params, "n", Field::N)?,
            integer(params, "r", Field::R)?,
            integer(params, "p", Field::P)?,
        )?
    } else {
        if string(params, "prf", Field::Prf)? != PRF {
            return Err(KeystoreError::UnsupportedPrf);
        }
        KdfParams::pbkdf2(integer(params, "c", Field::C)?)?
    };
    let salt = string(params, "salt", Field::Salt)?;
    let salt_len = hex::decoded_len(salt);
    if salt_len > limits::MAX_SALT_LEN {
        return Err(KeystoreError::LimitExceeded(Limit::SaltLength {
            len: u64::try_from(salt_len).unwrap_or(u64::MAX),
        }));
    }
    Ok((kdf, hex::decode_vec(salt, Field::Salt)?))
}

/// Parses a keystore; see [`Keystore::from_json`].
pub(super) fn parse(json: &[u8]) -> Result<Keystore, KeystoreError> {
    if json.len() > limits::MAX_JSON_LEN {
        return Err(KeystoreError::LimitExceeded(Limit::JsonLength {
            len: u64::try_from(json.len()).unwrap_or(u64::MAX),
        }));
    }
    let value: Value = serde_json::from_slice(json).map_err(|e| syntax_error(&e))?;
    let root = value
        .as_object()
        .ok_or(KeystoreError::WrongType(Field::Root))?;

    let version = integer(root, "version", Field::Version)?;
    if version != VERSION {
        return Err(KeystoreError::UnsupportedVersion(version));
    }
    let crypto = crypto(root)?;
    if string(crypto, "cipher", Field::Cipher)? != CIPHER {
        return Err(KeystoreError::UnsupportedCipher);
    }
    let (kdf, salt) = kdf_params(crypto)?;
    let cipherparams = object(crypto, "cipherparams", Field::CipherParams)?;
    let iv = hex::decode_array::<IV_LEN>(string(cipherparams, "iv", Field::Iv)?, Field::Iv)?;
    let ciphertext = hex::decode_array::<CIPHERTEXT_LEN>(
        string(crypto, "ciphertext", Field::Ciphertext)?,
        Field::Ciphertext,
    )?;
    let mac = hex::decode_array::<MAC_LEN>(string(crypto, "mac", Field::Mac)?, Field::Mac)?;

    // Optional fields: absent is fine, but present means well formed.
    let address = match root.get("address") {
        None | Some(Value::Null) => None,
        Some(value) => {
            let text = value
                .as_str()
                .ok_or(KeystoreError::WrongType(Field::Address))?;
            Some(Address(hex::decode_array::<20>(text, Field::Address)?))
        }
    };
    let id = match root.get("id") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_str()
                .ok_or(KeystoreError::WrongType(Field::Id))?
                .to_owned(),
        ),
    };

    Ok(Keystore {
        address,
        id,
        kdf,
        salt,
        iv,
        ciphertext,
        mac,
    })
}

fn text(value: impl Into<String>) -> Value {
    Value::String(value.into())
}

fn number(value: impl Into<u64>) -> Value {
    Value::Number(value.into().into())
}

/// Writes a keystore; see [`Keystore::to_json`].
pub(super) fn to_json(keystore: &Keystore) -> String {
    let mut kdfparams = Object::new();
    kdfparams.insert("dklen".into(), number(DERIVED_KEY_LEN as u64));
    kdfparams.insert("salt".into(), text(hex::encode(&keystore.salt)));
    let kdf = match keystore.kdf {
        KdfParams::Scrypt { log_n, r, p } => {
            kdfparams.insert(
                "n".into(),
                number(1u64.checked_shl(u32::from(log_n)).unwrap_or(0)),
            );
            kdfparams.insert("r".into(), number(r));
            kdfparams.insert("p".into(), number(p));
            KDF_SCRYPT
        }
        KdfParams::Pbkdf2 { c } => {
            kdfparams.insert("c".into(), number(c));
            kdfparams.insert("prf".into(), text(PRF));
            KDF_PBKDF2
        }
    };

    let mut cipherparams = Object::new();
    cipherparams.insert("iv".into(), text(hex::encode(&keystore.iv)));

    let mut crypto = Object::new();
    crypto.insert("cipher".into(), text(CIPHER));
    crypto.insert("cipherparams".into(), Value::Object(cipherparams));
    crypto.insert("ciphertext".into(), text(hex::encode(&keystore.ciphertext)));
    crypto.insert("kdf".into(), text(kdf));
    crypto.insert("kdfparams".into(), Value::Object(kdfparams));
    crypto.insert("mac".into(), text(hex::encode(&keystore.mac)));

    let mut root = Object::new();
    if let Some(address) = keystore.address {
        root.insert("address".into(), text(hex::encode(&address.0)));
    }
    root.insert("crypto".into(), Value::Object(crypto));
    if let Some(id) = &keystore.id {
        root.insert("id".into(), text(id.as_str()));
    }
    root.insert("version".into(), number(VERSION));
    Value::Object(root).to_string()
}

//! Exports and imports Web3 Secret Storage v3 keystores with the core's
//! `keystore` module, for the interop suite in `tests/keystore/` (eth-account
//! and `cast` on the other side). The wallet's own entry points seal the key
//! in the TPM instead; this tool exists to test the file format.
//!
//! ```text
//! keystore_tool export [scrypt LOG_N R P | pbkdf2 C]  < key-hex-line + password-line
//! keystore_tool import FILE                          < password-line
//! ```
//!
//! `export` reads the secret key (hex, `0x` optional) on the first stdin line
//! and the password on the second, and writes the keystore JSON to stdout
//! (scrypt n=2^18 r=8 p=1 when no KDF is given). `import` reads the password
//! from stdin and prints the address of the decrypted key, EIP-55
//! checksummed; the key itself is never printed. A password is the whole
//! line without its line ending, so it may hold spaces.
//!
//! Errors go to stderr: exit status 1 for a keystore error (the message is
//! the core's), 2 for bad usage or input.

use std::io::{self, Read as _, Write as _};
use std::process::ExitCode;

use rand::rngs::OsRng;
use wallet_core::keystore::{self, KdfParams};
use wallet_core::signer::SecretKey;
use zeroize::Zeroizing;

const USAGE: &str = "usage: keystore_tool export [scrypt LOG_N R P | pbkdf2 C] \
                     < key-line + password-line\n       keystore_tool import FILE < password-line";

enum Failure {
    Usage(String),
    Keystore(keystore::KeystoreError),
}

impl From<keystore::KeystoreError> for Failure {
    fn from(error: keystore::KeystoreError) -> Self {
        Self::Keystore(error)
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::Usage(message.into())
}

/// One stdin line without its line ending, in a buffer wiped on drop.
fn read_line(stdin: &mut impl io::BufRead, what: &str) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let mut line = Zeroizing::new(Vec::new());
    stdin
        .read_until(b'\n', &mut line)
        .map_err(|e| usage(format!("reading the {what} from stdin: {e}")))?;
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    Ok(line)
}

fn parse_number<T: std::str::FromStr>(text: Option<&String>, name: &str) -> Result<T, Failure> {
    text.and_then(|t| t.parse().ok())
        .ok_or_else(|| usage(format!("{name} must be a number\n{USAGE}")))
}

fn kdf_from_args(args: &[String]) -> Result<KdfParams, Failure> {
    match args.first().map(String::as_str) {
        None => Ok(KdfParams::SCRYPT_DEFAULT),
        Some("scrypt") if args.len() == 4 => Ok(KdfParams::Scrypt {
            log_n: parse_number(args.get(1), "LOG_N")?,
            r: parse_number(args.get(2), "R")?,
            p: parse_number(args.get(3), "P")?,
        }),
        Some("pbkdf2") if args.len() == 2 => Ok(KdfParams::Pbkdf2 {
            c: parse_number(args.get(1), "C")?,
        }),
        Some(_) => Err(usage(USAGE)),
    }
}

fn export(args: &[String]) -> Result<(), Failure> {
    let params = kdf_from_args(args)?;
    let mut stdin = io::stdin().lock();
    let key_hex = read_line(&mut stdin, "secret key")?;
    let password = read_line(&mut stdin, "password")?;

    let digits = key_hex.strip_prefix(b"0x").unwrap_or(&key_hex);
    let mut key_bytes = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(digits, key_bytes.as_mut_slice())
        .map_err(|_| usage("the secret key must be 64 hex digits"))?;
    let key = SecretKey::from_bytes(&key_bytes)
        .map_err(|e| usage(format!("the secret key is invalid: {e}")))?;

    let keystore = keystore::export(&key, &password, params, &mut OsRng)?;
    writeln!(io::stdout(), "{}", keystore.to_json())
        .map_err(|e| usage(format!("writing stdout: {e}")))
}

fn import(args: &[String]) -> Result<(), Failure> {
    let [path] = args else {
        return Err(usage(USAGE));
    };
    let mut json = String::new();
    std::fs::File::open(path)
        .and_then(|mut file| file.read_to_string(&mut json))
        .map_err(|e| usage(format!("reading {path}: {e}")))?;
    let password = read_line(&mut io::stdin().lock(), "password")?;
    let key = keystore::import(&json, &password)?;
    writeln!(io::stdout(), "{}", key.address()).map_err(|e| usage(format!("writing stdout: {e}")))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("export") => export(args.get(1..).unwrap_or_default()),
        Some("import") => import(args.get(1..).unwrap_or_default()),
        _ => Err(usage(USAGE)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Keystore(error)) => {
            let _ = writeln!(io::stderr(), "keystore_tool: {error}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(message)) => {
            let _ = writeln!(io::stderr(), "keystore_tool: {message}");
            ExitCode::from(2)
        }
    }
}

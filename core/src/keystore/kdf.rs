//! The two password KDFs of Web3 Secret Storage, their parameters and the
//! limits that keep a hostile file from exhausting memory or CPU.

use zeroize::Zeroizing;

use super::{Field, KeystoreError, Limit, DERIVED_KEY_LEN};

/// Resource limits on what [`import`](super::import) accepts (and what
/// [`export`](super::export) agrees to write).
///
/// They accept every file the common tools write: geth's standard
/// (`n = 2^18, r = 8, p = 1`) and light (`n = 2^12, r = 8, p = 6`)
/// settings, eth-account's defaults (scrypt `n = 2^18, r = 8, p = 1`,
/// PBKDF2 `c = 1_000_000`), the Web3 Secret Storage example
/// (`n = 2^18, r = 1, p = 8`) and Foundry's `cast wallet new`
/// (`n = 2^13, r = 8, p = 1`), with room to spare.
pub mod limits {
    /// Longest keystore JSON text, in bytes. A keystore is under 1 KiB;
    /// files from ethers carry an extra encrypted mnemonic and stay under 4 KiB.
    pub const MAX_JSON_LEN: usize = 64 * 1024;
    /// Largest scrypt `log2(n)`: `n <= 2^20`.
    pub const SCRYPT_MAX_LOG_N: u32 = 20;
    /// Largest scrypt work buffer, `128 * n * r` bytes (the memory one
    /// derivation allocates): 512 MiB, twice the default's 256 MiB.
    pub const SCRYPT_MAX_MEMORY: u64 = 512 * 1024 * 1024;
    /// Largest scrypt total work, `128 * n * r * p` bytes mixed: 1 GiB,
    /// four times the default's (so about four times its running time).
    pub const SCRYPT_MAX_WORK: u64 = 1024 * 1024 * 1024;
    /// Largest PBKDF2-HMAC-SHA256 iteration count.
    pub const PBKDF2_MAX_ITERATIONS: u64 = 10_000_000;
    /// Longest KDF salt, in bytes.
    pub const MAX_SALT_LEN: usize = 1024;
}

/// A key derivation function and its cost parameters (`dklen` is always 32).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KdfParams {
    /// scrypt with `n = 2^log_n`.
    Scrypt {
        /// log2 of the CPU/memory cost `n`.
        log_n: u8,
        /// Block size.
        r: u32,
        /// Parallelisation.
        p: u32,
    },
    /// PBKDF2 with HMAC-SHA256 and `c` iterations.
    Pbkdf2 {
        /// Iteration count.
        c: u32,
    },
}

impl Default for KdfParams {
    /// [`KdfParams::SCRYPT_DEFAULT`].
    fn default() -> Self {
        Self::SCRYPT_DEFAULT
    }
}

impl KdfParams {
    /// scrypt `n = 2^18, r = 8, p = 1`: geth's standard setting and the default.
    pub const SCRYPT_DEFAULT: Self = Self::Scrypt {
        log_n: 18,
        r: 8,
        p: 1,
    };

    /// PBKDF2-HMAC-SHA256 with `c = 262144`, as in the Web3 Secret Storage
    /// definition.
    pub const PBKDF2_DEFAULT: Self = Self::Pbkdf2 { c: 262_144 };

    /// scrypt parameters as a file spells them (`n`, not `log2 n`), checked
    /// against the format and the [`limits`].
    ///
    /// # Errors
    /// [`KeystoreError::InvalidKdfParam`] if `n` is not a power of two above
    /// 1 or `r` or `p` is zero; [`KeystoreError::LimitExceeded`] naming the
    /// limit otherwise.
    pub fn scrypt(n: u64, r: u64, p: u64) -> Result<Self, KeystoreError> {
        if n < 2 || !n.is_power_of_two() {
            return Err(KeystoreError::InvalidKdfParam(Field::N));
        }
        let log_n = n.trailing_zeros();
        if log_n > limits::SCRYPT_MAX_LOG_N {
            return Err(KeystoreError::LimitExceeded(Limit::ScryptN { log_n }));
        }
        if r == 0 {
            return Err(KeystoreError::InvalidKdfParam(Field::R));
        }
        if p == 0 {
            return Err(KeystoreError::InvalidKdfParam(Field::P));
        }
        // In u128 no product of u64 factors here can overflow.
        let memory = 128 * u128::from(n) * u128::from(r);
        if memory > u128::from(limits::SCRYPT_MAX_MEMORY) {
            return Err(KeystoreError::LimitExceeded(Limit::ScryptMemory {
                bytes: saturate(memory),
            }));
        }
        let work = memory * u128::from(p);
        if work > u128::from(limits::SCRYPT_MAX_WORK) {
            return Err(KeystoreError::LimitExceeded(Limit::ScryptWork {
                bytes: saturate(work),
            }));
        }
        // Within the limits r and p are far below 2^30 (and r * p too, as
        // scrypt requires), and log_n is at most 20.
        match (u8::try_from(log_n), u32::try_from(r), u32::try_from(p)) {
            (Ok(log_n), Ok(r), Ok(p)) => Ok(Self::Scrypt { log_n, r, p }),
            _ => Err(KeystoreError::LimitExceeded(Limit::ScryptWork {
                bytes: saturate(work),
            })),
        }
    }

    /// PBKDF2 parameters as a file spells them, checked against the
    /// [`limits`].
    ///
    /// # Errors
    /// [`KeystoreError::InvalidKdfParam`] if `c` is zero,
    /// [`KeystoreError::LimitExceeded`] if it is over
    /// [`limits::PBKDF2_MAX_ITERATIONS`].
    pub fn pbkdf2(c: u64) -> Result<Self, KeystoreError> {
        if c == 0 {
            return Err(KeystoreError::InvalidKdfParam(Field::C));
        }
        if c > limits::PBKDF2_MAX_ITERATIONS {
            return Err(KeystoreError::LimitExceeded(Limit::Pbkdf2Iterations { c }));
        }
        u32::try_from(c)
            .map(|c| Self::Pbkdf2 { c })
            .map_err(|_| KeystoreError::LimitExceeded(Limit::Pbkdf2Iterations { c }))
    }

    /// Checks these parameters against the format and the [`limits`].
    ///
    /// # Errors
    /// As [`KdfParams::scrypt`] and [`KdfParams::pbkdf2`].
    pub fn check(self) -> Result<(), KeystoreError> {
        match self {
            Self::Scrypt { log_n, r, p } => {
                let log_n = u32::from(log_n);
                if log_n > limits::SCRYPT_MAX_LOG_N {
                    return Err(KeystoreError::LimitExceeded(Limit::ScryptN { log_n }));
                }
                Self::scrypt(1u64 << log_n, u64::from(r), u64::from(p)).map(|_| ())
            }
            Self::Pbkdf2 { c } => Self::pbkdf2(u64::from(c)).map(|_| ()),
        }
    }

    /// The 32-byte derived key.
    pub(super) fn derive(
        self,
        password: &[u8],
        salt: &[u8],
    ) -> Result<Zeroizing<[u8; DERIVED_KEY_LEN]>, KeystoreError> {
        self.check()?;
        if salt.len() > limits::MAX_SALT_LEN {
            return Err(KeystoreError::LimitExceeded(Limit::SaltLength {
                len: saturate(salt.len() as u128),
            }));
        }
        let mut derived = Zeroizing::new([0u8; DERIVED_KEY_LEN]);
        match self {
            Self::Scrypt { log_n, r, p } => {
                let params = scrypt::Params::new(log_n, r, p)
                    .map_err(|_| KeystoreError::InvalidKdfParam(Field::N))?;
                scrypt::scrypt(password, salt, &params, derived.as_mut_slice())
                    .map_err(|_| KeystoreError::InvalidKdfParam(Field::Dklen))?;
            }
            Self::Pbkdf2 { c } => {
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, c, derived.as_mut_slice());
            }
        }
        Ok(derived)
    }
}

fn saturate(value: u128) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

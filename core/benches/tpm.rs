//! TPM-backed wallet latencies against a private swtpm: strict and cached
//! signing, TPM commands per signature, and create, backup, restore and
//! attest. Run with `cargo bench -p wallet-core --bench tpm`.

// `criterion_group!` generates a public function without documentation.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use wallet_core::attest::{verify, Expectations};
use wallet_core::counter::{self, CounterAuth};
use wallet_core::credential::make_credential;
use wallet_core::enrollment::ActivationChallenge;
use wallet_core::policy::Policy;
use wallet_core::seal::{self, KeyLock, PinAuth};
use wallet_core::signer::SecretKey;
use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::transport::SocketTransport;
use wallet_core::tpm::Tpm;
use wallet_core::tx::U256;
use wallet_core::wallet::{AccountOptions, KeyMode, Wallet};

/// An EIP-1559 unsigned signing payload on chain 14, built with the rlp crate.
fn eip1559_payload() -> Vec<u8> {
    let mut s = rlp::RlpStream::new_list(9);
    s.append(&14u64);
    s.append(&7u64);
    s.append(&1_000_000_000u64);
    s.append(&30_000_000_000u64);
    s.append(&21_000u64);
    s.append(&vec![0x11u8; 20]);
    s.append(&1_000_000_000_000_000u64);
    s.append_empty_data();
    s.begin_list(0);
    let mut out = vec![0x02];
    out.extend_from_slice(&s.out());
    out
}

struct Bench {
    swtpm: Swtpm,
    /// The simulator's CA as trust roots, parsed once as a service would.
    trust: wallet_core::tpm::ek::TpmTrust,
    root: PathBuf,
    next: u64,
}

impl Bench {
    fn new() -> Self {
        let swtpm = Swtpm::start_temporary().expect("swtpm must be installed");
        let root = std::env::temp_dir().join(format!("flw-bench-{}", std::process::id()));
        std::fs::create_dir_all(&root).expect("bench dir");
        Self {
            trust: swtpm.trust(),
            swtpm,
            root,
            next: 0,
        }
    }

    fn fresh_state(&mut self) -> PathBuf {
        self.next += 1;
        self.root.join(format!("state-{}", self.next))
    }

    fn open(&mut self) -> Wallet {
        let state = self.fresh_state();
        Wallet::open(&self.swtpm.tcti(), &state, &self.trust).expect("open")
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Counts the TPM commands of `op`, after one call outside the count (in
/// cached mode that first call is the one that unseals).
fn report_commands(wallet: &mut Wallet, what: &str, mut op: impl FnMut(&mut Wallet)) {
    op(wallet);
    let before = wallet.tpm_commands_sent();
    let rounds = 20;
    for _ in 0..rounds {
        op(wallet);
    }
    let per_op = (wallet.tpm_commands_sent() - before) as f64 / f64::from(rounds);
    eprintln!("TPM commands per {what}: {per_op}");
}

fn tpm_benches(c: &mut Criterion) {
    let mut bench = Bench::new();
    let payload = eip1559_payload();
    let mut out = [0u8; 512];

    let mut wallet = bench.open();
    let before = wallet.tpm_commands_sent();
    let start = std::time::Instant::now();
    wallet
        .create_account(AccountOptions::default())
        .expect("create");
    eprintln!(
        "account creation (key lock none, with its counter): {} TPM commands, {:?}",
        wallet.tpm_commands_sent() - before,
        start.elapsed()
    );

    report_commands(&mut wallet, "strict signature", |w| {
        w.sign_transaction(&payload, &mut [0u8; 512]).expect("sign");
    });
    c.bench_function("tpm/sign_transaction/strict", |b| {
        b.iter(|| {
            wallet
                .sign_transaction(black_box(&payload), &mut out)
                .expect("sign")
        });
    });

    // The same strict signature with a PIN-locked key: the unseal adds
    // PolicyAuthValue to its policy session. Run side by side with the above.
    drop(wallet);
    let mut pinned = bench.open();
    pinned
        .create_account(AccountOptions {
            key_lock: Some(KeyLock::PIN),
            pin: Some(PinAuth::from_pin(b"1234").expect("pin")),
            ..AccountOptions::default()
        })
        .expect("create with a PIN");
    report_commands(&mut pinned, "strict signature, PIN-locked", |w| {
        w.sign_transaction(&payload, &mut [0u8; 512]).expect("sign");
    });
    c.bench_function("tpm/sign_transaction/strict_pin", |b| {
        b.iter(|| {
            pinned
                .sign_transaction(black_box(&payload), &mut out)
                .expect("sign")
        });
    });
    drop(pinned);

    // One anti-rollback counter increment (StartAuthSession, NV_Increment):
    // what a counter commit per signature would add.
    {
        let transport = wallet_core::tpm::transport::open(&bench.swtpm.tcti()).expect("tcti");
        let mut tpm = Tpm::new(transport).expect("entropy");
        wallet_core::tpm::ek::establish(&mut tpm, &bench.swtpm.trust()).expect("EK");
        let srk_name = seal::srk_name(&mut tpm).expect("srk");
        let key = SecretKey::from_bytes(&[0x42; 32]).expect("key");
        let auth = CounterAuth::derive(&key);
        let (index, _) = counter::define(&mut tpm, &srk_name, &[0x42; 20], &auth).expect("define");
        let before = tpm.commands_sent();
        counter::increment(&mut tpm, index, &auth).expect("increment");
        eprintln!(
            "TPM commands per counter increment: {}",
            tpm.commands_sent() - before
        );
        c.bench_function("tpm/nv_counter/increment", |b| {
            b.iter(|| counter::increment(&mut tpm, index, &auth).expect("increment"));
        });

        // What every account's counter adds to its creation (key lock `none`
        // included): defining it. Timed by hand a few times, not by
        // criterion: each definition takes an NV index for good, and the
        // TPM has room for few.
        let mut times = Vec::new();
        let mut commands = 0;
        for i in 0..7u8 {
            let key = SecretKey::from_bytes(&[0x50 + i; 32]).expect("key");
            let auth = CounterAuth::derive(&key);
            let before = tpm.commands_sent();
            let start = std::time::Instant::now();
            counter::define(&mut tpm, &srk_name, &[0x50 + i; 20], &auth).expect("define");
            times.push(start.elapsed());
            commands = tpm.commands_sent() - before;
        }
        times.sort();
        eprintln!(
            "counter definition: {commands} TPM commands, median {:?} (min {:?}, max {:?}) of {}",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1],
            times.len()
        );

        // The unseal alone, side by side: creating the SRK for each unseal
        // (its session salted to the EK, re-derived each time) against the
        // persistent SRK proven resident once.
        let encryption = wallet_core::tpm::ParameterEncryption::Aes128Cfb;
        for (what, lock, pin) in [
            ("unlocked", KeyLock::UNLOCKED, None),
            (
                "pin",
                KeyLock::PIN,
                Some(PinAuth::from_pin(b"1234").expect("pin")),
            ),
        ] {
            let sealed = seal::seal_locked(
                &mut tpm,
                Some(&srk_name),
                &[0x42; 32],
                lock,
                pin.as_ref(),
                encryption,
            )
            .expect("seal");
            let before = tpm.commands_sent();
            seal::unseal_locked(&mut tpm, &srk_name, &sealed, pin.as_ref(), encryption)
                .expect("unseal");
            eprintln!(
                "TPM commands per unseal, {what}, loaded each time: {}",
                tpm.commands_sent() - before
            );
            c.bench_function(&format!("tpm/unseal/{what}/load_each_time"), |b| {
                b.iter(|| {
                    seal::unseal_locked(&mut tpm, &srk_name, &sealed, pin.as_ref(), encryption)
                        .expect("unseal")
                });
            });
            let resident = seal::resident_srk(&mut tpm, &srk_name)
                .expect("resident")
                .expect("persistent SRK");
            let before = tpm.commands_sent();
            seal::unseal_resident(&mut tpm, &resident, &sealed, pin.as_ref(), encryption)
                .expect("unseal");
            eprintln!(
                "TPM commands per unseal, {what}, persistent SRK: {}",
                tpm.commands_sent() - before
            );
            c.bench_function(&format!("tpm/unseal/{what}/persistent_srk"), |b| {
                b.iter(|| {
                    seal::unseal_resident(&mut tpm, &resident, &sealed, pin.as_ref(), encryption)
                        .expect("unseal")
                });
            });
        }
    }

    let mut wallet = bench.open();
    wallet
        .create_account(AccountOptions::default())
        .expect("create");
    wallet.set_key_mode(KeyMode::Cached);
    report_commands(&mut wallet, "cached signature", |w| {
        w.sign_transaction(&payload, &mut [0u8; 512]).expect("sign");
    });
    c.bench_function("tpm/sign_transaction/cached", |b| {
        b.iter(|| {
            wallet
                .sign_transaction(black_box(&payload), &mut out)
                .expect("sign")
        });
    });

    // The same wallet's state directory, through a transport that keeps one
    // connection instead of one per operation (the swtpm is shared by default).
    let state = wallet.state_dir().to_path_buf();
    drop(wallet);
    let persistent = SocketTransport::unix(bench.swtpm.socket_path()).persistent();
    let mut held =
        Wallet::with_transport(Box::new(persistent), &state, &bench.swtpm.trust()).expect("open");
    held.load_account().expect("load");
    c.bench_function("tpm/sign_transaction/strict_persistent_connection", |b| {
        b.iter(|| {
            held.sign_transaction(black_box(&payload), &mut out)
                .expect("sign")
        });
    });
    drop(held);

    // A daily limit: each signature reserves and commits its spend in the
    // ledger (two atomic, fsynced writes under the directory's lock). The
    // account has no key lock (`none`), and its counter: the ledger is bound.
    let mut limited = bench.open();
    let mut policy = Policy::default();
    policy.set_daily_limit_wei(Some(U256::MAX));
    limited
        .create_account(AccountOptions {
            policy,
            key_lock: Some(wallet_core::seal::KeyLock::UNLOCKED),
            ..AccountOptions::default()
        })
        .expect("create");
    limited.set_key_mode(KeyMode::Cached);
    c.bench_function("tpm/sign_transaction/cached_daily_limit", |b| {
        b.iter(|| {
            limited
                .sign_transaction(black_box(&payload), &mut out)
                .expect("sign")
        });
    });
    report_commands(&mut limited, "cached signature, daily limit", |w| {
        w.sign_transaction(&payload, &mut [0u8; 512]).expect("sign");
    });
    drop(limited);

    // The same with a PIN-locked account: its ledger is bound to the
    // anti-rollback counter as the `none` account's is (the reserve reads and
    // increments the counter, the commit reads it). Side by side with the
    // above.
    let mut bound = bench.open();
    let mut policy = Policy::default();
    policy.set_daily_limit_wei(Some(U256::MAX));
    bound
        .create_account(AccountOptions {
            policy,
            key_lock: Some(KeyLock::PIN),
            pin: Some(PinAuth::from_pin(b"1234").expect("pin")),
            ..AccountOptions::default()
        })
        .expect("create");
    bound.set_key_mode(KeyMode::Cached);
    c.bench_function("tpm/sign_transaction/cached_daily_limit_counter", |b| {
        b.iter(|| {
            bound
                .sign_transaction(black_box(&payload), &mut out)
                .expect("sign")
        });
    });
    report_commands(
        &mut bound,
        "cached signature, daily limit, bound ledger",
        |w| {
            w.sign_transaction(&payload, &mut [0u8; 512]).expect("sign");
        },
    );
    drop(bound);

    let mut wallet = Wallet::open(&bench.swtpm.tcti(), &state, &bench.swtpm.trust()).expect("open");
    wallet.load_account().expect("load");
    report_commands(&mut wallet, "strict attestation", |w| {
        w.attest(b"nonce", 14).expect("attest");
    });
    c.bench_function("tpm/attest/strict", |b| {
        b.iter(|| wallet.attest(black_box(b"nonce"), 14).expect("attest"));
    });
    // Enrollment by credential activation, the verifier's side done here
    // (the EK certificate check is left out: the bench has no vendor CA).
    let request = wallet.enrollment_request().expect("enrollment request");
    let mut rng = rand::rngs::OsRng;
    let enroll_once = |wallet: &mut Wallet, rng: &mut rand::rngs::OsRng| {
        let challenge = ActivationChallenge::new(&request.ek_public, &request.ak_public, rng)
            .expect("challenge");
        let response = wallet
            .answer_activation(challenge.blob())
            .expect("activation");
        challenge
            .finish(&request.ak_public, &response)
            .expect("finish")
    };
    report_commands(&mut wallet, "credential activation", |w| {
        enroll_once(w, &mut rand::rngs::OsRng);
    });
    c.bench_function("tpm/enroll/activation", |b| {
        b.iter(|| enroll_once(&mut wallet, &mut rng));
    });
    let pinned = enroll_once(&mut wallet, &mut rng);
    c.bench_function("credential/make_credential/p256", |b| {
        b.iter(|| {
            make_credential(
                black_box(&request.ek_public),
                pinned.ak_name(),
                &[7; 32],
                &mut rand::rngs::OsRng,
            )
            .expect("make_credential")
        });
    });
    let evidence = wallet.attest(b"nonce", 14).expect("attest");
    let accept = Expectations {
        accept_unverified_tpm: true,
        pcr_selection: Some(wallet_core::attest::PcrSelection::SHA256_0_TO_7),
        ..Expectations::default()
    };
    c.bench_function("attest/verify", |b| {
        b.iter(|| verify(black_box(&evidence), b"nonce", &pinned, &accept).expect("verify"));
    });

    c.bench_function("tpm/backup", |b| {
        b.iter(|| wallet.backup().expect("backup"));
    });
    let backup = wallet.backup().expect("backup");
    drop(wallet);

    // Each iteration needs a wallet on an empty state directory: opening it
    // (Startup and the SRK's Name) is setup, outside the measurement.
    let mut group = c.benchmark_group("tpm");
    group.sample_size(20);
    group.bench_function("create_account", |b| {
        b.iter_batched(
            || bench.open(),
            |mut w| w.create_account(AccountOptions::default()).expect("create"),
            BatchSize::PerIteration,
        );
    });
    group.bench_function("restore", |b| {
        b.iter_batched(
            || bench.open(),
            |mut w| w.restore(&backup).expect("restore"),
            BatchSize::PerIteration,
        );
    });
    group.bench_function("open", |b| {
        b.iter(|| bench.open());
    });
    // The TPM's identity at open, side by side: the verified open above
    // (EK certificate read from NV, chain check, EK re-derived and compared,
    // sessions salted to it) against the same TPM allowed as unverified with
    // no roots (the certificate is still read; the chain check fails at once),
    // and the pieces alone.
    let allow_unverified = wallet_core::tpm::ek::TpmTrust::allow_unverified_tpm();
    group.bench_function("open/unverified_allowed", |b| {
        b.iter(|| {
            let state = bench.fresh_state();
            Wallet::open(&bench.swtpm.tcti(), &state, &allow_unverified).expect("open")
        });
    });
    {
        let transport = wallet_core::tpm::transport::open(&bench.swtpm.tcti()).expect("tcti");
        let mut tpm = Tpm::new(transport).expect("entropy");
        tpm.startup().expect("startup");
        let trust = bench.trust.clone();
        group.bench_function("ek/establish", |b| {
            b.iter(|| wallet_core::tpm::ek::establish(&mut tpm, &trust).expect("EK"));
        });
        let cert = wallet_core::tpm::ek::read_certificate(
            &mut tpm,
            wallet_core::tpm::ek::NV_EK_CERT_RSA_2048,
        )
        .expect("NV read")
        .expect("an EK certificate");
        group.bench_function("ek/read_certificate", |b| {
            b.iter(|| {
                wallet_core::tpm::ek::read_certificate(
                    &mut tpm,
                    wallet_core::tpm::ek::NV_EK_CERT_RSA_2048,
                )
                .expect("NV read")
            });
        });
        group.bench_function("x509/verify_chain", |b| {
            b.iter(|| {
                wallet_core::x509::verify_chain(black_box(&cert), &[], trust.trust_roots())
                    .expect("chain")
            });
        });
        // The RSA 2048 EK, side by side: read at its TCG persistent handle
        // (what `create_ek` does when the platform left it there, as the
        // simulator does) against derived again with CreatePrimary (what it
        // does otherwise).
        let rsa = wallet_core::tpm::command::EkKind::Rsa2048;
        group.bench_function("ek/create_ek_rsa2048/persistent", |b| {
            b.iter(|| {
                let ek = tpm.create_ek(rsa).expect("EK");
                assert_eq!(ek.handle, rsa.persistent_handle());
                ek
            });
        });
        group.bench_function("ek/create_ek_rsa2048/derived", |b| {
            b.iter(|| {
                let ek = tpm
                    .create_primary(tpm2_protocol::data::TpmRh::Endorsement, &rsa.template())
                    .expect("EK");
                tpm.flush_context(ek.handle).expect("flush");
            });
        });
        // Every EK certificate index of the TCG profile: on swtpm the L-1
        // RSA 2048 and the H-3 P-384 EK, each chain-checked and re-derived.
        group.bench_function("ek/verify_endorsement_keys", |b| {
            b.iter(|| {
                let checks =
                    wallet_core::tpm::ek::verify_endorsement_keys(&mut tpm, &trust).expect("NV");
                assert!(checks.iter().all(|c| c.outcome.is_ok()));
                checks
            });
        });
        for (what, op) in [
            ("ek::establish", 0),
            ("ek::read_certificate", 1),
            ("ek::verify_endorsement_keys", 2),
        ] {
            let before = tpm.commands_sent();
            match op {
                0 => drop(wallet_core::tpm::ek::establish(&mut tpm, &trust).expect("EK")),
                1 => drop(
                    wallet_core::tpm::ek::read_certificate(
                        &mut tpm,
                        wallet_core::tpm::ek::NV_EK_CERT_RSA_2048,
                    )
                    .expect("NV read"),
                ),
                _ => drop(
                    wallet_core::tpm::ek::verify_endorsement_keys(&mut tpm, &trust).expect("NV"),
                ),
            }
            eprintln!("TPM commands per {what}: {}", tpm.commands_sent() - before);
        }
    }
    group.finish();
    let mut w = bench.open();
    eprintln!(
        "TPM commands per open (Startup, SRK Name): {}",
        w.tpm_commands_sent()
    );
    let before = w.tpm_commands_sent();
    w.create_account(AccountOptions::default()).expect("create");
    eprintln!(
        "TPM commands per create_account: {}",
        w.tpm_commands_sent() - before
    );
    drop(w);
    let mut r = bench.open();
    let before = r.tpm_commands_sent();
    r.restore(&backup).expect("restore");
    eprintln!(
        "TPM commands per restore: {}",
        r.tpm_commands_sent() - before
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = tpm_benches
}
criterion_main!(benches);

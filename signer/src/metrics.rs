//! Prometheus metrics: signatures and refusals by rule, request latency,
//! TPM errors and the spend-ledger totals. Labels carry method names, rules
//! and addresses, never request contents.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of a signature counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SignatureLabels {
    /// `transaction`, `message` or `typed_data`.
    pub kind: &'static str,
}

/// Labels of a refusal counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabels {
    /// The policy field that refused.
    pub rule: &'static str,
}

/// Labels of the latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `ipc` or `http`.
    pub transport: &'static str,
    /// The method when the service handles it, `proxied` otherwise.
    pub method: &'static str,
}

/// Labels of the ledger gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LedgerLabels {
    /// The account's checksummed address.
    pub account: String,
    /// The chain id.
    pub chain_id: u64,
}

/// Every metric of the service.
pub struct Metrics {
    registry: Registry,
    /// Signatures made, by kind.
    pub signatures: Family<SignatureLabels, Counter>,
    /// Policy refusals, by rule.
    pub refusals: Family<RefusalLabels, Counter>,
    /// Request latency in seconds.
    pub latency: Family<RequestLabels, Histogram>,
    /// Failed TPM exchanges.
    pub tpm_errors: Counter,
    /// Wei counted against the daily limit over the last 24 hours.
    pub ledger_spent_wei: Family<LedgerLabels, Gauge<f64, AtomicU64>>,
    /// Requests refused before dispatch (malformed, oversize, too slow).
    pub bad_requests: Counter,
}

fn latency_histogram() -> Histogram {
    // 50 µs to about 3.3 s.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.000_05, 2.0, 17,
    ))
}

impl Metrics {
    /// A fresh registry with every metric registered.
    #[must_use]
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("flare_wallet_signer");
        let signatures = Family::<SignatureLabels, Counter>::default();
        registry.register("signatures", "Signatures made, by kind", signatures.clone());
        let refusals = Family::<RefusalLabels, Counter>::default();
        registry.register(
            "policy_refusals",
            "Requests refused by the signing policy, by rule",
            refusals.clone(),
        );
        let latency = Family::<RequestLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "request_duration_seconds",
            "Time from a request's arrival to its response",
            latency.clone(),
        );
        let tpm_errors = Counter::default();
        registry.register("tpm_errors", "Failed TPM exchanges", tpm_errors.clone());
        let ledger_spent_wei = Family::<LedgerLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "ledger_spent_wei",
            "Wei counted against daily_limit_wei over the last 24 hours",
            ledger_spent_wei.clone(),
        );
        let bad_requests = Counter::default();
        registry.register(
            "bad_requests",
            "Requests refused before dispatch: malformed, oversize or too slow",
            bad_requests.clone(),
        );
        Self {
            registry,
            signatures,
            refusals,
            latency,
            tpm_errors,
            ledger_spent_wei,
            bad_requests,
        }
    }

    /// The OpenMetrics text exposition.
    #[must_use]
    pub fn render(&self) -> String {
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

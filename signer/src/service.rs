//! The JSON-RPC methods: signing (Web3Signer's eth1 methods and
//! `eth_sendTransaction`), the `flare_` wallet methods, and the proxy to the
//! upstream node for everything else.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Map, Value};
use tokio::sync::OnceCell;
use wallet_core::attest::sha256_name;
use wallet_core::policy::{self, PolicyError, PolicyViolation};
use wallet_core::signer::{Address, Signature};
use wallet_core::tx::U256;
use wallet_core::wallet::Wallet;
use wallet_core::Error as CoreError;

use crate::accounts::{Account, Accounts};
use crate::admin::{self, AdminParams};
use crate::metrics::{LedgerLabels, Metrics, RefusalLabels, RequestLabels, SignatureLabels};
use crate::rpc::{failure, success, ErrorCode, Params, Request, RpcError};
use crate::transaction::{TransactionRequest, TxFlavour};
use crate::typed_data::{hash_typed_data, DomainFields};
use crate::upstream::Upstream;
use crate::values::{
    address_value, bytes_value, hex_bytes, hex_quantity, hex_quantity_u64, parse_hex_bytes,
    quantity, quantity_u64,
};

/// How long an admin request stays valid when the caller names no deadline.
const DEFAULT_ADMIN_TTL_SECONDS: u64 = 3600;

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// The largest batch the service accepts.
pub const MAX_BATCH: usize = 100;

/// Where a request came in, for metrics.
#[derive(Clone, Copy, Debug)]
pub enum Origin {
    /// The Unix socket.
    Ipc,
    /// The HTTP endpoint.
    Http,
}

impl Origin {
    fn label(self) -> &'static str {
        match self {
            Origin::Ipc => "ipc",
            Origin::Http => "http",
        }
    }
}

/// The methods the service answers itself.
const OWN_METHODS: &[&str] = &[
    "eth_accounts",
    "eth_requestAccounts",
    "eth_sign",
    "personal_sign",
    "eth_signTransaction",
    "eth_signTypedData",
    "eth_signTypedData_v4",
    "eth_sendTransaction",
    "flare_attest",
    "flare_checkTransaction",
    "flare_checkTypedData",
    "flare_checkAuthorization",
    "flare_signAuthorization",
    "flare_policy",
    "flare_health",
    "flare_signTypedDataHash",
    "flare_adminRequest",
    "flare_executeAdmin",
];

fn method_label(method: &str) -> &'static str {
    OWN_METHODS
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or("proxied")
}

/// The service: accounts, upstream node and metrics.
pub struct Service {
    accounts: Accounts,
    upstream: Option<Upstream>,
    metrics: Arc<Metrics>,
    chain_id: OnceCell<u64>,
    started: Instant,
}

/// A typed-data parameter as JSON text: a string as given, an object serialized.
fn typed_data_text(document: &Value) -> String {
    match document {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The `{chainId, address, nonce}` object of an EIP-7702 authorization
/// (`nonce` required only when `with_nonce`; 0 when absent otherwise).
fn authorization_params(value: &Value, with_nonce: bool) -> Result<(U256, Address, u64), RpcError> {
    let object = value.as_object().ok_or_else(|| {
        RpcError::invalid_params("an authorization is an object with chainId, address and nonce")
    })?;
    let allowed = ["chainId", "address", "nonce"];
    if let Some(other) = object.keys().find(|key| !allowed.contains(&key.as_str())) {
        return Err(RpcError::invalid_params(format!(
            "authorization member {other:?} is not chainId, address or nonce"
        )));
    }
    let field = |name: &str| {
        object
            .get(name)
            .ok_or_else(|| RpcError::invalid_params(format!("authorization {name} is missing")))
    };
    let chain_id = quantity(field("chainId")?, "authorization chainId")?;
    let delegate = address_value(field("address")?, "authorization address")?;
    let nonce = match object.get("nonce") {
        Some(value) => quantity_u64(value, "authorization nonce")?,
        None if with_nonce => {
            return Err(RpcError::invalid_params("authorization nonce is missing"))
        }
        None => 0,
    };
    Ok((chain_id, delegate, nonce))
}

fn rsv_hex(signature: &Signature) -> Value {
    Value::String(hex_bytes(&signature.to_rsv_bytes()))
}

fn u256_to_f64(value: &U256) -> f64 {
    value
        .0
        .iter()
        .fold(0.0, |acc, byte| acc * 256.0 + f64::from(*byte))
}

/// The refused value and the limit of a policy refusal, as JSON.
fn violation_data(violation: &PolicyViolation) -> Value {
    let rule = violation.rule().name();
    let wei = |amount: Option<U256>| match amount {
        Some(amount) => Value::String(amount.to_string()),
        None => Value::String("more than 2^256-1".into()),
    };
    let (value, limit) = match *violation {
        PolicyViolation::ChainIdNotAllowed { chain_id } => (json!(chain_id), Value::Null),
        PolicyViolation::UnprotectedNotAllowed => (json!("unprotected transaction"), json!(false)),
        PolicyViolation::ContractCreationNotAllowed => (json!("contract creation"), json!(false)),
        PolicyViolation::RecipientDenied { recipient }
        | PolicyViolation::RecipientNotAllowed { recipient } => {
            (json!(recipient.to_string()), Value::Null)
        }
        PolicyViolation::SelectorNotAllowed { contract, selector } => (
            json!({"contract": contract.to_string(), "selector": hex_bytes(&selector)}),
            Value::Null,
        ),
        PolicyViolation::MissingSelector {
            contract,
            calldata_len,
        } => (
            json!({"contract": contract.to_string(), "calldata_len": calldata_len}),
            Value::Null,
        ),
        PolicyViolation::DelegationNotAllowed { delegate } => {
            (json!(delegate.to_string()), Value::Null)
        }
        PolicyViolation::ValueAboveCap { value, cap } => (wei(Some(value)), wei(Some(cap))),
        PolicyViolation::MaxFeeAboveCap { max_fee, cap } => (wei(max_fee), wei(Some(cap))),
        PolicyViolation::MessagesNotAllowed => (json!("message signing"), json!(false)),
        PolicyViolation::TypedDataDomainNotAllowed {
            chain_id,
            verifying_contract,
        } => (
            json!({
                "chainId": chain_id.map(|id| id.to_string()),
                "verifyingContract": verifying_contract.map(|a| a.to_string()),
            }),
            Value::Null,
        ),
        PolicyViolation::TypedDataHashNotCheckable => {
            (json!("typed data given as hashes"), Value::Null)
        }
        PolicyViolation::DailyLimitExceeded {
            chain_id,
            spent,
            spend,
            limit,
        } => (
            json!({"spend": wei(spend), "spent": spent.to_string(), "chainId": chain_id}),
            wei(Some(limit)),
        ),
        _ => (Value::Null, Value::Null),
    };
    json!({"rule": rule, "value": value, "limit": limit, "message": violation.to_string()})
}

/// The JSON-RPC error for a core error. Core messages carry no secret.
fn core_error(error: &CoreError, metrics: &Metrics) -> RpcError {
    match error {
        CoreError::Policy(PolicyError::Violation(violation)) => {
            metrics
                .refusals
                .get_or_create(&RefusalLabels {
                    rule: violation.rule().name(),
                })
                .inc();
            RpcError::new(
                ErrorCode::PolicyRefused,
                format!("refused by the signing policy: {violation}; nothing was signed"),
            )
            .with_data(violation_data(violation))
        }
        CoreError::Tpm(_) | CoreError::Seal(wallet_core::seal::SealError::Tpm(_)) => {
            RpcError::new(ErrorCode::TpmUnavailable, format!("TPM: {error}"))
        }
        CoreError::Tx(_) | CoreError::Rlp(_) => {
            RpcError::invalid_params(format!("transaction: {error}"))
        }
        CoreError::Authority(_) => RpcError::new(ErrorCode::AdminRefused, error.to_string()),
        _ => RpcError::new(ErrorCode::WalletError, error.to_string()),
    }
}

impl Service {
    /// A service over `accounts`, proxying to `upstream`.
    #[must_use]
    pub fn new(accounts: Accounts, upstream: Option<Upstream>, metrics: Arc<Metrics>) -> Self {
        Self {
            accounts,
            upstream,
            metrics,
            chain_id: OnceCell::new(),
            started: Instant::now(),
        }
    }

    /// The metrics.
    #[must_use]
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Answers a parsed JSON body: one request or a batch. `None` when
    /// nothing is to be sent back (notifications only).
    pub async fn handle_value(self: &Arc<Self>, value: Value, origin: Origin) -> Option<Value> {
        match value {
            Value::Array(items) => {
                if items.is_empty() {
                    self.metrics.bad_requests.inc();
                    return Some(failure(
                        &Value::Null,
                        &RpcError::new(ErrorCode::InvalidRequest, "an empty batch"),
                    ));
                }
                if items.len() > MAX_BATCH {
                    self.metrics.bad_requests.inc();
                    return Some(failure(
                        &Value::Null,
                        &RpcError::new(
                            ErrorCode::InvalidRequest,
                            format!("a batch holds at most {MAX_BATCH} requests"),
                        )
                        .with_data(json!({"limit": MAX_BATCH})),
                    ));
                }
                let mut responses = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(response) = self.handle_one(item, origin).await {
                        responses.push(response);
                    }
                }
                (!responses.is_empty()).then_some(Value::Array(responses))
            }
            single => self.handle_one(single, origin).await,
        }
    }

    async fn handle_one(self: &Arc<Self>, value: Value, origin: Origin) -> Option<Value> {
        let started = Instant::now();
        let request = match Request::parse(value) {
            Ok(request) => request,
            Err((id, error)) => {
                self.metrics.bad_requests.inc();
                return Some(failure(&id, &error));
            }
        };
        let label = method_label(&request.method);
        let response = if label == "proxied" {
            self.proxy(&request).await
        } else {
            let id = request.id.clone().unwrap_or(Value::Null);
            let outcome = self.dispatch(&request.method, &request.params).await;
            match outcome {
                Ok(result) => request.id.as_ref().map(|_| success(&id, result)),
                Err(error) => {
                    tracing::info!(method = %request.method, code = error.code as i32, "request refused");
                    request.id.as_ref().map(|_| failure(&id, &error))
                }
            }
        };
        self.metrics
            .latency
            .get_or_create(&RequestLabels {
                transport: origin.label(),
                method: label,
            })
            .observe(started.elapsed().as_secs_f64());
        response
    }

    async fn proxy(&self, request: &Request) -> Option<Value> {
        let id = request.id.clone().unwrap_or(Value::Null);
        let Some(upstream) = &self.upstream else {
            let error = RpcError::new(
                ErrorCode::MethodNotFound,
                format!(
                    "method {:?} is not handled by the signer and no --upstream node is configured",
                    request.method
                ),
            );
            return request.id.as_ref().map(|_| failure(&id, &error));
        };
        let mut body =
            json!({"jsonrpc": "2.0", "method": request.method, "params": request.params});
        if let Some(id) = &request.id {
            body["id"] = id.clone();
        }
        match upstream.post(&body).await {
            Ok(mut response) => {
                request.id.as_ref()?;
                if let Some(object) = response.as_object_mut() {
                    object.insert("id".into(), id);
                }
                Some(response)
            }
            Err(error) => request.id.as_ref().map(|_| failure(&id, &error)),
        }
    }

    async fn dispatch(self: &Arc<Self>, method: &str, params: &Value) -> Result<Value, RpcError> {
        let params = Params::positional(method, params)?;
        match method {
            "eth_accounts" | "eth_requestAccounts" => Ok(Value::Array(
                self.accounts
                    .all()
                    .iter()
                    .map(|account| Value::String(account.address.to_string()))
                    .collect(),
            )),
            "eth_sign" => {
                let account = self.account(params.required(0, "address")?)?;
                let message = bytes_value(params.required(1, "message")?, "eth_sign message")?;
                self.sign_message(account, message).await
            }
            "personal_sign" => {
                let message = message_bytes(params.required(0, "message")?)?;
                let account = self.account(params.required(1, "address")?)?;
                self.sign_message(account, message).await
            }
            "eth_signTransaction" => {
                let request = TransactionRequest::from_json(params.required(0, "transaction")?)?;
                let account = self.account_of(&request.from)?;
                let request = self.fill(request, &account, false).await?;
                let raw = self.sign_transaction(&account, &request).await?;
                Ok(Value::String(hex_bytes(&raw)))
            }
            "eth_signTypedData" | "eth_signTypedData_v4" => {
                let account = self.account(params.required(0, "address")?)?;
                let document = params.required(1, "typed data")?;
                let hashed = hash_typed_data(document)?;
                // The core parses the document itself, checks what it grants
                // (permits) and signs the digest of the very message it checked.
                let text = typed_data_text(document);
                let signature = self
                    .blocking(
                        &account,
                        account.signing_uses_tpm(),
                        move |wallet| match hashed.domain {
                            Some(_) => wallet.sign_typed_data_json(&text),
                            None => wallet.sign_typed_data_hash(
                                &hashed.domain_separator,
                                &hashed.struct_hash,
                            ),
                        },
                    )
                    .await?;
                self.count_signature("typed_data");
                Ok(rsv_hex(&signature))
            }
            "eth_sendTransaction" => {
                let request = TransactionRequest::from_json(params.required(0, "transaction")?)?;
                self.send_transaction(request).await
            }
            "flare_checkTransaction" => {
                let request = TransactionRequest::from_json(params.required(0, "transaction")?)?;
                self.check_transaction(request).await
            }
            "flare_checkTypedData" => {
                let account = self.account(params.required(0, "address")?)?;
                let document = params.required(1, "typed data")?;
                hash_typed_data(document)?;
                let text = typed_data_text(document);
                let outcome = self
                    .blocking_raw(&account, false, move |wallet| {
                        wallet.check_typed_data_json(&text)
                    })
                    .await?;
                self.decision_value(outcome)
            }
            "flare_checkAuthorization" => {
                let account = self.account(params.required(0, "address")?)?;
                let (chain_id, delegate, _) =
                    authorization_params(params.required(1, "authorization")?, false)?;
                let outcome = self
                    .blocking_raw(&account, false, move |wallet| {
                        wallet.check_authorization(&chain_id, &delegate)
                    })
                    .await?;
                self.decision_value(outcome)
            }
            "flare_signAuthorization" => {
                let account = self.account(params.required(0, "address")?)?;
                let (chain_id, delegate, nonce) =
                    authorization_params(params.required(1, "authorization")?, true)?;
                let signed = self
                    .blocking(&account, account.signing_uses_tpm(), move |wallet| {
                        wallet.sign_authorization(chain_id, delegate, nonce)
                    })
                    .await?;
                self.count_signature("authorization");
                Ok(json!({
                    "chainId": hex_quantity(&signed.authorization.chain_id),
                    "address": signed.authorization.address.to_string(),
                    "nonce": hex_quantity_u64(signed.authorization.nonce),
                    "yParity": hex_quantity_u64(u64::from(signed.y_parity)),
                    "r": hex_quantity(&signed.r),
                    "s": hex_quantity(&signed.s),
                }))
            }
            "flare_policy" => {
                let account = self.optional_account(params.optional(0))?;
                let chain_id = params
                    .optional(1)
                    .map(|value| quantity_u64(value, "chainId"))
                    .transpose()?;
                self.policy(account, chain_id).await
            }
            "flare_signTypedDataHash" => {
                let account = self.account(params.required(0, "address")?)?;
                let (separator, struct_hash, domain) =
                    typed_data_hashes(params.required(1, "hashes")?)?;
                let signature = self
                    .blocking(
                        &account,
                        account.signing_uses_tpm(),
                        move |wallet| match domain {
                            Some(fields) => {
                                wallet.sign_typed_data(&fields.as_domain(), &struct_hash)
                            }
                            None => wallet.sign_typed_data_hash(&separator, &struct_hash),
                        },
                    )
                    .await?;
                self.count_signature("typed_data");
                Ok(rsv_hex(&signature))
            }
            "flare_attest" => {
                let nonce = bytes_value(params.required(0, "nonce")?, "nonce")?;
                if nonce.is_empty() || nonce.len() > 64 {
                    return Err(RpcError::invalid_params("the nonce is 1 to 64 bytes"));
                }
                let chain_id = match params.optional(1) {
                    Some(value) => quantity_u64(value, "chainId")?,
                    None => self.chain_id().await.unwrap_or(0),
                };
                let account = self.optional_account(params.optional(2))?;
                self.attest(account, nonce, chain_id).await
            }
            "flare_health" => Ok(self.health()),
            "flare_adminRequest" => {
                let object = params.required(0, "admin action")?;
                let account = self.optional_account(object.get("account"))?;
                let action = AdminParams::from_json(object)?;
                let deadline = match object.get("deadline") {
                    Some(value) => quantity_u64(value, "deadline")?,
                    None => unix_now().saturating_add(DEFAULT_ADMIN_TTL_SECONDS),
                };
                self.admin_request(account, action, deadline).await
            }
            "flare_executeAdmin" => {
                let object = params.required(0, "admin action")?;
                let account = self.optional_account(object.get("account"))?;
                let action = AdminParams::from_json(object)?;
                let request = admin::request(object)?;
                let approvals = admin::approvals(object)?;
                let action_name = action.action().as_str();
                let refreshed = Arc::clone(&account);
                let result = self
                    .blocking(&account, true, move |wallet| {
                        let result = action.execute(wallet, &request, &approvals);
                        refreshed.refresh(wallet);
                        result
                    })
                    .await?;
                tracing::warn!(account = %account.address, action = action_name, "owner-approved admin action executed");
                Ok(result)
            }
            _ => Err(RpcError::new(
                ErrorCode::MethodNotFound,
                format!("method {method:?} is unknown"),
            )),
        }
    }

    fn account(&self, value: &Value) -> Result<Arc<Account>, RpcError> {
        let address = address_value(value, "address")?;
        self.account_of(&address)
    }

    fn account_of(&self, address: &Address) -> Result<Arc<Account>, RpcError> {
        self.accounts.find(address).cloned().ok_or_else(|| {
            RpcError::new(
                ErrorCode::UnknownAccount,
                format!("{address} is not an account of this signer"),
            )
        })
    }

    fn optional_account(&self, value: Option<&Value>) -> Result<Arc<Account>, RpcError> {
        match value {
            Some(value) => self.account(value),
            None => self.accounts.first().cloned().ok_or_else(|| {
                RpcError::new(ErrorCode::UnknownAccount, "the signer has no account")
            }),
        }
    }

    fn count_signature(&self, kind: &'static str) {
        self.metrics
            .signatures
            .get_or_create(&SignatureLabels { kind })
            .inc();
    }

    /// Runs `f` on the account's wallet on a blocking thread, holding the
    /// TPM gate first when `uses_tpm`.
    async fn blocking_raw<R: Send + 'static>(
        &self,
        account: &Arc<Account>,
        uses_tpm: bool,
        f: impl FnOnce(&mut Wallet) -> Result<R, CoreError> + Send + 'static,
    ) -> Result<Result<R, CoreError>, RpcError> {
        if !uses_tpm && account.signs_in_memory() {
            // A cached key and no ledger to write: tens of microseconds of
            // CPU, cheaper here than a hand-off to the blocking pool.
            let mut wallet = account.wallet();
            return Ok(f(&mut wallet));
        }
        let account = Arc::clone(account);
        let tpm = self.accounts.tpm().clone();
        tokio::task::spawn_blocking(move || {
            let _gate = uses_tpm.then(|| tpm.gate());
            let mut wallet = account.wallet();
            f(&mut wallet)
        })
        .await
        .map_err(|_| RpcError::new(ErrorCode::Internal, "a signing task failed"))
    }

    async fn blocking<R: Send + 'static>(
        &self,
        account: &Arc<Account>,
        uses_tpm: bool,
        f: impl FnOnce(&mut Wallet) -> Result<R, CoreError> + Send + 'static,
    ) -> Result<R, RpcError> {
        self.blocking_raw(account, uses_tpm, f)
            .await?
            .map_err(|error| core_error(&error, &self.metrics))
    }

    async fn sign_message(
        &self,
        account: Arc<Account>,
        message: Vec<u8>,
    ) -> Result<Value, RpcError> {
        let signature = self
            .blocking(&account, account.signing_uses_tpm(), move |wallet| {
                wallet.sign_message(&message)
            })
            .await?;
        self.count_signature("message");
        Ok(rsv_hex(&signature))
    }

    /// Signs a complete transaction request; returns the raw signed bytes.
    async fn sign_transaction(
        &self,
        account: &Arc<Account>,
        request: &TransactionRequest,
    ) -> Result<Vec<u8>, RpcError> {
        let payload = request.signing_payload()?;
        let chain_id = request.chain_id;
        let (raw, spent) = self
            .blocking(account, account.signing_uses_tpm(), move |wallet| {
                let mut out = vec![0u8; payload.len() + 128];
                let len = wallet.sign_transaction(&payload, &mut out)?;
                out.truncate(len);
                let spent = wallet.daily_spent(chain_id).ok();
                Ok((out, spent))
            })
            .await?;
        self.count_signature("transaction");
        if let (Some(spent), Some(chain_id)) = (spent, chain_id) {
            self.metrics
                .ledger_spent_wei
                .get_or_create(&LedgerLabels {
                    account: account.address.to_string(),
                    chain_id,
                })
                .set(u256_to_f64(&spent));
        }
        Ok(raw)
    }

    fn upstream(&self) -> Result<&Upstream, RpcError> {
        self.upstream.as_ref().ok_or_else(|| {
            RpcError::new(
                ErrorCode::UpstreamUnavailable,
                "this request needs the node (a missing field to fill, or a submission) and no --upstream is configured",
            )
        })
    }

    async fn chain_id(&self) -> Result<u64, RpcError> {
        let upstream = self.upstream()?;
        self.chain_id
            .get_or_try_init(|| async {
                let value = upstream.call("eth_chainId", json!([])).await?;
                quantity_u64(&value, "the node's chain id")
            })
            .await
            .copied()
    }

    /// Fills what the request lacks from the node: chain id, fees, gas,
    /// and (unless `keep_nonce_open`) the nonce.
    async fn fill(
        &self,
        mut request: TransactionRequest,
        account: &Account,
        keep_nonce_open: bool,
    ) -> Result<TransactionRequest, RpcError> {
        if request.is_complete() {
            return Ok(request);
        }
        let upstream = self.upstream()?;
        if request.chain_id.is_none() {
            request.chain_id = Some(self.chain_id().await?);
        }
        let flavour = request.flavour()?;
        match flavour {
            TxFlavour::DynamicFee
                if request.max_fee_per_gas.is_none()
                    || request.max_priority_fee_per_gas.is_none() =>
            {
                let block = upstream
                    .call("eth_getBlockByNumber", json!(["latest", false]))
                    .await?;
                let base_fee = match block.get("baseFeePerGas") {
                    Some(value) => quantity(value, "baseFeePerGas")?,
                    None if request.explicit_type.is_none() => {
                        // A node without EIP-1559: a legacy transaction.
                        let price = upstream.call("eth_gasPrice", json!([])).await?;
                        request.gas_price = Some(quantity(&price, "gasPrice")?);
                        request.max_fee_per_gas = None;
                        request.max_priority_fee_per_gas = None;
                        request.explicit_type = Some(0);
                        U256::default()
                    }
                    None => {
                        return Err(RpcError::new(
                            ErrorCode::UpstreamUnavailable,
                            "the node reports no base fee: it cannot take type-2 transactions",
                        ))
                    }
                };
                if request.explicit_type != Some(0) {
                    let priority = match request.max_priority_fee_per_gas {
                        Some(priority) => priority,
                        None => match upstream.call("eth_maxPriorityFeePerGas", json!([])).await {
                            Ok(value) => quantity(&value, "maxPriorityFeePerGas")?,
                            Err(_) => U256::from(1_000_000_000u64),
                        },
                    };
                    request.max_priority_fee_per_gas = Some(priority);
                    if request.max_fee_per_gas.is_none() {
                        // web3.py's default: twice the base fee plus the tip.
                        let doubled = base_fee.checked_add(base_fee);
                        let max_fee =
                            doubled
                                .and_then(|d| d.checked_add(priority))
                                .ok_or_else(|| {
                                    RpcError::new(
                                        ErrorCode::UpstreamUnavailable,
                                        "the node's base fee is out of range",
                                    )
                                })?;
                        request.max_fee_per_gas = Some(max_fee);
                    }
                }
            }
            TxFlavour::Legacy | TxFlavour::AccessList if request.gas_price.is_none() => {
                let price = upstream.call("eth_gasPrice", json!([])).await?;
                request.gas_price = Some(quantity(&price, "gasPrice")?);
            }
            _ => {}
        }
        if request.gas.is_none() {
            let estimate = upstream
                .call("eth_estimateGas", json!([request.call_object()]))
                .await?;
            request.gas = Some(quantity_u64(&estimate, "gas estimate")?);
        }
        if request.nonce.is_none() && !keep_nonce_open {
            let count = upstream
                .call(
                    "eth_getTransactionCount",
                    json!([account.address.to_string(), "pending"]),
                )
                .await?;
            request.nonce = Some(quantity_u64(&count, "transaction count")?);
        }
        Ok(request)
    }

    async fn send_transaction(&self, request: TransactionRequest) -> Result<Value, RpcError> {
        let account = self.account_of(&request.from)?;
        let upstream = self.upstream()?;
        let mut request = self.fill(request, &account, true).await?;
        if request.nonce.is_some() {
            let raw = self.sign_transaction(&account, &request).await?;
            return upstream
                .call("eth_sendRawTransaction", json!([hex_bytes(&raw)]))
                .await;
        }
        // One send at a time per account from nonce to submission, so that
        // concurrent sends get consecutive nonces in submission order.
        let mut next_nonce = account.next_nonce.lock().await;
        let nonce = match *next_nonce {
            Some(nonce) => nonce,
            None => {
                let count = upstream
                    .call(
                        "eth_getTransactionCount",
                        json!([account.address.to_string(), "pending"]),
                    )
                    .await?;
                quantity_u64(&count, "transaction count")?
            }
        };
        request.nonce = Some(nonce);
        let raw = match self.sign_transaction(&account, &request).await {
            Ok(raw) => raw,
            Err(error) => {
                *next_nonce = Some(nonce);
                return Err(error);
            }
        };
        match upstream
            .call("eth_sendRawTransaction", json!([hex_bytes(&raw)]))
            .await
        {
            Ok(hash) => {
                *next_nonce = Some(nonce + 1);
                tracing::info!(account = %account.address, nonce, "transaction submitted");
                Ok(hash)
            }
            Err(error) => {
                // Read the nonce from the node again next time.
                *next_nonce = None;
                Err(error)
            }
        }
    }

    async fn check_transaction(&self, request: TransactionRequest) -> Result<Value, RpcError> {
        let account = self.account_of(&request.from)?;
        let mut request = if request.is_complete() || self.upstream.is_none() {
            request
        } else {
            self.fill(request, &account, false).await?
        };
        // The nonce does not matter to the policy.
        request.nonce.get_or_insert(0);
        let payload = request.signing_payload()?;
        // The wallet's own check: every rule, the daily limits of wei and
        // of tokens (the ledger), and Permit2 expirations against its clock.
        let outcome = self
            .blocking_raw(&account, false, move |wallet| {
                wallet.check_transaction(&payload)
            })
            .await?;
        self.decision_value(outcome)
    }

    /// The answer of a `flare_check*` method: `{"allowed": true, "mode",
    /// "rules"}` (the rules that allowed), or the refusal's
    /// [`violation_data`] with `"allowed": false`.
    fn decision_value(
        &self,
        outcome: Result<policy::Decision, CoreError>,
    ) -> Result<Value, RpcError> {
        match outcome {
            Ok(decision) => Ok(json!({
                "allowed": true,
                "mode": decision.mode.name(),
                "rules": decision.rules.iter().map(|rule| rule.name()).collect::<Vec<_>>(),
            })),
            Err(CoreError::Policy(PolicyError::Violation(violation))) => {
                let mut data = violation_data(&violation);
                data["allowed"] = json!(false);
                Ok(data)
            }
            Err(error) => Err(core_error(&error, &self.metrics)),
        }
    }

    async fn admin_request(
        &self,
        account: Arc<Account>,
        action: AdminParams,
        deadline: u64,
    ) -> Result<Value, RpcError> {
        self.blocking(&account, false, move |wallet| {
            let params_hash = action.params_hash(wallet)?;
            let request = wallet.admin_request(action.action(), params_hash, deadline)?;
            let typed_data: Value =
                serde_json::from_str(&request.to_typed_data_json()).unwrap_or(Value::Null);
            let owners = wallet.owners()?.map(|owners| {
                json!({
                    "owners": owners.owners().iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "threshold": owners.threshold(),
                })
            });
            Ok(json!({
                "request": typed_data,
                "signingHash": hex_bytes(&request.signing_hash()),
                "paramsHash": hex_bytes(&params_hash),
                "nonce": request.nonce,
                "deadline": request.deadline,
                "owners": owners,
            }))
        })
        .await
    }

    async fn policy(
        &self,
        account: Arc<Account>,
        chain_id: Option<u64>,
    ) -> Result<Value, RpcError> {
        let address = account.address;
        self.blocking(&account, false, move |wallet| {
            let policy = wallet.policy()?.cloned();
            let hash = wallet.policy_hash()?;
            let spent = wallet.daily_spent(chain_id)?;
            let owners = wallet.owners()?.map(|owners| {
                json!({
                    "owners": owners.owners().iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "threshold": owners.threshold(),
                })
            });
            let admin_nonce = wallet.admin_nonce()?;
            let policy_json = match policy {
                Some(policy) => {
                    serde_json::from_str::<Value>(&policy.to_json()).unwrap_or(Value::Null)
                }
                None => Value::Null,
            };
            Ok(json!({
                "address": address.to_string(),
                "policy": policy_json,
                "policyHash": hex_bytes(&hash),
                "dailySpentWei": spent.to_string(),
                "owners": owners,
                "adminNonce": admin_nonce,
            }))
        })
        .await
    }

    async fn attest(
        &self,
        account: Arc<Account>,
        nonce: Vec<u8>,
        chain_id: u64,
    ) -> Result<Value, RpcError> {
        let evidence = self
            .blocking(&account, true, move |wallet| {
                wallet.attest(&nonce, chain_id)
            })
            .await?;
        let mut encoded = vec![0u8; evidence.encoded_len()];
        let len = evidence
            .encode(&mut encoded)
            .map_err(|e| RpcError::new(ErrorCode::Internal, format!("evidence: {e}")))?;
        encoded.truncate(len);
        let mut pcrs = Map::new();
        for (index, value) in evidence
            .pcr_selection
            .indices()
            .zip(evidence.pcr_values.iter())
        {
            pcrs.insert(index.to_string(), Value::String(hex_bytes(value)));
        }
        let facts = &evidence.account;
        Ok(json!({
            "evidence": hex_bytes(&encoded),
            "address": facts.address.to_string(),
            "chainId": facts.chain_id,
            "policyHash": hex_bytes(&facts.policy_hash),
            "ownersHash": hex_bytes(&facts.owners_hash),
            "threshold": facts.threshold,
            "adminNonce": facts.admin_nonce,
            "auditHead": hex_bytes(&facts.audit_head),
            "akName": hex_bytes(&sha256_name(&evidence.ak_public)),
            "pcrs": pcrs,
            "tpmIdentity": facts.tpm_identity.to_string(),
            "keyLock": facts.key_lock.name(),
        }))
    }

    fn health(&self) -> Value {
        let tpm = match self.accounts.tpm().last_error() {
            None => json!({"ok": true}),
            Some((error, ago)) => {
                json!({"ok": false, "lastError": error.to_string(), "secondsAgo": ago.as_secs()})
            }
        };
        let ok = tpm["ok"].as_bool().unwrap_or(false);
        json!({
            "status": if ok { "ok" } else { "degraded" },
            "version": env!("CARGO_PKG_VERSION"),
            "uptimeSeconds": self.started.elapsed().as_secs(),
            "accounts": self.accounts.all().iter().map(|a| a.address.to_string()).collect::<Vec<_>>(),
            "tpm": tpm,
            "upstream": self.upstream.is_some(),
        })
    }
}

/// `personal_sign`'s message: `0x` hex is bytes, anything else is UTF-8 text
/// (as MetaMask and geth's console take it).
fn message_bytes(value: &Value) -> Result<Vec<u8>, RpcError> {
    let text = value
        .as_str()
        .ok_or_else(|| RpcError::invalid_params("personal_sign: the message must be a string"))?;
    if text.starts_with("0x") {
        if let Ok(bytes) = parse_hex_bytes(text, "message") {
            return Ok(bytes);
        }
    }
    Ok(text.as_bytes().to_vec())
}

/// A domain separator, a struct hash, and the domain's fields when known.
type TypedDataHashes = ([u8; 32], [u8; 32], Option<DomainFields>);

/// `flare_signTypedDataHash`'s second parameter: `{domainSeparator, structHash,
/// domain?}`. The domain's fields are used (so the policy can check them)
/// only when they rebuild the given separator.
fn typed_data_hashes(value: &Value) -> Result<TypedDataHashes, RpcError> {
    let word = |name: &str| -> Result<[u8; 32], RpcError> {
        let bytes = bytes_value(value.get(name).unwrap_or(&Value::Null), name)?;
        bytes
            .try_into()
            .map_err(|_| RpcError::invalid_params(format!("{name} is 32 bytes")))
    };
    let separator = word("domainSeparator")?;
    let struct_hash = word("structHash")?;
    let domain = match value.get("domain") {
        None | Some(Value::Null) => None,
        Some(domain) => Some(DomainFields::from_json(domain)?)
            .filter(|fields| fields.as_domain().separator() == separator),
    };
    Ok((separator, struct_hash, domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_rule_the_value_and_the_limit() {
        let violation = PolicyViolation::ValueAboveCap {
            value: U256::from(2_000u64),
            cap: U256::from(1_000u64),
        };
        let data = violation_data(&violation);
        assert_eq!(data["rule"], "max_value_wei");
        assert_eq!(data["value"], "2000");
        assert_eq!(data["limit"], "1000");
        let metrics = Metrics::new();
        let error = core_error(
            &CoreError::Policy(PolicyError::Violation(violation)),
            &metrics,
        );
        assert_eq!(error.code, ErrorCode::PolicyRefused);
        assert!(metrics.render().contains("rule=\"max_value_wei\""));
    }

    #[test]
    fn personal_sign_takes_hex_as_bytes_and_other_text_as_utf8() {
        assert_eq!(message_bytes(&json!("0x6869")).ok(), Some(b"hi".to_vec()));
        assert_eq!(message_bytes(&json!("hi")).ok(), Some(b"hi".to_vec()));
        assert_eq!(message_bytes(&json!("0xzz")).ok(), Some(b"0xzz".to_vec()));
        assert!(message_bytes(&json!(5)).is_err());
    }
}

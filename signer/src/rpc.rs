//! JSON-RPC 2.0 envelopes: requests as they arrive, responses and the
//! service's error codes.
//!
//! Every error the service returns is a JSON-RPC error object with one of the
//! stable codes below, a message for people and, where there is one, `data`
//! for programs (a policy refusal's rule and value, a size limit). Messages
//! never carry a key, a password, a token or a signature.

use serde_json::{json, Map, Value};

/// The JSON-RPC error codes of the service. Numbers are stable: a client may
/// match on them; new codes get new numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// The bytes are not JSON (JSON-RPC: parse error).
    ParseError = -32700,
    /// JSON, but not a JSON-RPC request, or larger than the request limit.
    InvalidRequest = -32600,
    /// No such method here and no upstream node to proxy it to.
    MethodNotFound = -32601,
    /// The method exists; its parameters are missing or of the wrong type.
    InvalidParams = -32602,
    /// A fault in the service itself.
    Internal = -32603,
    /// The address is not one of the service's accounts.
    UnknownAccount = -32001,
    /// The request took longer than the service allows (a client sending
    /// too slowly, or a TPM or node that does not answer).
    Timeout = -32002,
    /// The signing policy refused the request; nothing was signed. `data`
    /// carries `rule` (the policy field) and `value` (what it refused).
    PolicyRefused = -32010,
    /// An owner-approved action was refused: too few valid approvals, an
    /// expired deadline, a stale nonce. Nothing changed.
    AdminRefused = -32011,
    /// The TPM could not be reached or answered with an error.
    TpmUnavailable = -32020,
    /// The wallet refused for a reason other than the policy (a damaged
    /// state file, an account bound to another TPM).
    WalletError = -32021,
    /// The upstream node could not be reached or answered with something
    /// that is not JSON-RPC.
    UpstreamUnavailable = -32030,
}

/// An error to return to the client.
#[derive(Clone, Debug)]
pub struct RpcError {
    /// The stable code.
    pub code: ErrorCode,
    /// What happened, for people.
    pub message: String,
    /// What happened, for programs.
    pub data: Option<Value>,
}

impl RpcError {
    /// An error without data.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Adds `data`.
    #[must_use]
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// Wrong or missing parameters.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParams, message)
    }

    /// The JSON error object.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("code".into(), json!(self.code as i32));
        object.insert("message".into(), json!(self.message));
        if let Some(data) = &self.data {
            object.insert("data".into(), data.clone());
        }
        Value::Object(object)
    }
}

/// A successful response.
#[must_use]
pub fn success(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// An error response.
#[must_use]
pub fn failure(id: &Value, error: &RpcError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": error.to_json()})
}

/// One request object, checked against JSON-RPC 2.0.
#[derive(Debug)]
pub struct Request {
    /// `id`; `None` for a notification (no response is sent).
    pub id: Option<Value>,
    /// `method`.
    pub method: String,
    /// `params`: an array, an object, or `[]` when absent.
    pub params: Value,
}

impl Request {
    /// Reads one request object.
    ///
    /// # Errors
    /// An [`ErrorCode::InvalidRequest`] error (with the request's id when it
    /// has a usable one) for anything that is not a JSON-RPC 2.0 request.
    pub fn parse(value: Value) -> Result<Self, (Value, RpcError)> {
        let Value::Object(mut object) = value else {
            return Err((
                Value::Null,
                RpcError::new(
                    ErrorCode::InvalidRequest,
                    "a JSON-RPC request is an object (or an array of them)",
                ),
            ));
        };
        let id = object.remove("id");
        let reply_id = match &id {
            Some(v @ (Value::Number(_) | Value::String(_) | Value::Null)) => v.clone(),
            _ => Value::Null,
        };
        let invalid = |message: &str| {
            Err((
                reply_id.clone(),
                RpcError::new(ErrorCode::InvalidRequest, message),
            ))
        };
        if let Some(id) = &id {
            if !matches!(id, Value::Number(_) | Value::String(_) | Value::Null) {
                return invalid("id must be a number, a string or null");
            }
        }
        if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return invalid("jsonrpc must be \"2.0\"");
        }
        let method = match object.remove("method") {
            Some(Value::String(method)) => method,
            _ => return invalid("method must be a string"),
        };
        let params = match object.remove("params") {
            None | Some(Value::Null) => Value::Array(Vec::new()),
            Some(params @ (Value::Array(_) | Value::Object(_))) => params,
            Some(_) => return invalid("params must be an array or an object"),
        };
        Ok(Self { id, method, params })
    }
}

/// The positional parameters of a request.
pub struct Params<'a> {
    method: &'a str,
    values: &'a [Value],
}

impl<'a> Params<'a> {
    /// Positional parameters; an object is refused (every method here takes
    /// an array, as Ethereum nodes do).
    ///
    /// # Errors
    /// [`ErrorCode::InvalidParams`] for named parameters.
    pub fn positional(method: &'a str, params: &'a Value) -> Result<Self, RpcError> {
        match params {
            Value::Array(values) => Ok(Self { method, values }),
            _ => Err(RpcError::invalid_params(format!(
                "{method} takes its parameters as an array"
            ))),
        }
    }

    /// Parameter `index`, which must be there.
    ///
    /// # Errors
    /// [`ErrorCode::InvalidParams`] when it is missing.
    pub fn required(&self, index: usize, what: &str) -> Result<&'a Value, RpcError> {
        self.values
            .get(index)
            .filter(|value| !value.is_null())
            .ok_or_else(|| {
                RpcError::invalid_params(format!(
                    "{}: parameter {} ({what}) is missing",
                    self.method,
                    index + 1
                ))
            })
    }

    /// Parameter `index`, if given and not null.
    #[must_use]
    pub fn optional(&self, index: usize) -> Option<&'a Value> {
        self.values.get(index).filter(|value| !value.is_null())
    }

    /// Parameter `index` as a string.
    ///
    /// # Errors
    /// [`ErrorCode::InvalidParams`] when it is missing or not a string.
    pub fn string(&self, index: usize, what: &str) -> Result<&'a str, RpcError> {
        self.required(index, what)?.as_str().ok_or_else(|| {
            RpcError::invalid_params(format!(
                "{}: parameter {} ({what}) must be a string",
                self.method,
                index + 1
            ))
        })
    }

    /// The method name, for messages.
    #[must_use]
    pub fn method(&self) -> &str {
        self.method
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_request_and_refuses_what_is_not_one() {
        let request =
            Request::parse(json!({"jsonrpc": "2.0", "id": 7, "method": "eth_accounts"})).ok();
        let request = request.map(|r| (r.id, r.method, r.params));
        assert_eq!(
            request,
            Some((Some(json!(7)), "eth_accounts".into(), json!([])))
        );
        for bad in [
            json!(1),
            json!({"jsonrpc": "1.0", "id": 1, "method": "x"}),
            json!({"jsonrpc": "2.0", "id": 1, "method": 5}),
            json!({"jsonrpc": "2.0", "id": [1], "method": "x"}),
            json!({"jsonrpc": "2.0", "id": 1, "method": "x", "params": 3}),
        ] {
            let Err((_, error)) = Request::parse(bad) else {
                panic!("accepted a malformed request");
            };
            assert_eq!(error.code, ErrorCode::InvalidRequest);
        }
    }
}

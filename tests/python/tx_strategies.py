"""Hypothesis strategies: transaction dicts of every type, in every form eth-account accepts.

``transactions()`` draws dicts that eth-account signs and flare_wallet must sign to the same
bytes. Numbers come as ints or 0x-hex (upper and lower case, with leading zeros), addresses
as checksummed strings or 20 bytes, calldata as bytes, HexBytes, bytearray or hex (under
``data`` or ``input``), list entries in every form eth-account reads, with the type either
given (int or hex) or left to be inferred.

``as_eth_account_dict`` turns such a dict into the one eth-account expects: it knows calldata
only as ``data``. ``malformed_transactions()`` breaks a valid dict in one way (a wrong type,
a negative or oversized number, bad hex, an unknown or missing field, mixed fees, a bad
address or list, chain id 0...) and says how.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from hypothesis import strategies as st

UINT256_MAX = 2**256 - 1
UINT64_MAX = 2**64 - 1
# EIP-2294: the largest chain id whose EIP-155 v still fits in 64 bits.
MAX_CHAIN_ID = 2**63 - 1 - 36

# Authorizations signed by a fixed authority key, as eth-account hands them out.
_AUTHORITY = Account.from_key("0x" + "42" * 32)
SIGNED_AUTHORIZATIONS = [
    _AUTHORITY.sign_authorization(
        {"chainId": chain_id, "address": "0x" + f"{i:02x}" * 20, "nonce": i}
    )
    for i, chain_id in enumerate([0, 1, 31337, 2**64, 7])
]


def _hex_forms(n: int) -> st.SearchStrategy[str]:
    digits = f"{n:x}"
    return st.sampled_from(
        [
            "0x" + digits,
            "0X" + digits.upper(),
            "0x" + digits.zfill(len(digits) + 1),  # a leading zero, odd or even length
        ]
    )


def quantity(max_value: int, min_value: int = 0) -> st.SearchStrategy[int | str]:
    """An int or its hex text, biased towards small values and the bounds."""
    numbers = st.one_of(
        st.integers(min_value, min(max_value, 2**16)),
        st.integers(min_value, max_value),
        st.sampled_from(sorted({min_value, max_value})),
    )
    return numbers.flatmap(lambda n: st.one_of(st.just(n), _hex_forms(n)))


addresses_bytes = st.binary(min_size=20, max_size=20)


@st.composite
def address(draw: st.DrawFn, *, checksummed_text_only: bool) -> str | bytes:
    raw = draw(addresses_bytes)
    forms: list[str | bytes] = [to_checksum_address(raw), raw]
    if not checksummed_text_only:
        forms.append("0x" + raw.hex())
    return draw(st.sampled_from(forms))


@st.composite
def calldata(draw: st.DrawFn) -> bytes | bytearray | str:
    raw = draw(st.binary(max_size=96))
    return draw(st.sampled_from([raw, HexBytes(raw), bytearray(raw), "0x" + raw.hex()]))


access_lists = st.lists(
    st.fixed_dictionaries(
        {
            "address": address(checksummed_text_only=False),
            "storageKeys": st.lists(quantity(UINT256_MAX), max_size=3),
        }
    ),
    max_size=3,
)

blob_hashes = st.lists(
    st.binary(min_size=31, max_size=31).flatmap(
        lambda tail: st.sampled_from([b"\x01" + tail, "0x01" + tail.hex()])
    ),
    min_size=1,
    max_size=6,
)

authorization_dicts = st.fixed_dictionaries(
    {
        "chainId": quantity(UINT256_MAX),
        "address": address(checksummed_text_only=False),
        "nonce": quantity(UINT64_MAX),
        "yParity": st.sampled_from([0, 1, "0x0", "0x1"]),
        "r": quantity(UINT256_MAX),
        "s": quantity(UINT256_MAX),
    }
)

authorization_lists = st.lists(
    st.one_of(authorization_dicts, st.sampled_from(SIGNED_AUTHORIZATIONS)),
    min_size=1,
    max_size=3,
)

TX_TYPES = (0, 1, 2, 3, 4)


@st.composite
def transactions(
    draw: st.DrawFn,
    *,
    tx_type: int | None = None,
    sender: str | None = None,
    allow_input_key: bool = True,
) -> dict[str, Any]:
    """A valid transaction dict of ``tx_type`` (any type when None)."""
    kind = draw(st.sampled_from(TX_TYPES)) if tx_type is None else tx_type
    tx: dict[str, Any] = {
        "chainId": draw(st.one_of(st.integers(1, 100_000), quantity(MAX_CHAIN_ID, min_value=1))),
        "nonce": draw(quantity(UINT64_MAX)),
        "gas": draw(quantity(UINT64_MAX)),
    }
    can_create = kind in (0, 1, 2)
    if not (can_create and draw(st.booleans()) and draw(st.booleans())):
        tx["to"] = draw(address(checksummed_text_only=True))
    elif draw(st.booleans()):
        tx["to"] = draw(st.sampled_from([None, "", b""]))  # else: no 'to' at all
    if draw(st.booleans()):
        tx["value"] = draw(quantity(UINT256_MAX))
    if draw(st.booleans()):
        key = "input" if allow_input_key and draw(st.booleans()) else "data"
        tx[key] = draw(calldata())

    if kind in (0, 1):
        tx["gasPrice"] = draw(quantity(UINT256_MAX))
    else:
        tx["maxFeePerGas"] = draw(quantity(UINT256_MAX))
        tx["maxPriorityFeePerGas"] = draw(quantity(UINT256_MAX))

    explicit_type = draw(st.booleans())
    # Without an explicit type, gasPrice + accessList is what makes a dict type 1.
    if (kind == 1 and not explicit_type) or (kind >= 1 and draw(st.booleans())):
        tx["accessList"] = draw(access_lists)
    if kind == 3:
        tx["maxFeePerBlobGas"] = draw(quantity(UINT256_MAX))
        tx["blobVersionedHashes"] = draw(blob_hashes)
    if kind == 4:
        tx["authorizationList"] = draw(authorization_lists)

    # eth-account knows no explicit type 0; a legacy dict has no 'type'.
    if explicit_type and kind != 0:
        tx["type"] = draw(st.sampled_from([kind, hex(kind), f"0x{kind:02x}"]))
    if sender is not None and draw(st.booleans()):
        tx["from"] = sender
    return tx


def as_eth_account_dict(tx: dict[str, Any]) -> dict[str, Any]:
    """The same transaction as eth-account wants it (calldata under 'data')."""
    out = dict(tx)
    if "input" in out:
        out["data"] = out.pop("input")
    return out


# ------------------------------------------------------------------ malformed dicts

RECIPIENT = "0x09616C3d61b3331fc4109a9E41a8BDB7d9776609"

U256_FIELDS = ("value", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "maxFeePerBlobGas")
U64_FIELDS = ("nonce", "gas", "chainId")
NOT_A_NUMBER = [1.5, "12", "0x", "0xzz", "ff", b"\x01", [1], {"n": 1}, True, None, object()]


def _numeric_fields(tx: dict[str, Any]) -> list[str]:
    return [k for k in (*U256_FIELDS, *U64_FIELDS) if k in tx]


@st.composite
def malformed_transactions(draw: st.DrawFn) -> tuple[str, Any]:
    """A valid dict broken in one way, and a word on how."""
    tx = draw(transactions())
    numeric = _numeric_fields(tx)
    how = draw(
        st.sampled_from(
            [
                "wrong type",
                "negative",
                "too large",
                "odd-length hex",
                "bad hex",
                "unknown key",
                "missing field",
                "mixed fees",
                "bad to",
                "chain id 0",
                "bad access list",
                "bad authorization list",
                "bad blob hashes",
                "bad type",
                "not a dict",
                "non-string key",
            ]
        )
    )
    field = draw(st.sampled_from(numeric))
    if how == "wrong type":
        # "chainId": None is no type error: it asks for an unprotected legacy transaction
        # (eth-account's reading), which the policy refuses (test_policy.py).
        wrong = [v for v in NOT_A_NUMBER if not (field == "chainId" and v is None)]
        tx[field] = draw(st.sampled_from(wrong))
    elif how == "negative":
        tx[field] = -draw(st.integers(1, 2**300))
    elif how == "too large":
        limit = 2**64 if field in U64_FIELDS else 2**256
        if field == "chainId":
            limit = MAX_CHAIN_ID + 1
        big = limit + draw(st.integers(0, 2**300))
        tx[field] = draw(st.sampled_from([big, hex(big)]))
    elif how == "odd-length hex":
        digits = draw(
            st.text("0123456789abcdef", min_size=1, max_size=63).filter(lambda d: len(d) % 2)
        )
        tx.pop("data", None)
        tx.pop("input", None)
        tx[draw(st.sampled_from(["data", "input"]))] = "0x" + digits
    elif how == "bad hex":
        target = draw(st.sampled_from([*numeric, "data"]))
        if target == "data":
            tx.pop("input", None)
        tx[target] = draw(st.sampled_from(["0xzz", "0x0g", "zz"]))
    elif how == "unknown key":
        known = {
            "type", "chainId", "nonce", "gas", "gasPrice", "maxFeePerGas",
            "maxPriorityFeePerGas", "to", "value", "data", "input", "accessList",
            "maxFeePerBlobGas", "blobVersionedHashes", "authorizationList", "from",
        }  # fmt: skip
        tx[draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in known))] = 1
    elif how == "missing field":
        required = ["nonce", "gas"] + [
            k for k in ("gasPrice", "maxFeePerGas", "maxPriorityFeePerGas") if k in tx
        ]
        del tx[draw(st.sampled_from(required))]
    elif how == "mixed fees":
        if "gasPrice" in tx:
            tx["maxFeePerGas"] = 1
        else:
            tx["gasPrice"] = 1
    elif how == "bad to":
        tx["to"] = draw(
            st.sampled_from(
                [
                    "0x" + "ab" * 20,  # lower case: not the checksum form
                    "0x1234",
                    b"\x01" * 19,
                    b"\x01" * 21,
                    12345,
                    "0x" + "zz" * 20,
                ]
            )
        )
    elif how == "chain id 0":
        tx["chainId"] = draw(st.sampled_from([0, "0x0", "0x00"]))
    elif how == "bad access list":
        tx.setdefault("type", 2 if "maxFeePerGas" in tx else 1)
        tx["accessList"] = draw(
            st.sampled_from(
                [
                    {"address": RECIPIENT, "storageKeys": []},
                    [{"address": RECIPIENT}],
                    [{"address": RECIPIENT, "storageKeys": [], "extra": 1}],
                    [{"address": RECIPIENT, "storageKeys": [-1]}],
                    [{"address": RECIPIENT, "storageKeys": [2**256]}],
                    [{"address": "0x12", "storageKeys": []}],
                    [(RECIPIENT, [])],
                    "0x",
                ]
            )
        )
        if tx["type"] in (0, "0x0"):
            tx["type"] = 1
    elif how == "bad authorization list":
        good = {"chainId": 1, "address": RECIPIENT, "nonce": 0, "yParity": 0, "r": 1, "s": 1}
        tx.pop("gasPrice", None)
        tx.pop("accessList", None)
        tx.pop("maxFeePerBlobGas", None)
        tx.pop("blobVersionedHashes", None)
        tx.update(type=4, to=RECIPIENT, maxFeePerGas=1, maxPriorityFeePerGas=1)
        tx["authorizationList"] = draw(
            st.sampled_from(
                [
                    [],
                    [dict(good, yParity=2)],
                    [{k: v for k, v in good.items() if k != "r"}],
                    [dict(good, nonce=2**64)],
                    [dict(good, r=2**256)],
                    [dict(good, extra=1)],
                    [5],
                    good,
                ]
            )
        )
    elif how == "bad blob hashes":
        tx.pop("gasPrice", None)
        tx.pop("authorizationList", None)
        tx.update(type=3, to=RECIPIENT, maxFeePerGas=1, maxPriorityFeePerGas=1, maxFeePerBlobGas=1)
        tx["blobVersionedHashes"] = draw(
            st.sampled_from([[], ["0x01" + "00" * 30], ["0x01" + "0" * 63], [b"\x01" * 33], "0x"])
        )
    elif how == "bad type":
        tx["type"] = draw(st.sampled_from([5, "0x7", -1, "2", 2.0, None]))
    elif how == "not a dict":
        return how, draw(st.sampled_from([[("nonce", 1)], "0x02", None, 5, b"\x02"]))
    elif how == "non-string key":
        tx[draw(st.sampled_from([1, b"nonce", None]))] = 1
    return how, tx

"""``python -m flare_wallet``: the wallet from a shell.

    python -m flare_wallet demo
    python -m flare_wallet --simulator --state-dir DIR create [--policy policy.json] \
        [--owner 0xOWNER1 --owner 0xOWNER2 --owner 0xOWNER3 --threshold 2]
    python -m flare_wallet --tcti swtpm:path=/run/swtpm.sock address
    python -m flare_wallet sign tx.json          (a JSON transaction; '-' reads stdin)
    python -m flare_wallet attest --nonce 0x...  > evidence.json
    python -m flare_wallet verify evidence.json --nonce 0x...
    python -m flare_wallet backup > backup.txt
    python -m flare_wallet restore @backup.txt
    python -m flare_wallet import-keystore account.json         (asks for its password)
    python -m flare_wallet policy                               (the account's policy, JSON)
    python -m flare_wallet policy-template > policy.json   (a deny-by-default policy to edit)
    python -m flare_wallet owners                 (owners, threshold, admin nonce, JSON)

Admin actions take the approval of the account's owners (M of them, EIP-712):

    python -m flare_wallet admin-request replace_policy --policy policy.json > request.json
    cast wallet sign --data --from-file request.json     (each owner; or eth-account, MetaMask)
    python -m flare_wallet admin-execute request.json 0xSIG1 0xSIG2 --policy policy.json

    admin-request replace_owners --owner 0x.. --owner 0x.. --threshold 1
    admin-request export_keystore [--kdf scrypt|pbkdf2] [--kdf-param c=600000]
        (asks for the keystore password twice; admin-execute asks again, --out FILE)
    admin-request change_pin > request.json       (the request holds no PIN)
    python -m flare_wallet change-pin request.json 0xSIG1 0xSIG2
        (asks for the current PIN, then the new one twice, without echo)

An account with a policy or owners names its key lock: ``--key-lock pin`` (recommended for
an agent), ``boot-once`` (a long-lived process that keeps its key cached), ``pcr``, or
``none`` (any local process with TPM access and the account file can unseal the key).

The TPM is ``--tcti``, else ``$FLARE_WALLET_TPM``, else ``/dev/tpmrm0``; ``--simulator``
starts a private swtpm instead (with ``--state-dir DIR`` its TPM state is kept in
``DIR/tpm`` and the wallet state in ``DIR/wallet``, so later commands see the same TPM).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flare_wallet._admin import ADMIN_ACTIONS, DEFAULT_DEADLINE_SECONDS
from flare_wallet._attestation import verify_attestation
from flare_wallet._manager import SecureWalletManager
from flare_wallet._native import Policy
from flare_wallet._policy import read_policy_file
from flare_wallet._vtpm import Vtpm
from flare_wallet.exceptions import InvalidOwners, KeystoreError, WalletError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m flare_wallet",
        description="An Ethereum wallet whose key is sealed by a TPM 2.0.",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--tcti", help="the TPM: device:PATH, swtpm:host=H,port=P or swtpm:path=SOCK"
    )
    where.add_argument(
        "--simulator", action="store_true", help="start a private swtpm (a software TPM)"
    )
    parser.add_argument("--state-dir", type=Path, help="the wallet state directory")
    parser.add_argument(
        "--trust-roots",
        dest="tpm_trust_roots",
        metavar="PATH",
        help=(
            "the TPM trust roots: a PEM file or folder with the TPM vendor's EK CA (default "
            "$FLARE_WALLET_TPM_ROOTS); a TPM whose EK certificate does not chain to them is "
            "refused (--simulator uses its own local CA)"
        ),
    )
    parser.add_argument(
        "--allow-unverified-tpm",
        action="store_true",
        help=(
            "INSECURE: accept a TPM with no EK certificate or one that fails the chain; "
            "a fake TPM or an interposer could read the key, the account records it and "
            "its evidence says 'unverified TPM'"
        ),
    )
    parser.add_argument("--key-mode", choices=("cached", "strict"), default="cached")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="the account's key is PIN-locked: ask for the PIN (without echo)",
    )
    parser.add_argument(
        "--key-lock",
        help=(
            "for create and import-keystore: pin, pcr, boot-once joined by '+', or none "
            "(none: any local process with TPM access and the account file can unseal "
            "the key); a lock with 'pin' asks for the PIN twice"
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser("demo", help="run the FlareTrade flow on swtpm and anvil")
    demo.add_argument("--anvil", help="the anvil executable (default $FLARE_WALLET_ANVIL)")
    create = commands.add_parser("create", help="create a sealed account and print its address")
    policy_help = "the signing policy (a JSON object with the policy dict's keys)"
    create.add_argument("--policy", type=Path, metavar="FILE.json", help=policy_help)
    _owner_arguments(create, "an owner of the account (repeat for each, 1 to 16)")
    commands.add_parser("address", help="load the account and print its address")
    sign = commands.add_parser("sign", help="sign a JSON transaction, print the raw hex")
    sign.add_argument("transaction", help="a JSON file, '-' for stdin, or inline JSON")
    sign.add_argument("--chain-id", type=int, help="chainId when the transaction has none")
    attest = commands.add_parser("attest", help="print attestation evidence as JSON")
    attest.add_argument("--nonce", required=True, help="the verifier's nonce, hex")
    attest.add_argument("--chain-id", type=int, default=0)
    verify = commands.add_parser("verify", help="verify attestation evidence (no TPM needed)")
    verify.add_argument("evidence", help="the evidence JSON file, or '-' for stdin")
    verify.add_argument("--nonce", required=True, help="the nonce the evidence answers, hex")
    verify.add_argument("--address", help="the address the evidence must speak for")
    verify.add_argument("--chain-id", type=int, help="the chain id it must be bound to")
    verify.add_argument(
        "--trust-roots",
        required=True,
        help="PEM file of the TPM trust roots the enrollment (or AK certificate) chains to",
    )
    anchor = verify.add_mutually_exclusive_group(required=True)
    anchor.add_argument("--enrollment", help="the enrollment record file of the wallet's AK")
    anchor.add_argument("--ak-certificate", help="the AK certificate file (DER)")
    verify.add_argument(
        "--pcrs", default="0-7", help="the PCRs the quote must cover (SHA-256), e.g. 0-7 or 0,2,4"
    )
    verify.add_argument(
        "--accept-unverified-tpm",
        action="store_true",
        help="accept evidence from an account created on an UNVERIFIED TPM",
    )
    verify.add_argument("--policy-hash", help="the policy hash the key must be bound to, hex")
    commands.add_parser("backup", help="print a TPM-bound backup of the account")
    restore = commands.add_parser("restore", help="restore a backup, print the address")
    restore.add_argument("backup", help="the backup string, or @FILE")
    import_keystore = commands.add_parser(
        "import-keystore", help="seal the key of a v3 keystore as the account, print the address"
    )
    import_keystore.add_argument("keystore", help="the keystore JSON file, or '-' for stdin")
    import_keystore.add_argument(
        "--password-file", type=Path, help="read the password from this file's first line"
    )
    import_keystore.add_argument("--policy", type=Path, metavar="FILE.json", help=policy_help)
    _owner_arguments(import_keystore, "an owner of the account (repeat for each, 1 to 16)")
    commands.add_parser("policy", help="print the account's signing policy and its hash")
    commands.add_parser(
        "policy-template",
        help=(
            "print a deny-by-default policy to edit (recommended for agents; create the "
            "account with it and --key-lock pin)"
        ),
    )
    commands.add_parser("owners", help="print the account's owners, threshold and admin nonce")
    request = commands.add_parser(
        "admin-request",
        help="print the EIP-712 request the owners sign to approve an admin action",
    )
    request.add_argument("action", choices=ADMIN_ACTIONS)
    request.add_argument(
        "--deadline",
        type=int,
        default=DEFAULT_DEADLINE_SECONDS,
        metavar="SECS",
        help=f"seconds from now the request stays valid (default {DEFAULT_DEADLINE_SECONDS})",
    )
    _admin_parameter_arguments(request, policy_help)
    execute = commands.add_parser(
        "admin-execute", help="execute an admin request with the owners' signatures"
    )
    execute.add_argument("request", help="the request JSON file (admin-request's output)")
    execute.add_argument(
        "signatures", nargs="+", metavar="SIGNATURE", help="an owner's signature, hex, or @FILE"
    )
    _admin_parameter_arguments(execute, policy_help)
    change_pin = commands.add_parser(
        "change-pin",
        help="seal the key under a new PIN with the owners' signatures of a change_pin request",
    )
    change_pin.add_argument("request", help="the request JSON file (admin-request change_pin)")
    change_pin.add_argument(
        "signatures", nargs="+", metavar="SIGNATURE", help="an owner's signature, hex, or @FILE"
    )
    execute.add_argument(
        "--out",
        type=Path,
        help="export_keystore: a new file for the keystore (mode 0600); without it, print it",
    )
    return parser


def _owner_arguments(parser: argparse.ArgumentParser, owner_help: str) -> None:
    parser.add_argument(
        "--owner", action="append", metavar="ADDRESS", dest="owners", help=owner_help
    )
    parser.add_argument(
        "--threshold", type=int, metavar="M", help="how many owners must approve an admin action"
    )


def _admin_parameter_arguments(parser: argparse.ArgumentParser, policy_help: str) -> None:
    """The parameters of each admin action, given alike to admin-request and
    admin-execute (the request commits to them; execution must repeat them)."""
    parser.add_argument(
        "--policy", type=Path, metavar="FILE.json", help=f"replace_policy: {policy_help}"
    )
    _owner_arguments(parser, "replace_owners: a new owner (repeat for each)")
    parser.add_argument("--kdf", choices=("scrypt", "pbkdf2"), help="export_keystore: the KDF")
    parser.add_argument(
        "--kdf-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="export_keystore: a KDF cost other than the default (scrypt n=262144 r=8 p=1; "
        "pbkdf2 needs c=600000 or more)",
    )
    parser.add_argument(
        "--password-file",
        type=Path,
        help="export_keystore: read the keystore password from this file's first line",
    )


def _read_text(argument: str) -> str:
    if argument == "-":
        return sys.stdin.read()
    if argument.startswith("@"):
        return Path(argument[1:]).read_text()
    path = Path(argument)
    if not argument.lstrip().startswith("{") and path.exists():
        return path.read_text()
    return argument


def _hex_bytes(text: str, what: str) -> bytes:
    digits = text[2:] if text[:2] in ("0x", "0X") else text
    try:
        return bytes.fromhex(digits)
    except ValueError:
        raise WalletError(f"{what} must be hex") from None


def _pin(args: argparse.Namespace) -> str | None:
    """The PIN asked for on the terminal without echo (twice for a new account), when
    --pin is given or --key-lock has 'pin'."""
    creating = args.command in ("create", "import-keystore")
    lock_parts = (args.key_lock or "").split("+") if creating else []
    if not args.pin and "pin" not in lock_parts and args.command != "change-pin":
        return None
    pin = getpass.getpass("PIN: ")
    if creating and getpass.getpass("Repeat the PIN: ") != pin:
        raise WalletError("the two PINs differ: nothing was done")
    return pin


def _password(password_file: Path | None, *, confirm: bool) -> str:
    """The password from the first line of ``password_file``, or asked for on the
    terminal (twice when ``confirm``)."""
    if password_file is not None:
        first_line = password_file.read_text(encoding="utf-8").split("\n", 1)[0]
        return first_line.removesuffix("\r")
    password = getpass.getpass("Keystore password: ")
    if confirm and getpass.getpass("Repeat the password: ") != password:
        raise KeystoreError("the two passwords differ: nothing was done")
    return password


def _kdf_params(pairs: Sequence[str]) -> dict[str, int]:
    params: dict[str, int] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not value.isdigit():
            raise KeystoreError(f"--kdf-param takes NAME=NUMBER, not {pair!r}")
        params[name] = int(value)
    return params


def _admin_params(args: argparse.Namespace, action: str, *, confirm: bool) -> dict[str, Any]:
    """The parameters of ``action`` from the command line; for an export, the password
    asked for on the terminal (twice when ``confirm``) or read from --password-file."""
    given = {
        "--policy": args.policy is not None,
        "--owner": bool(args.owners),
        "--threshold": args.threshold is not None,
        "--kdf": args.kdf is not None,
        "--kdf-param": bool(args.kdf_param),
        "--password-file": args.password_file is not None,
    }
    allowed = {
        "replace_policy": ("--policy",),
        "replace_owners": ("--owner", "--threshold"),
        "export_keystore": ("--kdf", "--kdf-param", "--password-file"),
        "change_pin": (),
    }[action]
    stray = [flag for flag, present in given.items() if present and flag not in allowed]
    if stray:
        raise WalletError(f"{action} does not take {', '.join(stray)}")
    if action == "replace_policy":
        if args.policy is None:
            raise WalletError("replace_policy needs --policy FILE.json")
        return {"policy": read_policy_file(args.policy)}
    if action == "replace_owners":
        if not args.owners or args.threshold is None:
            raise InvalidOwners("replace_owners needs --owner (one or more) and --threshold")
        return {"owners": args.owners, "threshold": args.threshold}
    if action == "change_pin":
        # The request commits to the key lock only; the PINs go to change-pin.
        return {}
    params = _kdf_params(args.kdf_param)
    password = _password(args.password_file, confirm=confirm)
    if not password:
        raise KeystoreError("the password is empty: a keystore needs one to protect the key")
    return {"password": password, "kdf": args.kdf or "scrypt", "kdf_params": params}


def _signature(argument: str) -> str:
    if argument.startswith("@"):
        return Path(argument[1:]).read_text(encoding="utf-8").strip()
    return argument


def _admin_execute(wm: SecureWalletManager, args: argparse.Namespace) -> None:
    request: dict[str, Any] = json.loads(_read_text(args.request))
    action = request.get("message", {}).get("action") if isinstance(request, dict) else None
    if action not in ADMIN_ACTIONS:
        raise WalletError(f"{args.request} is not an admin request (message.action)")
    if action == "change_pin":
        raise WalletError("a change_pin request is executed with change-pin (it asks the PINs)")
    if args.out is not None and action != "export_keystore":
        raise WalletError(f"{action} does not take --out")
    params = _admin_params(args, action, confirm=False)
    signatures = [_signature(argument) for argument in args.signatures]
    if args.out is None:
        result = wm.execute_admin(request, signatures, **params)
        print(json.dumps(result, indent=2) if action == "replace_owners" else result)
        return
    # A new file only, readable by its owner alone (it holds the key for anyone who learns
    # the password), made before the export uses up the owners' approval.
    descriptor = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        try:
            out.write(wm.execute_admin(request, signatures, **params) + "\n")
        except BaseException:
            args.out.unlink()
            raise
    print(wm.address)


def _change_pin(wm: SecureWalletManager, args: argparse.Namespace) -> None:
    request: dict[str, Any] = json.loads(_read_text(args.request))
    action = request.get("message", {}).get("action") if isinstance(request, dict) else None
    if action != "change_pin":
        raise WalletError(f"{args.request} is not a change_pin request (message.action)")
    signatures = [_signature(argument) for argument in args.signatures]
    new_pin = getpass.getpass("New PIN: ")
    if not new_pin:
        raise WalletError("the new PIN is empty: nothing was done")
    if getpass.getpass("Repeat the new PIN: ") != new_pin:
        raise WalletError("the two new PINs differ: nothing was done")
    wm.change_pin(new_pin, request=request, approvals=signatures)
    print(wm.address)


def _policy_json(policy: Policy | None) -> dict[str, Any]:
    if policy is None:
        return {"hash": "0x" + "00" * 32, "rules": None}
    return {"hash": policy.hash, "rules": policy.to_dict()}


def _open_vtpm(args: argparse.Namespace) -> Vtpm:
    if args.simulator:
        if args.state_dir is None:
            return Vtpm.simulator()
        return Vtpm.simulator(args.state_dir / "wallet", tpm_state_dir=args.state_dir / "tpm")
    return Vtpm(
        args.tcti,
        state_dir=args.state_dir,
        trust_roots=args.tpm_trust_roots,
        allow_unverified_tpm=args.allow_unverified_tpm,
    )


# A starting point for an agent's policy: nothing is signed unless a rule allows it.
# Replace the example addresses; amounts are in base units, as decimal strings.
POLICY_TEMPLATE: dict[str, Any] = {
    "default": "deny",
    "chain_ids": [14, 114],
    "recipients_allow": ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],
    "max_value_wei": "1000000000000000000",
    "daily_limit_wei": "5000000000000000000",
    "tokens": {
        "0x1D80c49BbBCd1C0911346656B529DF9E5c2F783d": {
            "max_amount": "1000000000000000000000",
            "daily_limit": "5000000000000000000000",
            "recipients_allow": ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],
            "spenders_allow": ["0x000000000022D473030F116dDEE9F6B43aC78BA3"],
            "allow_unlimited_approval": False,
        }
    },
    "permit_max_lifetime_seconds": 3600,
    "allow_contract_creation": False,
    "allow_messages": False,
}


def _pcr_list(text: str) -> list[int]:
    """PCR indices from ``0-7`` or ``0,2,4`` (or both, comma-separated)."""
    indices: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        try:
            indices.extend(range(int(first), int(last or first) + 1))
        except ValueError:
            raise SystemExit(f"--pcrs: {text!r} is not a PCR list like 0-7 or 0,2,4") from None
    return indices


def _run(args: argparse.Namespace) -> int:
    if args.command == "policy-template":
        print(json.dumps(POLICY_TEMPLATE, indent=2))
        return 0
    if args.command == "demo":
        from flare_wallet._demo import run_demo

        run_demo(anvil_path=args.anvil)
        return 0
    if args.command == "verify":
        evidence = json.loads(_read_text(args.evidence))
        facts = verify_attestation(
            evidence,
            _hex_bytes(args.nonce, "--nonce"),
            expected_address=args.address,
            expected_chain_id=args.chain_id,
            trust_roots=Path(args.trust_roots),
            enrollment=None if args.enrollment is None else Path(args.enrollment),
            ak_certificate=None if args.ak_certificate is None else Path(args.ak_certificate),
            pcrs=_pcr_list(args.pcrs),
            accept_unverified_tpm=args.accept_unverified_tpm,
            expected_policy_hash=args.policy_hash,
        )
        print(json.dumps(facts, indent=2))
        return 0

    policy = None
    owners: dict[str, Any] = {}
    if args.command in ("create", "import-keystore"):
        if args.policy is not None:
            policy = read_policy_file(args.policy)
        owners = {"owners": args.owners, "threshold": args.threshold}
        if args.key_lock is not None:
            owners["key_lock"] = args.key_lock
    pin = _pin(args)
    with (
        _open_vtpm(args) as vtpm,
        SecureWalletManager(
            None, vtpm, key_mode=args.key_mode, policy=policy, pin=pin, **owners
        ) as wm,
    ):
        if args.command == "create":
            print(wm.create_account())
        elif args.command == "restore":
            print(wm.restore_wallet(_read_text(args.backup).strip()))
        elif args.command == "import-keystore":
            keystore = (
                sys.stdin.read()
                if args.keystore == "-"
                else Path(args.keystore).read_text(encoding="utf-8")
            )
            print(wm.import_keystore(keystore, _password(args.password_file, confirm=False)))
        else:
            wm.load_account()
            if args.command == "address":
                print(wm.address)
            elif args.command == "sign":
                tx: dict[str, Any] = json.loads(_read_text(args.transaction))
                if tx.get("chainId") is None and args.chain_id is not None:
                    tx["chainId"] = args.chain_id
                print(wm.sign_transaction(tx).to_0x_hex())
            elif args.command == "attest":
                evidence = wm.attest(_hex_bytes(args.nonce, "--nonce"), chain_id=args.chain_id)
                print(json.dumps(evidence, indent=2))
            elif args.command == "backup":
                print(wm.backup_wallet())
            elif args.command == "policy":
                print(json.dumps(_policy_json(wm.policy), indent=2))
            elif args.command == "owners":
                shown = {"owners": wm.owners, "threshold": wm.threshold, "nonce": wm.admin_nonce}
                print(json.dumps(shown, indent=2))
            elif args.command == "admin-request":
                params = _admin_params(args, args.action, confirm=True)
                deadline = int(time.time()) + args.deadline
                print(json.dumps(wm.admin_request(args.action, deadline=deadline, **params)))
            elif args.command == "admin-execute":
                _admin_execute(wm, args)
            elif args.command == "change-pin":
                _change_pin(wm, args)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        return _run(args)
    except WalletError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

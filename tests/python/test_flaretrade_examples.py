"""The FlareTrade wallet document's usage examples, run unchanged apart from their imports,
against flare_wallet, a swtpm reached through $FLARE_WALLET_TPM, and anvil."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import VECTORS, SwtpmProcess
from flare_wallet import SecureWalletManager, Vtpm

DOCUMENT = (VECTORS / "flaretrade-secure-wallet.md").read_text()

# The only lines changed: where the two classes are imported from.
IMPORTS = {
    "from flare_ai_defai.blockchain.wallet import SecureWalletManager": (
        "from flare_wallet import SecureWalletManager"
    ),
    "from flare_ai_defai.blockchain.attestation import Vtpm": "from flare_wallet import Vtpm",
}


def usage_examples() -> list[tuple[str, str]]:
    """(title, code) of each Python block under "## Usage Examples", in order."""
    section = DOCUMENT.split("## Usage Examples", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"### ([^\n]+)\n\n```python\n(.*?)```", section, re.DOTALL)
    assert [title for title, _ in blocks] == [
        "Creating a New Wallet",
        "Signing a Transaction",
        "Backing Up a Wallet",
        "Restoring a Wallet",
    ]
    return blocks


def with_our_imports(code: str) -> str:
    for theirs, ours in IMPORTS.items():
        code = code.replace(theirs, ours)
    return code


def test_the_document_examples_run_unchanged(
    swtpm: SwtpmProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    web3: Any,
    fund: Callable[[str, int], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FLARE_WALLET_TPM", swtpm.tcti)
    monkeypatch.setenv("FLARE_WALLET_STATE_DIR", str(tmp_path / "state"))
    recipient = "0x1234567890123456789012345678901234567890"
    before = web3.eth.get_balance(recipient)
    namespace: dict[str, Any] = {"web3": web3}

    (_, create), (_, sign), (_, backup), (_, restore) = usage_examples()
    exec(with_our_imports(create), namespace)  # noqa: S102 (the document's own code)
    created = namespace["address"]
    fund(created, 2 * 10**18)  # the document assumes a funded account
    exec(with_our_imports(sign), namespace)  # noqa: S102
    exec(with_our_imports(backup), namespace)  # noqa: S102
    exec(with_our_imports(restore), namespace)  # noqa: S102

    printed = capsys.readouterr().out
    assert f"New account address: {created}" in printed
    assert f"Restored account address: {created}" in printed
    assert namespace["address"] == created
    receipt = web3.eth.wait_for_transaction_receipt(namespace["tx_hash"])
    assert receipt["status"] == 1
    assert web3.eth.get_balance(recipient) == before + 10**18
    # The legacy dict had no chainId: it was read from web3 (EIP-155 replay protection).
    signed = web3.eth.get_transaction(namespace["tx_hash"])
    assert signed["chainId"] == web3.eth.chain_id
    namespace["vtpm"].close()

    # The backup restores into an empty state directory on the same TPM, and signs again.
    with (
        Vtpm(state_dir=tmp_path / "restored") as vtpm,
        SecureWalletManager(web3, vtpm) as manager,
    ):
        assert manager.restore_wallet(namespace["backup_data"]) == created
        tx_hash = web3.eth.send_raw_transaction(
            manager.sign_transaction(
                {
                    "to": recipient,
                    "value": 1,
                    "gas": 21000,
                    "gasPrice": web3.to_wei(50, "gwei"),
                    "nonce": web3.eth.get_transaction_count(created),
                }
            )
        )
        assert web3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1

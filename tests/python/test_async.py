"""AsyncWeb3: ``AsyncSecureWalletManager`` awaits the node and runs TPM calls in a
worker thread; the synchronous manager refuses an AsyncWeb3 chain id cleanly."""

from __future__ import annotations

import asyncio
import gc
import secrets
import threading
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from conftest import anchor
from flare_wallet import (
    AsyncSecureWalletManager,
    SecureWalletManager,
    Vtpm,
    WalletError,
    verify_attestation,
)
from web3 import AsyncWeb3
from web3.middleware import SignAndSendRawMiddlewareBuilder

RECIPIENT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


def async_web3(anvil: Any) -> AsyncWeb3[Any]:
    return AsyncWeb3(AsyncWeb3.AsyncHTTPProvider(anvil.url))


def test_sign_send_and_attest_with_async_web3(
    vtpm: Vtpm, anvil: Any, fund: Callable[[str, int], None]
) -> None:
    async def flow() -> None:
        w3 = async_web3(anvil)
        async with AsyncSecureWalletManager(w3, vtpm) as wallet_manager:
            address = await wallet_manager.create_account()
            fund(address, 10**18)
            tx = {  # no chainId: awaited from the AsyncWeb3
                "from": address,
                "to": RECIPIENT,
                "value": 777,
                "gas": 21000,
                "maxFeePerGas": await w3.eth.gas_price * 2,
                "maxPriorityFeePerGas": 1,
                "nonce": await w3.eth.get_transaction_count(address),
            }
            signed = await wallet_manager.sign_transaction(tx)
            tx_hash = await w3.eth.send_raw_transaction(signed)
            assert tx_hash == signed.hash
            assert (await w3.eth.wait_for_transaction_receipt(tx_hash))["status"] == 1
            nonce = secrets.token_bytes(32)
            evidence = await wallet_manager.attest(nonce)
            facts = verify_attestation(
                evidence, nonce, **anchor(vtpm), expected_chain_id=await w3.eth.chain_id
            )
            assert facts["address"] == address
            assert await wallet_manager.validate_wallet_state()
            balance = await wallet_manager.get_wallet_balance()
            assert balance["eth_balance"] == await w3.eth.get_balance(address)

    asyncio.run(flow())


def test_async_signing_middleware(vtpm: Vtpm, anvil: Any, fund: Callable[[str, int], None]) -> None:
    async def flow() -> None:
        w3 = async_web3(anvil)
        async with AsyncSecureWalletManager(w3, vtpm) as wallet_manager:
            address = await wallet_manager.load_or_create_account()
            fund(address, 10**18)
            local_account = wallet_manager.local_account
            w3.middleware_onion.inject(
                SignAndSendRawMiddlewareBuilder.build(local_account), layer=0
            )
            tx_hash = await w3.eth.send_transaction({"from": address, "to": RECIPIENT, "value": 5})
            receipt = await w3.eth.wait_for_transaction_receipt(tx_hash)
            assert receipt["status"] == 1
            assert receipt["from"] == address

    asyncio.run(flow())


def test_tpm_calls_leave_the_event_loop_free(vtpm: Vtpm) -> None:
    # Strict mode unseals the key in the TPM for every signature: real TPM I/O.
    threads: set[int] = set()

    async def flow() -> int:
        async with AsyncSecureWalletManager(None, vtpm, key_mode="strict") as wallet_manager:
            await wallet_manager.create_account()
            ticks = 0
            done = asyncio.Event()

            async def ticker() -> None:
                nonlocal ticks
                while not done.is_set():
                    ticks += 1
                    await asyncio.sleep(0)

            async def sign_many() -> None:
                original = wallet_manager.sync_manager.sign_message

                def recording(message: Any) -> Any:
                    threads.add(threading.get_ident())
                    return original(message)

                wallet_manager.sync_manager.sign_message = recording  # type: ignore[method-assign]
                for index in range(5):
                    await wallet_manager.sign_message(f"message {index}")
                done.set()

            await asyncio.gather(ticker(), sign_many())
            return ticks

    ticks = asyncio.run(flow())
    assert threading.get_ident() not in threads
    assert ticks > 5


def test_sync_manager_refuses_an_async_web3_chain_id(vtpm: Vtpm, anvil: Any) -> None:
    with SecureWalletManager(async_web3(anvil), vtpm) as wallet_manager:
        address = wallet_manager.create_account()
        tx = {"from": address, "to": RECIPIENT, "value": 1, "gas": 21000, "gasPrice": 1, "nonce": 0}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(WalletError, match="AsyncSecureWalletManager"):
                wallet_manager.sign_transaction(tx)
            with pytest.raises(WalletError, match="AsyncSecureWalletManager"):
                wallet_manager.attest(b"\x00" * 32)
            gc.collect()
        assert not [w for w in caught if "never awaited" in str(w.message)]
        # With its chainId the transaction needs no node at all.
        assert wallet_manager.sign_transaction({**tx, "chainId": 31337})

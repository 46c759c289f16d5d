// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0;

import {ERC20} from "../tokens/ERC20.sol";

/// Token moves that also work with ERC-20 tokens that return nothing instead
/// of `true` (USDT, for one), imported by Permit2 as
/// `solmate/src/utils/SafeTransferLib.sol` (compile.cjs maps that path here).
/// A call counts as done when it did not revert and returned either no data
/// or an ABI-encoded `true`; anything else reverts with the operation's name.
/// Written in plain Solidity, without inline assembly.
library SafeTransferLib {
    function safeTransferFrom(ERC20 token, address from, address to, uint256 amount) internal {
        bool done = callToken(token, abi.encodeCall(ERC20.transferFrom, (from, to, amount)));
        require(done, "TRANSFER_FROM_FAILED");
    }

    function safeTransfer(ERC20 token, address to, uint256 amount) internal {
        bool done = callToken(token, abi.encodeCall(ERC20.transfer, (to, amount)));
        require(done, "TRANSFER_FAILED");
    }

    function safeApprove(ERC20 token, address spender, uint256 amount) internal {
        bool done = callToken(token, abi.encodeCall(ERC20.approve, (spender, amount)));
        require(done, "APPROVE_FAILED");
    }

    /// Calls `token` with `data`: true when the call succeeded and returned
    /// nothing or a 32-byte word equal to 1. An address without code is
    /// refused (a call to it would "succeed" with no data).
    function callToken(ERC20 token, bytes memory data) private returns (bool) {
        if (address(token).code.length == 0) return false;
        (bool success, bytes memory returned) = address(token).call(data);
        if (!success) return false;
        if (returned.length == 0) return true;
        return returned.length >= 32 && uint256(bytes32(returned)) == 1;
    }
}

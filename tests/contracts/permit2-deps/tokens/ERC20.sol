// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0;

/// The ERC-20 token type Permit2 imports as `solmate/src/tokens/ERC20.sol`
/// (compile.cjs maps that path here). Permit2 only casts token addresses to
/// this type and moves tokens through SafeTransferLib, so it declares the
/// ERC-20 functions (EIP-20) and implements none of them: no storage, no
/// code of its own.
abstract contract ERC20 {
    event Transfer(address indexed from, address indexed to, uint256 amount);
    event Approval(address indexed owner, address indexed spender, uint256 amount);

    function totalSupply() external view virtual returns (uint256);

    function balanceOf(address owner) external view virtual returns (uint256);

    function allowance(address owner, address spender) external view virtual returns (uint256);

    function transfer(address to, uint256 amount) external virtual returns (bool);

    function transferFrom(address from, address to, uint256 amount) external virtual returns (bool);

    function approve(address spender, uint256 amount) external virtual returns (bool);
}

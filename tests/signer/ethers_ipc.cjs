// ethers v6 against the signer's IPC socket, unchanged: IpcSocketProvider, the node's
// signer (eth_sendTransaction, personal_sign, eth_signTypedData_v4), results checked
// with ethers' own recovery. Usage: node ethers_ipc.cjs ETHERS_DIR SOCKET RECIPIENT
"use strict";
const [ethersDir, socketPath, recipient] = process.argv.slice(2);
const { ethers } = require(ethersDir);

async function main() {
  const provider = new ethers.IpcSocketProvider(socketPath);
  const [account] = await provider.send("eth_accounts", []);
  const signer = await provider.getSigner(account);
  const response = await signer.sendTransaction({ to: recipient, value: 4242n });
  const receipt = await response.wait();
  const message = "hello from ethers";
  const signature = await signer.signMessage(message);
  const domain = { name: "FlareTrade", version: "1", chainId: 31337 };
  const types = { Order: [{ name: "amount", type: "uint256" }, { name: "owner", type: "address" }] };
  const value = { amount: 7n, owner: account };
  const typedSignature = await signer.signTypedData(domain, types, value);
  console.log(JSON.stringify({
    account,
    status: receipt.status,
    from: receipt.from,
    messageSigner: ethers.verifyMessage(message, signature),
    typedSigner: ethers.verifyTypedData(domain, types, value, typedSignature),
  }));
  provider.destroy();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

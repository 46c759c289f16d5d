// Compiles the test contracts with solc-js (tools/node) and prints, as JSON,
// {"<contract>": {"abi": [...], "bytecode": "0x..."}} for PermitToken and
// Permit2. Usage: node compile.cjs <path to tools/node/node_modules>
"use strict";
const fs = require("fs");
const path = require("path");

const solc = require(path.resolve(process.argv[2], "solc"));
const here = __dirname;
// Permit2 imports solmate's ERC20 and SafeTransferLib (AGPL-3.0-only); the tests
// compile it against our own MIT-licensed equivalents in permit2-deps/ instead
// (README.md in this folder).
const remap = [["solmate/src/", path.join(here, "permit2-deps") + "/"]];

function resolve(importPath) {
  for (const [prefix, target] of remap) {
    if (importPath.startsWith(prefix)) return target + importPath.slice(prefix.length);
  }
  return path.join(here, importPath);
}

const input = {
  language: "Solidity",
  sources: {
    "PermitToken.sol": { content: fs.readFileSync(path.join(here, "PermitToken.sol"), "utf8") },
    "permit2/src/Permit2.sol": {
      content: fs.readFileSync(path.join(here, "permit2", "src", "Permit2.sol"), "utf8"),
    },
  },
  settings: {
    // Permit2 needs the IR pipeline (as its own build uses): "stack too deep" otherwise.
    viaIR: true,
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};

function findImports(importPath) {
  try {
    return { contents: fs.readFileSync(resolve(importPath), "utf8") };
  } catch (e) {
    return { error: `${importPath}: ${e.message}` };
  }
}

const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors || []).filter((e) => e.severity === "error");
if (errors.length > 0) {
  for (const e of errors) process.stderr.write(e.formattedMessage + "\n");
  process.exit(1);
}
const wanted = { PermitToken: "PermitToken.sol", Permit2: "permit2/src/Permit2.sol" };
const result = {};
for (const [name, file] of Object.entries(wanted)) {
  const contract = output.contracts[file][name];
  result[name] = { abi: contract.abi, bytecode: "0x" + contract.evm.bytecode.object };
}
process.stdout.write(JSON.stringify(result));

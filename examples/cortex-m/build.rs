//! Puts the memory map of the board each target runs on (`memory.x`) where
//! cortex-m-rt's linker script finds it: the Cortex-M4F target is QEMU's
//! mps2-an386, the Cortex-M3 target its lm3s6965evb.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let target = env::var("TARGET").unwrap_or_default();
    let board = match target.as_str() {
        "thumbv7em-none-eabihf" => Some("mps2-an386"),
        "thumbv7m-none-eabi" => Some("lm3s6965evb"),
        _ => None,
    };
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=memory");
    let Some(board) = board else {
        return;
    };
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    let map =
        fs::read(format!("memory/{board}.x")).unwrap_or_else(|e| panic!("memory/{board}.x: {e}"));
    fs::write(out.join("memory.x"), map).unwrap_or_else(|e| panic!("memory.x: {e}"));
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rustc-cfg=board=\"{board}\"");
    println!("cargo:rustc-check-cfg=cfg(board, values(\"mps2-an386\", \"lm3s6965evb\"))");
}

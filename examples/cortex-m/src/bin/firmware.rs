//! The signing scenario of `wallet_cortex_m` on a Cortex-M, under QEMU.
//!
//! Prints one line per result over semihosting (`label hex`), then what it
//! measured (`measure name value`): the peak stack of a signature, of a
//! message signature and of a decode with sender recovery (the stack is
//! painted before each, and the lowest overwritten word found after), and
//! the instructions each took. The instruction counts come from SysTick,
//! which QEMU clocks from its virtual clock: under `-icount shift=0` that
//! clock advances one nanosecond per instruction, so ticks are instructions
//! scaled by a ratio the firmware calibrates on a loop of known length.
//! Without `-icount` they follow the host's clock and mean nothing.
//!
//! Exits through semihosting with status 0 when every recovered sender is
//! the key's address, 1 otherwise; a panic halts (panic-halt), which the
//! runner sees as a time-out.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::ptr::{addr_of, read_volatile, write_volatile};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::entry;
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hio::{self, HostStream};
use panic_halt as _;
use wallet_cortex_m::{
    decode_and_recover, run, sign_personal_message, sign_transaction, test_key, TxCase,
    MAX_SIGNED_LEN,
};

extern "C" {
    /// The first word after the image's static data (cortex-m-rt's linker
    /// script): the stack can grow down to it.
    static __sheap: u32;
}

/// What an unused stack word holds after painting.
const PAINT: u32 = 0x5AFE_57AC;

/// Bytes left unpainted below the painter's own stack pointer: its frame
/// and the calls it makes must not overwrite what it just painted.
const PAINT_MARGIN: usize = 256;

/// Iterations of the two-instruction calibration loop.
const CALIBRATION_ITERATIONS: u32 = 200_000;

/// SysTick's largest reload value (24 bits).
const SYSTICK_MAX: u32 = 0x00FF_FFFF;

/// Paints the free stack below the caller's frame, from the end of static
/// data up to `PAINT_MARGIN` bytes below this function's stack pointer.
#[inline(never)]
fn paint_stack() {
    let bottom = addr_of!(__sheap) as usize;
    let top = cortex_m::register::msp::read() as usize - PAINT_MARGIN;
    let mut address = bottom;
    while address < top {
        // SAFETY: [bottom, top) lies between the end of static data and
        // below the live stack: no object lives there, and the word is
        // aligned (both ends are word addresses).
        unsafe { write_volatile(address as *mut u32, PAINT) };
        address += 4;
    }
}

/// The lowest address written since [`paint_stack`]: the first word from
/// the end of static data up that no longer holds the paint.
fn lowest_written() -> usize {
    let bottom = addr_of!(__sheap) as usize;
    let top = cortex_m::register::msp::read() as usize;
    let mut address = bottom;
    // SAFETY: the same painted, aligned words below the live stack.
    while address < top && unsafe { read_volatile(address as *const u32) } == PAINT {
        address += 4;
    }
    address
}

/// Runs `operation` on a freshly painted stack and returns how many bytes
/// of stack it used at its deepest (from the stack pointer at the call),
/// and the SysTick ticks it took.
#[inline(never)]
fn measure(operation: &mut dyn FnMut() -> bool) -> (usize, u32, bool) {
    paint_stack();
    let base = cortex_m::register::msp::read() as usize;
    let start = SYST::get_current();
    let ok = black_box(operation());
    let end = SYST::get_current();
    let used = base.saturating_sub(lowest_written());
    (used, start.wrapping_sub(end) & SYSTICK_MAX, ok)
}

/// Counts down `iterations` times: `subs` and `bne`, two instructions each.
#[inline(never)]
fn spin(iterations: u32) {
    // SAFETY: the loop touches one register and no memory.
    unsafe {
        core::arch::asm!(
            "2:",
            "subs {n}, {n}, #1",
            "bne 2b",
            n = inout(reg) iterations => _,
            options(nomem, nostack),
        );
    }
}

/// Writes `line` and a newline; a semihosting write that fails is not
/// worth stopping for (the runner notices the missing line).
fn write_line(out: &mut HostStream, parts: &[&[u8]]) {
    for part in parts {
        let _ = out.write_all(part);
    }
    let _ = out.write_all(b"\n");
}

fn hex_line(out: &mut HostStream, label: &str, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = [0u8; 2 * MAX_SIGNED_LEN];
    let mut len = 0;
    for byte in bytes.iter().take(MAX_SIGNED_LEN) {
        hex[len] = DIGITS[usize::from(byte >> 4)];
        hex[len + 1] = DIGITS[usize::from(byte & 0x0f)];
        len += 2;
    }
    write_line(out, &[label.as_bytes(), b" ", &hex[..len]]);
}

fn decimal(mut value: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    &buf[start..]
}

fn measure_line(out: &mut HostStream, name: &str, value: u64) {
    let mut buf = [0u8; 20];
    write_line(
        out,
        &[b"measure ", name.as_bytes(), b" ", decimal(value, &mut buf)],
    );
}

fn exit(status: debug::ExitStatus) -> ! {
    debug::exit(status);
    loop {
        cortex_m::asm::wfi();
    }
}

#[entry]
fn main() -> ! {
    let Ok(mut out) = hio::hstdout() else {
        exit(EXIT_FAILURE);
    };
    let Some(mut peripherals) = cortex_m::Peripherals::take() else {
        exit(EXIT_FAILURE);
    };
    let syst = &mut peripherals.SYST;
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(SYSTICK_MAX);
    syst.clear_current();
    syst.enable_counter();

    let Ok(key) = test_key() else {
        exit(EXIT_FAILURE);
    };
    let address = key.address().0;
    let mut senders_match = true;
    let result = run(&mut |label, bytes| {
        if label.starts_with("sender-") && bytes != address {
            senders_match = false;
        }
        hex_line(&mut out, label, bytes);
    });
    if result.is_err() {
        write_line(&mut out, &[b"error the scenario failed"]);
        exit(EXIT_FAILURE);
    }

    // Ticks per known instruction count, for the counts below.
    let (_, calibration_ticks, _) = measure(&mut || {
        spin(black_box(CALIBRATION_ITERATIONS));
        true
    });
    let to_instructions = |ticks: u32| -> u64 {
        if calibration_ticks == 0 {
            return 0;
        }
        u64::from(ticks) * 2 * u64::from(CALIBRATION_ITERATIONS) / u64::from(calibration_ticks)
    };

    let mut signed = [0u8; MAX_SIGNED_LEN];
    let mut signed_len = 0;
    let (sign_stack, sign_ticks, sign_ok) =
        measure(
            &mut || match sign_transaction(&key, TxCase::Eip1559, black_box(&mut signed)) {
                Ok(len) => {
                    signed_len = len;
                    true
                }
                Err(_) => false,
            },
        );
    let (message_stack, message_ticks, message_ok) =
        measure(&mut || sign_personal_message(black_box(&key)).is_ok());
    let (decode_stack, decode_ticks, decode_ok) = measure(
        &mut || matches!(decode_and_recover(black_box(&signed[..signed_len])), Ok(sender) if sender == address),
    );

    measure_line(&mut out, "stack-sign-eip1559", sign_stack as u64);
    measure_line(&mut out, "stack-personal-sign", message_stack as u64);
    measure_line(&mut out, "stack-decode-recover", decode_stack as u64);
    measure_line(&mut out, "calibration-ticks", u64::from(calibration_ticks));
    measure_line(
        &mut out,
        "instructions-sign-eip1559",
        to_instructions(sign_ticks),
    );
    measure_line(
        &mut out,
        "instructions-personal-sign",
        to_instructions(message_ticks),
    );
    measure_line(
        &mut out,
        "instructions-decode-recover",
        to_instructions(decode_ticks),
    );

    if senders_match && sign_ok && message_ok && decode_ok {
        write_line(&mut out, &[b"done"]);
        exit(EXIT_SUCCESS);
    }
    write_line(
        &mut out,
        &[b"error a recovered sender is not the key's address"],
    );
    exit(EXIT_FAILURE);
}

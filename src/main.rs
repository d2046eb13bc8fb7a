//! The `simulacra` command line: set up logging, parse and dispatch (`cli`), map an error to
//! exit code 2 (130 for a run a signal stopped), and end quietly when the reader of stdout has
//! gone (`simulacra ... | head`).

use std::process::ExitCode;

use simulacra::run::interrupt;

mod cli;

// mimalloc: per-step message envelopes are small and short-lived; measured 2-4x faster than
// glibc malloc for one-actor-per-agent fan-out (see README, "Performance").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The exit code of a command whose stdout was closed by its reader: 128 + SIGPIPE, what a
/// shell reports for a program the signal ended, without a message.
const BROKEN_PIPE_EXIT: i32 = 141;

/// `simulacra ... | head`: once the reader has gone, printing fails with EPIPE and `println!`
/// panics. The hook turns that one panic into a quiet exit; every other panic keeps the
/// default report. (Restoring the default SIGPIPE action instead would also let a peer that
/// resets an LLM connection kill a run mid-step, since vectored socket writes raise it.)
fn quiet_on_broken_pipe() {
    // EPIPE is 32 on Linux, macOS and the BSDs; the text is the one `println!` panics with.
    let epipe = std::io::Error::from_raw_os_error(32).to_string();
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.ends_with(&epipe) {
            std::process::exit(BROKEN_PIPE_EXIT);
        }
        default(info);
    }));
}

/// Whether an error is stdout's reader having gone (a `write!` to stdout that returned it).
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// A run a signal stopped (see `simulacra::run::interrupt`): not an error to report as one, but
/// where it stopped and how to go on, with the shell's status for Ctrl-C.
fn interrupted(e: &anyhow::Error) -> Option<&interrupt::Interrupted> {
    e.chain()
        .find_map(|c| c.downcast_ref::<interrupt::Interrupted>())
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    // async-openai logs whole response bodies it cannot parse; what a server sends never
    // reaches the terminal whole, whatever RUST_LOG asks (the LLM client answers those bodies
    // itself; this holds if one ever slips through).
    let quiet_client = "async_openai=off"
        .parse()
        .expect("a constant log directive parses");
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"))
                .add_directive(quiet_client),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match cli::try_main() {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::from(BROKEN_PIPE_EXIT as u8),
        Err(e) if interrupted(&e).is_some() => {
            eprintln!("{}", interrupted(&e).expect("checked"));
            ExitCode::from(interrupt::EXIT_INTERRUPTED)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

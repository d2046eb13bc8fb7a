//! The `simulacra` command line: set up logging, parse and dispatch (`cli`), map an error to
//! exit code 2.

use std::process::ExitCode;

mod cli;

// mimalloc: per-step message envelopes are small and short-lived; measured 2-4x faster than
// glibc malloc for one-actor-per-agent fan-out (see README, "Performance").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
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
        .init();
    match cli::try_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

//! The `emberkv` binary: `emberkv [/path/to/redis.conf] [--option value ...]`, like
//! `redis-server`.

use std::process::ExitCode;

use emberkv::config::{CliAction, Config, LogLevel};

#[global_allocator]
static ALLOC: emberkv::memory::CountingAlloc = emberkv::memory::CountingAlloc;

fn main() -> ExitCode {
    let config = match Config::from_args(std::env::args().skip(1)) {
        Ok(CliAction::Run(c)) => c,
        Ok(CliAction::Version) => {
            println!("emberkv v={}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Ok(CliAction::Help) => {
            print!("{}", emberkv::config::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    if let Err(e) = init_logging(&config) {
        eprintln!("cannot open log file '{}': {e}", config.logfile);
        return ExitCode::from(1);
    }
    let runtime = match emberkv::server::runtime(&config, None) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(emberkv::server::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("emberkv: {e}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(config: &Config) -> std::io::Result<()> {
    let level = match config.loglevel {
        LogLevel::Debug => Some(tracing::Level::DEBUG),
        LogLevel::Verbose => Some(tracing::Level::DEBUG),
        LogLevel::Notice => Some(tracing::Level::INFO),
        LogLevel::Warning => Some(tracing::Level::WARN),
        LogLevel::Nothing => None,
    };
    let Some(level) = level else {
        return Ok(());
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    if config.logfile.is_empty() {
        builder.init();
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.logfile)?;
        builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .init();
    }
    Ok(())
}

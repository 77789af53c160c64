//! The `emberkv` binary: `emberkv [/path/to/redis.conf] [--option value ...]`, like
//! `redis-server`.

use std::process::ExitCode;

use emberkv::config::{CliAction, Config, LogLevel};

const HELP: &str = "\
Usage: emberkv [/path/to/redis.conf] [options] [-]
       emberkv - (read config from stdin)
       emberkv -v or --version
       emberkv -h or --help

Every redis.conf directive is also an option: --port 7777, --bind 127.0.0.1 ::1,
--save '', --requirepass secret. Options override the file. See redis.conf.example.

Examples:
       emberkv                       (127.0.0.1:6379, default configuration)
       emberkv /etc/redis/6379.conf
       emberkv --port 0              (a free port; the log states which)
       emberkv /etc/myredis.conf --loglevel verbose";

fn main() -> ExitCode {
    let config = match Config::from_args(std::env::args().skip(1)) {
        Ok(CliAction::Run(c)) => c,
        Ok(CliAction::Version) => {
            println!("emberkv v={}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Ok(CliAction::Help) => {
            println!("{HELP}");
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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
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

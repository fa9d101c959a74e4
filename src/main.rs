use clap::{Parser, Subcommand};
use invarlockd::verify::cli::VerifyArgs;

/// Temporary entry point until the full CLI lands: `invarlockd verify ...`.
#[derive(Parser)]
#[command(name = "invarlockd")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify certificates like `invarlock verify` 0.3.6.
    Verify(VerifyArgs),
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Verify(args) => invarlockd::verify::cli::run(&args, &mut std::io::stdout().lock()),
    };
    std::process::exit(code);
}

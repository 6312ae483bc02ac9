//! `cicd`: one binary that takes a container-shipping repository from pull request to
//! production. The binary is thin; everything lives here so tests can drive it.

pub mod build;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod fs;
pub mod github;
pub mod http;
pub mod init;
pub mod inputs;
pub mod oci;
pub mod pin;
pub mod policy;
pub mod promote;
pub mod release;
pub mod report;
pub mod sbom;
pub mod scan;
pub mod sign;
pub mod text;
pub mod time;

pub use error::{Error, Exit};

/// Runs one parsed command line.
pub fn run(cli: &cli::Cli) -> Result<Exit, Error> {
    http::configure_from_env().map_err(Error::Usage)?;
    let color = commands::color_enabled(cli.color);
    match &cli.command {
        cli::Command::Check(args) => match &args.sub {
            Some(cli::CheckCommand::Trivy(trivy)) => commands::check_trivy::run(cli, trivy, color),
            None => commands::check::run(&commands::check::Request::new(cli, args, color)),
        },
        cli::Command::Pin(args) => commands::pin::run(cli, args),
        cli::Command::Image(args) => commands::image::run(&args.command, cli.offline),
        cli::Command::Keygen(args) => commands::keygen::run(args),
        cli::Command::Sign(args) => commands::sign::run(args, cli.offline),
        cli::Command::Verify(args) => commands::verify::run(args, cli.offline),
        cli::Command::Attest(args) => commands::attest::run(args, cli.offline),
        cli::Command::VerifyAttestation(args) => commands::attest::verify(args, cli.offline),
        cli::Command::Sbom(args) => commands::sbom::run(args, cli.offline),
        cli::Command::Build(args) => commands::build::run(cli, args),
        cli::Command::Plan(args) => commands::build::run_plan(cli, args),
        cli::Command::Release(args) => commands::release::run(cli, args),
        cli::Command::Version(args) => commands::version::run(cli, args),
        cli::Command::Tag(args) => commands::tag::run(cli, args),
        cli::Command::Init(args) => commands::init::run(cli, args),
        cli::Command::Completions(args) => commands::completions::run_completions(args),
        cli::Command::Man(args) => commands::completions::run_man(args),
        cli::Command::Promote(args) => commands::promote::run(cli, args),
    }
}

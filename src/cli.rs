//! The command line: clap types whose doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "regforge",
    version,
    about = "Turn one inventory of container registries into node configs and registry auth files",
    after_help = "Examples:\n  regforge -i fixtures/quickstart/regforge.yaml render --out-dir out\n  regforge document docker-config --registry quay.io\n  regforge hash out/artifacts/docker-config-1a2b3c4d5e6f7a8b.json"
)]
pub struct Cli {
    /// The inventory file
    #[arg(
        short,
        long,
        global = true,
        env = "REGFORGE_INVENTORY",
        default_value = "regforge.yaml",
        value_name = "FILE"
    )]
    pub inventory: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render targets to files under --out-dir (all targets, or the ones named)
    #[command(
        after_help = "Examples:\n  regforge render                      # every target into ./out\n  regforge render flatcar-workers --out-dir build\n  regforge render pull-config --stdout  # one target's file on stdout\n\nEach target becomes <out-dir>/<target>.<bu|ign|yaml|json>; remote artifacts go to\n<out-dir>/artifacts/ and local ones to <out-dir>/files/. Nothing is written unless\nevery target renders and verifies."
    )]
    Render {
        /// Targets to render; all when none are named
        #[arg(value_name = "TARGET")]
        targets: Vec<String>,
        /// Folder to write into
        #[arg(
            long,
            short = 'o',
            default_value = "out",
            value_name = "DIR",
            conflicts_with = "stdout"
        )]
        out_dir: PathBuf,
        /// Print the one selected target's file to stdout and write nothing
        #[arg(long)]
        stdout: bool,
        /// Indent Ignition JSON by two spaces (default: compact, one line)
        #[arg(long)]
        pretty: bool,
    },
    /// Print one document for all registries (or the ones given with --registry)
    #[command(
        after_help = "Examples:\n  regforge document docker-config > ~/.docker/config.json\n  regforge document dockercfg --registry registry.example.com -o .dockercfg\n\nDocuments: docker-config, dockercfg"
    )]
    Document {
        /// Document kind
        #[arg(value_name = "KIND")]
        kind: String,
        /// Registry address to include; repeat for several
        #[arg(long = "registry", value_name = "ADDRESS")]
        registries: Vec<String>,
        /// Write to FILE (atomically, mode 0600) instead of stdout
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the sha512-<hex> hash of a file (or stdin) as Butane and Ignition want it
    #[command(
        after_help = "Examples:\n  regforge hash out/artifacts/docker-config-1a2b3c4d5e6f7a8b.json\n  regforge document docker-config | regforge hash -"
    )]
    Hash {
        /// The file; `-` or nothing for stdin
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

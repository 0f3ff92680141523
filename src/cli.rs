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
        after_help = "Examples:\n  regforge render                      # every target into ./out\n  regforge render flatcar-workers --out-dir build\n  regforge render pull-config --stdout  # one target's file on stdout\n  regforge render --check --out-dir rendered/  # CI: exit 1 and a diff if rendered/ is stale\n\nEach target becomes <out-dir>/<target>.<bu|ign|yaml|json>; remote artifacts go to\n<out-dir>/artifacts/ and local ones to <out-dir>/files/. Nothing is written unless\nevery target renders and verifies.\n\n--check writes nothing: it exits 0 when --out-dir holds exactly what would be written,\nand 1 with a unified diff (secrets shown as <redacted>) when it does not. With TARGETs,\nonly their files are compared; without, files no target produces are reported too.\nSee docs/golden-tests.md."
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
        /// Compare with --out-dir instead of writing: exit 1 and print a redacted diff on drift
        #[arg(long, conflicts_with = "stdout")]
        check: bool,
        /// Indent Ignition JSON by two spaces (default: compact, one line)
        #[arg(long)]
        pretty: bool,
    },
    /// Print one document for all registries (or the ones given with --registry)
    #[command(
        after_help = "Examples:\n  regforge document docker-config > ~/.docker/config.json\n  regforge document dockercfg --registry registry.example.com -o .dockercfg\n  regforge document containers-auth --registry quay.io/myorg\n  regforge document kubernetes-secret --set name=regcred --set namespace=apps | kubectl apply -f -\n  regforge document rkt-auth --set kind=auth -o /etc/rkt/auth.d\n  regforge document mesos-archive -o /etc/docker.tar.gz\n  regforge document marathon-app --set image=quay.io/myorg/app:1 --set id=/app\n\nDocuments: docker-config, dockercfg, containers-auth, kubernetes-secret, rkt-auth,\nmesos-archive, marathon-app, marathon-pod, drone-registry. --set takes the keys of the\ndocument's options block in the inventory (secret:, rkt:, marathon:; see docs/inventory.md)."
    )]
    Document {
        /// Document kind
        #[arg(value_name = "KIND")]
        kind: String,
        /// Registry address to include; repeat for several
        #[arg(long = "registry", value_name = "ADDRESS")]
        registries: Vec<String>,
        /// A document option, e.g. name=regcred for kubernetes-secret; repeat for several
        #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_option)]
        options: Vec<(String, String)>,
        /// Write to FILE (atomically, mode 0600) instead of stdout; a folder for rkt-auth
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
    /// Answer Terraform's `external` data source: a JSON query on stdin, a JSON result on stdout
    #[command(
        after_help = "Examples:\n  data \"external\" \"regforge\" {\n    program = [\"regforge\", \"terraform\"]\n    query   = { inventory = \"${path.module}/regforge.yaml\", target = \"flatcar-workers\" }\n  }\n  printf '{\"target\":\"flatcar-workers\"}' | regforge -i regforge.yaml terraform\n\nQuery keys: inventory, target, variables (a JSON object as a string). Result keys:\nrendered (or rendered_base64), sha512, artifact.<name>.{content_base64,sha512,url},\nfile.<name>.{content_base64,sha512}, artifacts, files. Writes nothing. See docs/terraform.md."
    )]
    Terraform,
}

fn parse_option(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))
}

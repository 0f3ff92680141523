//! The command line: clap types whose doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// `regforge document --help`'s footer: examples, then the kinds and option blocks the
/// document list holds.
fn document_help() -> String {
    let blocks: Vec<String> = crate::documents::option_keys()
        .iter()
        .map(|key| format!("{key}:"))
        .collect();
    format!(
        "Examples:\n  regforge document docker-config > ~/.docker/config.json\n  regforge document dockercfg --registry registry.example.com -o .dockercfg\n  regforge document containers-auth --registry quay.io/myorg\n  regforge document kubernetes-secret --set name=regcred --set namespace=apps | kubectl apply -f -\n  regforge document rkt-auth --set kind=auth -o /etc/rkt/auth.d\n  regforge document mesos-archive -o /etc/docker.tar.gz\n  regforge document marathon-app --set image=quay.io/myorg/app:1 --set id=/app\n\nDocuments: {}.\n--set takes the keys of the document's options block in the inventory\n({}; see docs/inventory.md).",
        crate::documents::accepted(),
        blocks.join(", ")
    )
}

#[derive(Debug, Parser)]
#[command(
    name = "regforge",
    version,
    about = "Turn one inventory of container registries into node configs and registry auth files",
    after_help = "Examples:\n  regforge -i fixtures/quickstart/regforge.yaml render --out-dir out\n  regforge document docker-config --registry quay.io\n  regforge hash out/artifacts/docker-config-1a2b3c4d5e6f7a8b.json\n\nExit status:\n  0  done (render --check: up to date)\n  1  any failure: invalid input or inventory, I/O, a registry's refusal, a conflict,\n     drift found by --check, a target or registry the inventory lacks\n  2  command-line misuse: an unknown flag, a missing argument"
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
        /// No progress bar and no summary line; warnings and errors still print
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Print one document for all registries (or the ones given with --registry)
    #[command(
        after_help = document_help()
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
    /// Validate the inventory and render every target in memory, reporting every problem and warning; writes nothing
    #[command(
        after_help = "Examples:\n  regforge check                      # exit 1 on any error\n  regforge check --strict             # warnings fail too (CI)\n  regforge check --format json | jq '.findings[]'\n\nEvery target is rendered and verified in memory, secrets resolved, nothing written.\nFindings go to stdout (text or JSON), one per problem or warning, each with file,\nline, column and field; a summary goes to stderr."
    )]
    Check {
        /// Warnings fail the check too
        #[arg(long)]
        strict: bool,
        /// Also fetch every hosted (remote) artifact and compare its sha512
        #[arg(long)]
        fetch: bool,
        /// How findings are printed
        #[arg(long, value_enum, default_value = "text")]
        format: CheckFormat,
    },
    /// Print the inventory's JSON Schema, for editors and CI validators
    #[command(
        after_help = "Examples:\n  regforge schema > regforge.schema.json\n\nThen start the inventory with this line, and editors with a YAML language server\n(VS Code's YAML extension, Neovim's yamlls) complete and check its keys:\n  # yaml-language-server: $schema=regforge.schema.json\n\nThe schema is JSON Schema draft 7, generated from the types regforge parses the\ninventory with; `regforge check` still catches what a schema cannot (a registry\nnamed twice, a document that cannot carry a registry's login)."
    )]
    Schema,
    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  regforge completions bash > /etc/bash_completion.d/regforge\n  regforge completions zsh > \"${fpath[1]}/_regforge\"\n  regforge completions fish > ~/.config/fish/completions/regforge.fish"
    )]
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), every command in one page
    #[command(
        after_help = "Examples:\n  regforge man | man -l -\n  regforge man > /usr/local/share/man/man1/regforge.1"
    )]
    Man,
    /// Add, list, show, change and delete registries from the command line
    #[command(
        subcommand,
        after_help = "Examples:\n  printf %s \"$TOKEN\" | regforge registry add quay.io myapp+deploy --password-stdin\n  regforge registry list\n  regforge registry get quay.io\n  regforge registry update quay.io --password-env QUAY_TOKEN\n  regforge registry delete quay.io\n\nRegistries added here are kept in the managed file the inventory names with\n`managed_registries:` (regforge.registries.yaml by default); hand-written ones are\nlisted too but edited in the inventory. See docs/registry-cli.md."
    )]
    Registry(RegistryCommand),
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Add a registry, after checking the credential against it as `docker login` does
    #[command(
        after_help = "Examples:\n  printf %s \"$TOKEN\" | regforge registry add quay.io myapp+deploy --password-stdin\n  regforge registry add registry.example.com:5000 johndoe --password-env EXAMPLE_PW --ca-cert ca.pem\n  regforge registry add ghcr.io octocat --password-file secrets/ghcr.token --skip-validation\n\n--password-stdin stores the password in a new file (mode 0600) under the secrets\nfolder beside the inventory; --password-env and --password-file store the reference\nitself. Passwords are never accepted as arguments: they would stay in shell history\nand show in `ps`."
    )]
    Add {
        /// The registry: host[:port], optionally with /namespace
        #[arg(value_name = "REGISTRY")]
        registry: String,
        /// The user name to log in with
        #[arg(value_name = "USERNAME")]
        username: String,
        /// Refused: a password on the command line leaks into shell history and `ps`
        #[arg(value_name = "PASSWORD", hide = true)]
        password_argument: Option<String>,
        #[command(flatten)]
        password: PasswordArgs,
        /// E-mail address (legacy .dockercfg documents carry it)
        #[arg(long, value_name = "E")]
        email: Option<String>,
        /// Do not verify the registry's TLS certificate (stored as `insecure: true`)
        #[arg(long)]
        insecure: bool,
        #[command(flatten)]
        check: CheckArgs,
    },
    /// List every registry of the inventory, hand-written and managed, sorted by address
    #[command(
        after_help = "Examples:\n  regforge registry list\n  regforge registry list --json | jq -r '.[].registry'\n\nColumns: Registry, Type (docker_v2, or awsecr for ECR), User (helper:NAME for a\nregistry that uses a credential helper), Verify TLS."
    )]
    List {
        /// Print a JSON array instead of the table
        #[arg(long)]
        json: bool,
    },
    /// Show one registry (never its password)
    #[command(
        after_help = "Examples:\n  regforge registry get quay.io\n  regforge registry get registry.example.com:5000 --json\n\nCreated and Updated are RFC 3339 UTC times kept in the managed file; `-` for a\nregistry written by hand in the inventory."
    )]
    Get {
        /// The registry: host[:port], optionally with /namespace
        #[arg(value_name = "REGISTRY")]
        registry: String,
        /// Print a JSON object instead of `Key: value` lines
        #[arg(long)]
        json: bool,
    },
    /// Change what is given of a managed registry, after checking the credential again
    #[command(
        after_help = "Examples:\n  regforge registry update quay.io --password-env QUAY_TOKEN\n  printf %s \"$NEW\" | regforge registry update quay.io --username robot2 --password-stdin\n  regforge registry update registry.example.com:5000 --insecure --skip-validation\n\nOnly registries added with `regforge registry add` can be updated; edit hand-written\nones in the inventory."
    )]
    Update {
        /// The registry: host[:port], optionally with /namespace
        #[arg(value_name = "REGISTRY")]
        registry: String,
        /// A new user name
        #[arg(long, value_name = "U")]
        username: Option<String>,
        #[command(flatten)]
        password: PasswordArgs,
        /// A new e-mail address
        #[arg(long, value_name = "E")]
        email: Option<String>,
        /// Stop verifying the registry's TLS certificate
        #[arg(long, conflicts_with = "verify_tls")]
        insecure: bool,
        /// Verify the registry's TLS certificate again
        #[arg(long)]
        verify_tls: bool,
        #[command(flatten)]
        check: CheckArgs,
    },
    /// Delete a managed registry, and the password file regforge wrote for it
    #[command(
        visible_alias = "del",
        after_help = "Examples:\n  regforge registry delete quay.io\n  regforge registry del registry.example.com:5000 --force\n\nRefused while a target lists the registry in its `registries`, unless --force."
    )]
    Delete {
        /// The registry: host[:port], optionally with /namespace
        #[arg(value_name = "REGISTRY")]
        registry: String,
        /// Delete even though a target still names the registry
        #[arg(long)]
        force: bool,
    },
}

/// How `regforge check` prints its findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

/// Where the password comes from; at most one.
#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// Read the password from standard input and store it in a new file under the secrets folder
    #[arg(long, conflicts_with_all = ["password_env", "password_file"])]
    pub password_stdin: bool,
    /// Store a reference to this environment variable ({env: VAR})
    #[arg(long, value_name = "VAR", conflicts_with = "password_file")]
    pub password_env: Option<String>,
    /// Store a reference to this file ({file: PATH}); relative paths are kept relative to the inventory
    #[arg(long, value_name = "PATH")]
    pub password_file: Option<PathBuf>,
    /// Folder for --password-stdin files, relative to the inventory's folder
    #[arg(long, value_name = "DIR", default_value = "secrets")]
    pub secrets_dir: PathBuf,
    /// With --password-stdin: store the password encrypted to this age recipient (age1…), not in plaintext
    #[arg(long, value_name = "RECIPIENT", requires_all = ["password_stdin", "age_identity"])]
    pub encrypt_to: Option<String>,
    /// With --encrypt-to: the age identity file that decrypts it when rendering
    #[arg(long, value_name = "FILE", requires = "encrypt_to")]
    pub age_identity: Option<PathBuf>,
    /// Refused: a password on the command line leaks into shell history and `ps`
    #[arg(long, short = 'p', value_name = "PASSWORD", hide = true)]
    pub password: Option<String>,
}

/// Checking the credential against the registry.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Do not contact the registry to check the credential
    #[arg(long, alias = "skip-validate")]
    pub skip_validation: bool,
    /// A PEM file of CA certificates to trust besides the system's, for the check
    #[arg(long, value_name = "PEM", conflicts_with = "skip_validation")]
    pub ca_cert: Option<PathBuf>,
}

fn parse_option(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))
}

/// The manual page: the top-level page, then each subcommand's as a section of it.
pub fn man_page() -> Vec<u8> {
    use clap::CommandFactory;
    let command = Cli::command();
    let mut out = Vec::new();
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(&mut out).expect("writing to memory");
    man.render_name_section(&mut out)
        .expect("writing to memory");
    man.render_synopsis_section(&mut out)
        .expect("writing to memory");
    man.render_description_section(&mut out)
        .expect("writing to memory");
    man.render_options_section(&mut out)
        .expect("writing to memory");
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("regforge {}", sub.get_name());
        let page = clap_mangen::Man::new(sub.clone().bin_name(name.clone()));
        out.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
        page.render_synopsis_section(&mut out)
            .expect("writing to memory");
        page.render_options_section(&mut out)
            .expect("writing to memory");
        page.render_extra_section(&mut out)
            .expect("writing to memory");
    }
    man.render_extra_section(&mut out)
        .expect("writing to memory");
    out
}

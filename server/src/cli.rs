//! The command line: subcommands and their flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::Format;

#[derive(Parser, Debug)]
#[command(
    name = "scry",
    version,
    about = "An eBPF X-ray for Linux services, queried with PxL"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a PxL script (a file, a folder, or a bundled name like px/http_data).
    Run(RunArgs),
    /// Parse and plan a script without reading data; prints the plans.
    Compile(CompileArgs),
    /// Bundled scripts.
    Scripts {
        #[command(subcommand)]
        command: ScriptsCommand,
    },
    /// Print the reference of the px module.
    Docs,
    /// Keep running: probes (or saved tables), the table store, an Arrow
    /// Flight server and schedules.
    Agent(AgentArgs),
    /// Interactive PxL: locally, over saved tables, or against an agent.
    Repl(ReplArgs),
    /// Run PxL checks: a check passes when all its outputs are empty.
    Check(CheckArgs),
    /// List an agent's schedules with their last and next runs.
    Schedules(SchedulesArgs),
}

#[derive(Subcommand, Debug)]
pub enum ScriptsCommand {
    /// List bundled scripts with their one-line summary.
    List,
    /// Print a bundled script's source.
    Show { name: String },
}

/// Where the tables come from.
#[derive(Args, Debug, Clone, Default)]
pub struct SourceArgs {
    /// Load tables from DIR/<table>.parquet.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Attach the eBPF probes, capture for this long (e.g. 10s), then run.
    #[arg(long, value_name = "DURATION")]
    pub capture: Option<String>,
    /// Memory for trace tables, e.g. 512MiB, 1GiB.
    #[arg(long, value_name = "SIZE", default_value = "1GiB")]
    pub memory_limit: String,
    #[command(flatten)]
    pub probes: ProbeArgs,
}

/// Bounds of the eBPF capture (each has a counter in scry_probe_stats for
/// what it cut or dropped).
#[derive(Args, Debug, Clone)]
pub struct ProbeArgs {
    /// Payload bytes copied per syscall (at most 16KiB); longer payloads are
    /// cut and counted.
    #[arg(long, value_name = "SIZE", default_value = "4KiB")]
    pub payload_bytes: String,
    /// Kernel → userspace ring buffer; events that do not fit are dropped
    /// and counted.
    #[arg(long, value_name = "SIZE", default_value = "8MiB")]
    pub ring_buffer: String,
    /// Connections tracked at once; the least recently active is evicted.
    #[arg(long, value_name = "N", default_value_t = 16384)]
    pub max_connections: usize,
}

impl Default for ProbeArgs {
    fn default() -> Self {
        ProbeArgs {
            payload_bytes: "4KiB".into(),
            ring_buffer: "8MiB".into(),
            max_connections: 16384,
        }
    }
}

impl ProbeArgs {
    /// The tracer configuration these flags describe.
    pub fn tracer_config(&self) -> anyhow::Result<scry_probes::TracerConfig> {
        let mut config = scry_probes::TracerConfig::default();
        let payload = parse_size(&self.payload_bytes)?;
        if payload == 0 || payload > 16 * 1024 {
            anyhow::bail!(
                "--payload-bytes {}: choose between 1B and 16KiB",
                self.payload_bytes
            );
        }
        config.data_cap = payload as u32;
        let ring = parse_size(&self.ring_buffer)?;
        if !(4096..=1 << 30).contains(&ring) {
            anyhow::bail!(
                "--ring-buffer {}: choose between 4KiB and 1GiB",
                self.ring_buffer
            );
        }
        config.ring_bytes = ring as u32;
        if self.max_connections == 0 {
            anyhow::bail!("--max-connections must be at least 1");
        }
        config.tracker.max_connections = self.max_connections;
        Ok(config)
    }
}

/// Running against an agent instead of local tables.
#[derive(Args, Debug, Clone, Default)]
pub struct RemoteArgs {
    /// Run on the agent at ADDR (host:port, grpc://… or grpc+tls://…) over Arrow Flight.
    #[arg(long, value_name = "ADDR")]
    pub server: Option<String>,
    /// Bearer token the agent requires (also read from SCRY_TOKEN).
    #[arg(long, env = "SCRY_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// CA certificate (PEM) to trust when the agent uses TLS.
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Script file, folder, or bundled name (px/<name>).
    pub script: String,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Output format (default: table on a terminal, json otherwise).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Script arguments after `--`, as --name=value.
    #[arg(last = true, value_name = "SCRIPT_ARGS")]
    pub script_args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct CompileArgs {
    pub script: String,
    /// Show the plans after Polars' optimizer.
    #[arg(long)]
    pub optimized: bool,
    #[arg(last = true, value_name = "SCRIPT_ARGS")]
    pub script_args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct AgentArgs {
    /// Address of the Flight server. Non-loopback addresses need --token or TLS.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7070")]
    pub listen: String,
    /// Serve tables loaded from DIR/<table>.parquet instead of capturing.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Do not attach the eBPF probes (serve --data and schedules only).
    #[arg(long)]
    pub no_probes: bool,
    /// Memory for trace tables, e.g. 512MiB, 1GiB.
    #[arg(long, value_name = "SIZE", default_value = "1GiB")]
    pub memory_limit: String,
    /// Require `authorization: Bearer TOKEN` on every call (also read from SCRY_TOKEN).
    #[arg(long, env = "SCRY_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// TLS certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM); needs --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A TOML file of [[schedule]] entries to run on an interval.
    #[arg(long, value_name = "FILE")]
    pub schedule: Option<PathBuf>,
    #[command(flatten)]
    pub probes: ProbeArgs,
}

#[derive(Args, Debug)]
pub struct ReplArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// History file (default: ~/.scry_history).
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Check scripts: .pxl files, folders of them, or bundled names.
    #[arg(required = true, value_name = "PATHS")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Write a JUnit XML report here (one testcase per check).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// How failing rows are printed (default: table on a terminal, json otherwise).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Failing rows shown per output.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_rows: usize,
    /// Script arguments after `--`, as --name=value, given to every check.
    #[arg(last = true, value_name = "SCRIPT_ARGS")]
    pub script_args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SchedulesArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// `--name=value` / `--name value` pairs from the words after `--`.
pub fn parse_script_args(words: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        let Some(flag) = w.strip_prefix("--") else {
            anyhow::bail!("script arguments are written --name=value, got '{w}'");
        };
        match flag.split_once('=') {
            Some((k, v)) => out.push((k.to_string(), v.to_string())),
            None => {
                let v = words
                    .get(i + 1)
                    .ok_or_else(|| anyhow::anyhow!("script argument --{flag} has no value"))?;
                out.push((flag.to_string(), v.clone()));
                i += 1;
            }
        }
        i += 1;
    }
    Ok(out)
}

/// Sizes like `512MiB`, `1GiB`, `100MB`, `4096`.
pub fn parse_size(text: &str) -> anyhow::Result<usize> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("'{text}' is not a size (write e.g. 512MiB or 1GiB)"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => anyhow::bail!("'{text}' has an unknown unit (use B, KiB, MiB, GiB, KB, MB, GB)"),
    };
    Ok((n * scale) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_args_both_forms() {
        let words: Vec<String> = ["--start_time=-5m", "--svc", "a b"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            parse_script_args(&words).unwrap(),
            vec![
                ("start_time".into(), "-5m".into()),
                ("svc".into(), "a b".into())
            ]
        );
        assert!(parse_script_args(&["x".to_string()]).is_err());
    }

    #[test]
    fn probe_bounds_are_checked() {
        let config = ProbeArgs::default().tracer_config().unwrap();
        assert_eq!(config.data_cap, 4096);
        assert_eq!(config.ring_bytes, 8 << 20);
        let too_big = ProbeArgs {
            payload_bytes: "32KiB".into(),
            ..ProbeArgs::default()
        };
        assert!(too_big
            .tracer_config()
            .unwrap_err()
            .to_string()
            .contains("--payload-bytes"));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("100MB").unwrap(), 100_000_000);
        assert!(parse_size("lots").is_err());
    }
}

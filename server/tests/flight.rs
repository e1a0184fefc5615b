//! Arrow Flight round trips on 127.0.0.1:0: a Rust client (the one `run
//! --server` uses) and a Python `pyarrow.flight` client list tables, read a
//! raw table and run scripts with args; results equal a local run. Wrong
//! tokens are `Unauthenticated`, bad scripts `InvalidArgument` with line:col.

mod common;

use std::process::Command;
use std::sync::Arc;

use scry::agent::BackgroundAgent;
use scry::backend::{Backend, LocalBackend, ScriptError};
use scry::cli::RemoteArgs;
use scry::flight::client::RemoteBackend;
use scry::flight::server::ServeOptions;
use scry_lang::bundle::ScriptBundle;
use scry_lang::{Catalog, TableSource, TimeRange};
use scry_runtime::store::TableStore;

const TOKEN: &str = "s3cret-token";

fn agent() -> (BackgroundAgent, Arc<TableStore>) {
    let store = Arc::new(common::sample_store());
    let agent = BackgroundAgent::start(
        store.clone(),
        "127.0.0.1:0".parse().unwrap(),
        ServeOptions {
            token: Some(TOKEN.to_string()),
            ..ServeOptions::default()
        },
        None,
    )
    .expect("agent starts");
    (agent, store)
}

fn remote(agent: &BackgroundAgent, token: &str) -> RemoteBackend {
    RemoteBackend::connect(
        &agent.addr.to_string(),
        &RemoteArgs {
            token: Some(token.to_string()),
            ..RemoteArgs::default()
        },
    )
    .expect("client connects")
}

fn script(text: &str) -> ScriptBundle {
    ScriptBundle::from_texts("q.pxl", text, None, None).unwrap()
}

#[test]
fn rust_client_round_trip_equals_a_local_run() {
    let (agent, store) = agent();
    let remote = remote(&agent, TOKEN);
    let local = LocalBackend::new(store.clone());

    // Tables and their schemas, as the catalog has them.
    let tables = remote.tables().unwrap();
    let http = tables.iter().find(|t| t.name == "http_events").unwrap();
    assert_eq!(http, &store.table("http_events").unwrap());
    assert_eq!(tables.len(), local.tables().unwrap().len());

    // A raw table.
    let raw = remote
        .fetch(r#"{"table": "http_events"}"#.to_string())
        .unwrap();
    let expected = store
        .scan("http_events", TimeRange::default())
        .unwrap()
        .collect()
        .unwrap();
    assert!(raw.equals(&expected), "{raw}\n{expected}");

    // A bundled script with args (function mode), and a plain script.
    let bundle = scry::scripts::resolve("px/http_data").unwrap();
    let args = vec![
        ("start_time".to_string(), "-10m".to_string()),
        ("max_num_records".to_string(), "3".to_string()),
    ];
    let got = remote.run(&bundle, &args).unwrap();
    let want = local.run(&bundle, &args).unwrap();
    assert_eq!(got.len(), want.len());
    for ((gn, g), (wn, w)) in got.iter().zip(&want) {
        assert_eq!(gn, wn);
        assert_eq!(g.height(), 3);
        assert!(g.equals(w), "{g}\n{w}");
    }
    let two = script(
        "import px\ndf = px.DataFrame('http_events')\npx.display(df[df.resp_status >= 400], 'errors')\npx.display(df.groupby('req_method').agg(n=('latency', px.count)), 'by_method')\n",
    );
    let got = remote.run(&two, &[]).unwrap();
    let want = local.run(&two, &[]).unwrap();
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["errors", "by_method"]);
    assert_eq!(got[0].1.height(), 2);
    // Group order is not defined: compare sorted.
    for ((_, g), (_, w)) in got.iter().zip(&want) {
        let first = g.get_column_names()[0].to_string();
        let sort = |df: &polars::prelude::DataFrame| {
            df.sort([first.as_str()], Default::default()).unwrap()
        };
        assert!(sort(g).equals(&sort(w)), "{g}\n{w}");
    }

    // Plans come from the agent's compiler.
    let plans = remote.explain(&two, &[], false).unwrap();
    assert!(plans.contains("== output errors"), "{plans}");
}

#[test]
fn wrong_token_and_bad_script_are_clear_errors() {
    let (agent, _store) = agent();
    let wrong = remote(&agent, "nope");
    let e = wrong.tables().unwrap_err().to_string();
    assert!(e.contains("refused") && e.contains("token"), "{e}");

    let ok = remote(&agent, TOKEN);
    let broken =
        script("import px\ndf = px.DataFrame('http_events')\ndf.x = df.req_pth\npx.display(df)\n");
    let e = ok.run(&broken, &[]).unwrap_err();
    let diag = e.downcast_ref::<ScriptError>().expect("a script error");
    assert!(diag.text.contains("q.pxl:3:"), "{}", diag.text);
    assert!(
        diag.text.contains("req_path"),
        "near-name hint: {}",
        diag.text
    );
    assert!(diag.text.contains('^'), "caret: {}", diag.text);
}

#[test]
fn run_with_server_prints_what_a_local_run_prints() {
    let (agent, store) = agent();
    let dir = tempfile::tempdir().unwrap();
    scry_runtime::data_dir::save_dir(&store, dir.path()).unwrap();
    let scry = env!("CARGO_BIN_EXE_scry");
    for format in ["json", "csv", "table"] {
        let args = ["run", "px/redis_data", "--format", format];
        let local = Command::new(scry)
            .args(args)
            .args(["--data", dir.path().to_str().unwrap()])
            .output()
            .unwrap();
        let remote = Command::new(scry)
            .args(args)
            .args(["--server", &agent.addr.to_string()])
            .env("SCRY_TOKEN", TOKEN)
            .output()
            .unwrap();
        assert!(
            local.status.success(),
            "{}",
            String::from_utf8_lossy(&local.stderr)
        );
        assert!(
            remote.status.success(),
            "{}",
            String::from_utf8_lossy(&remote.stderr)
        );
        assert!(!local.stdout.is_empty());
        assert_eq!(
            String::from_utf8_lossy(&remote.stdout),
            String::from_utf8_lossy(&local.stdout),
            "--format {format}"
        );
    }
    let refused = Command::new(scry)
        .args([
            "run",
            "px/redis_data",
            "--server",
            &agent.addr.to_string(),
            "--token",
            "bad",
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--token"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

#[test]
fn python_pyarrow_client_round_trip() {
    let has_pyarrow = Command::new("python3")
        .args(["-c", "import pyarrow.flight"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_pyarrow {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "pyarrow must be installed in CI (scripts/dev/setup.sh)"
        );
        eprintln!("skipping: python3 with pyarrow not found (pip install pyarrow)");
        return;
    }
    let (agent, store) = agent();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/flight_client.py");
    let out = Command::new("python3")
        .args([script, &agent.addr.to_string(), TOKEN])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python client failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let local = LocalBackend::new(store.clone());

    assert_eq!(seen["tables"]["http_events"], 4);
    let columns: Vec<String> = store
        .table("http_events")
        .unwrap()
        .columns
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(seen["http_schema"], serde_json::json!(columns));
    assert_eq!(seen["raw_rows"], 4);
    assert_eq!(seen["raw_time_type"], "timestamp[ns]");
    assert_eq!(
        seen["errors"],
        serde_json::json!([["/checkout", 500], ["/missing", 404]])
    );
    let bundle = scry::scripts::resolve("px/http_data").unwrap();
    let want = local
        .run(
            &bundle,
            &[
                ("start_time".into(), "-10m".into()),
                ("max_num_records".into(), "2".into()),
            ],
        )
        .unwrap();
    assert_eq!(seen["http_data_rows"], want[0].1.height());
    let want_cols: Vec<String> = want[0]
        .1
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(seen["http_data_columns"], serde_json::json!(want_cols));
    assert_eq!(seen["run_outputs"], serde_json::json!(["errors"]));
    assert_eq!(seen["wrong_token"], "unauthenticated");
    let bad = seen["bad_script"].as_str().unwrap();
    assert!(bad.contains(":3:"), "line:col in {bad}");
}

/// Starts the real `scry agent` binary and waits for its "serving" line.
struct AgentProcess {
    child: std::process::Child,
    addr: String,
}

impl AgentProcess {
    fn spawn(args: &[&str]) -> AgentProcess {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new(env!("CARGO_BIN_EXE_scry"))
            .arg("agent")
            .args(args)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines.next().expect("agent exited before serving").unwrap();
            if let Some(rest) = line.split("://").nth(1) {
                if line.contains("serving Arrow Flight") {
                    break rest.split_whitespace().next().unwrap().to_string();
                }
            }
        };
        // Keep draining stderr so the agent never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        AgentProcess { child, addr }
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn agent_binary_serves_saved_tables_refuses_open_listen_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    common::write_capture(dir.path());
    let data = dir.path().to_str().unwrap();
    let scry = env!("CARGO_BIN_EXE_scry");

    let open = Command::new(scry)
        .args(["agent", "--data", data, "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(open.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&open.stderr);
    assert!(
        stderr.contains("--token") && stderr.contains("127.0.0.1"),
        "{stderr}"
    );

    let mut agent = AgentProcess::spawn(&["--data", data, "--listen", "127.0.0.1:0"]);
    let out = Command::new(scry)
        .args([
            "run",
            "px/dns_data",
            "--format",
            "json",
            "--server",
            &agent.addr,
        ])
        .args(["--", "--start_time=-10m"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stdout.contains("scry.test"), "{stdout}");

    // SIGTERM: a graceful stop, exit status 0.
    let pid = agent.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = agent.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn tls_agent_with_token() {
    if Command::new("openssl").arg("version").output().is_err() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "openssl is needed in CI"
        );
        eprintln!("skipping: openssl not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let data = dir.path().join("data");
    common::write_capture(&data);

    // TLS and a token make a non-loopback listen acceptable.
    let agent = AgentProcess::spawn(&[
        "--data",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
        "--token",
        TOKEN,
    ]);
    let url = format!("grpc+tls://{}", agent.addr);
    let run = |token: &str| {
        Command::new(env!("CARGO_BIN_EXE_scry"))
            .args(["run", "px/redis_data", "--format", "csv", "--server", &url])
            .args(["--tls-ca", cert.to_str().unwrap(), "--token", token])
            .output()
            .unwrap()
    };
    let ok = run(TOKEN);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("INCR"));
    let refused = run("wrong");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("refused"));
}

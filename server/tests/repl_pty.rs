//! `scry repl` in a real terminal: the binary runs under tmux (a
//! pseudo-terminal), keys are typed into it and the screen is read back.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use polars::prelude::*;
use scry_runtime::store::{StoreConfig, TableStore};

/// A tmux server of its own (a private socket), killed on drop.
struct Tmux {
    socket: String,
}

const SESSION: &str = "repl";

impl Tmux {
    fn start(command: &str) -> Tmux {
        let tmux = Tmux {
            socket: format!("scry-repl-test-{}", std::process::id()),
        };
        let out = tmux.run(&[
            "new-session",
            "-d",
            "-s",
            SESSION,
            "-x",
            "200",
            "-y",
            "50",
            command,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .env("TERM", "xterm-256color")
            .output()
            .expect("tmux runs")
    }

    /// Type `text` literally.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", SESSION, "-l", text]);
    }

    /// Press a key by its tmux name (`Enter`, `Tab`).
    fn press(&self, key: &str) {
        self.run(&["send-keys", "-t", SESSION, key]);
    }

    /// Type a line, press Enter and wait for the next prompt. Waiting
    /// matters: rustyline drops the rest of a read that held two lines.
    fn type_line(&self, text: &str) {
        let prompts = prompt_count(&self.screen());
        self.type_text(text);
        self.press("Enter");
        self.wait_for(&format!("the prompt after {text:?}"), |s| {
            prompt_count(s) > prompts
        });
    }

    /// The pane with its scrollback, lines joined where they wrapped.
    fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-J", "-t", SESSION, "-S", "-1000"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Poll the screen until `done` holds; panics with the screen after 60s.
    fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// Prompts on the screen, the last one included even while it is empty
/// (tmux trims trailing spaces).
fn prompt_count(screen: &str) -> usize {
    screen
        .lines()
        .filter(|l| l.trim_end() == ">>>" || l.starts_with(">>> "))
        .count()
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// `dir/http_events.parquet` with four requests, two of them failing.
fn write_http_rows(dir: &Path) {
    let store = TableStore::new(StoreConfig::default());
    let schema = store
        .schema("http_events")
        .expect("http_events is a catalog table");
    let n = 4;
    let t0 = now_ns() - 60_000_000_000;
    let given: Vec<Column> = vec![
        Int64Chunked::from_vec("time_".into(), (0..n as i64).map(|i| t0 + i).collect())
            .into_datetime(TimeUnit::Nanoseconds, None)
            .into_column(),
        Column::new("req_method".into(), ["GET", "POST", "GET", "GET"]),
        Column::new("req_path".into(), ["/a", "/checkout", "/b", "/missing"]),
        Column::new("resp_status".into(), [200i64, 500, 200, 404]),
        Column::new(
            "latency".into(),
            [1_000_000i64, 9_000_000, 2_000_000, 500_000],
        ),
    ];
    let frame = schema.frame_with(n, &given).expect("one length");
    store
        .append("http_events", frame)
        .expect("the catalog schema");
    scry_runtime::data_dir::save_dir(&store, dir).expect("save the tables");
}

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[test]
fn repl_in_a_terminal_runs_inputs_completes_and_lists_tables() {
    if !tmux_available() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("tmux is needed for the REPL terminal test on CI");
        }
        eprintln!("skipping: tmux is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path().join("data");
    write_http_rows(&data);
    let history = dir.path().join("history");
    let command = format!(
        "{} repl --data {} --history {}; echo \"scry exited $?\"; sleep 600",
        shell_quote(env!("CARGO_BIN_EXE_scry")),
        shell_quote(&data.display().to_string()),
        shell_quote(&history.display().to_string()),
    );
    let tmux = Tmux::start(&command);
    tmux.wait_for("the prompt", |s| prompt_count(s) > 0);

    tmux.type_line("df = px.DataFrame(table='http_events')");
    tmux.type_line("df[df.resp_status >= 400][['req_path', 'resp_status']]");
    let screen = tmux.wait_for("the failing requests", |s| {
        s.contains("out (2 rows)") && s.contains("/missing")
    });
    let row = screen
        .lines()
        .find(|l| l.contains("/checkout"))
        .unwrap_or_else(|| panic!("no /checkout row:\n{screen}"));
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        ["/checkout", "500"]
    );

    // Tab completes a column of df inside df[['…
    tmux.type_text("paths = df[['req_pa");
    tmux.press("Tab");
    tmux.wait_for("the completion", |s| {
        s.contains(">>> paths = df[['req_path")
    });
    tmux.type_line("']]");
    tmux.type_line(":session");
    tmux.wait_for("the completed column in the session", |s| {
        s.lines()
            .any(|l| l.trim_end() == "paths = df[['req_path']]")
    });

    tmux.type_line(":tables");
    let screen = tmux.wait_for("the table list", |s| s.contains("tables ("));
    let http = screen
        .lines()
        .find(|l| l.starts_with("http_events "))
        .unwrap_or_else(|| panic!("no http_events row:\n{screen}"));
    assert_eq!(http.split_whitespace().nth(2), Some("4"), "{http}");

    tmux.type_text(":quit");
    tmux.press("Enter");
    tmux.wait_for("the REPL to exit", |s| s.contains("scry exited 0"));
    let saved = std::fs::read_to_string(&history).expect("the history file is written");
    assert!(
        saved.contains("df = px.DataFrame(table='http_events')"),
        "{saved}"
    );
}

//! What a Flight ticket (and the `run`/`compile` actions) ask for, as JSON.
//!
//! - `{"table": "http_events", "start_time": "-5m", "end_time": …}` — a raw table;
//! - `{"script": "<pxl>", "args": {…}, "output": "name"}` — run PxL text;
//! - `{"name": "px/http_data", "args": {…}, "output": "name"}` — a bundled script
//!   (or a script file on the agent's host).
//!
//! `output` picks one output table; it may be omitted when the script has
//! exactly one. `vis` (our extension) carries a vis.json text so a local
//! script folder runs in function mode on the agent. Argument values may be
//! strings, numbers or booleans; they bind like `-- --name=value` flags.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vis: Option<String>,
    /// The script's name or path on the caller's side, for diagnostics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub args: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// A result kept by the `run` action; with `output`, fetches that output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

/// A request, checked: exactly one of table / script / name (or a kept result).
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Table {
        table: String,
        start_time: Option<String>,
        end_time: Option<String>,
    },
    /// One output of a result kept by the `run` action.
    Result { id: String, output: String },
    Script {
        /// Where the text came from, for diagnostics.
        origin: String,
        pxl: Option<String>,
        name: Option<String>,
        vis: Option<String>,
        args: Vec<(String, String)>,
        output: Option<String>,
    },
}

impl TicketRequest {
    pub fn parse(bytes: &[u8]) -> Result<Request, String> {
        let t: TicketRequest = serde_json::from_slice(bytes).map_err(|e| {
            format!(
                "ticket is not the JSON scry expects ({e}); send {{\"table\": …}}, {{\"script\": …}} or {{\"name\": …}}"
            )
        })?;
        t.check()
    }

    pub fn check(self) -> Result<Request, String> {
        if let Some(id) = self.result {
            return match self.output {
                Some(output)
                    if self.table.is_none() && self.script.is_none() && self.name.is_none() =>
                {
                    Ok(Request::Result { id, output })
                }
                _ => Err("a result ticket holds only \"result\" and \"output\"".to_string()),
            };
        }
        let given = [
            self.table.is_some(),
            self.script.is_some(),
            self.name.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        if given != 1 {
            return Err(
                "a ticket names exactly one of \"table\", \"script\" or \"name\"".to_string(),
            );
        }
        if let Some(table) = self.table {
            if !self.args.is_empty() || self.output.is_some() || self.vis.is_some() {
                return Err("a table ticket takes only \"start_time\" and \"end_time\"".into());
            }
            return Ok(Request::Table {
                table,
                start_time: self.start_time.map(value_text),
                end_time: self.end_time.map(value_text),
            });
        }
        if self.start_time.is_some() || self.end_time.is_some() {
            return Err(
                "a script ticket passes times as \"args\": {\"start_time\": \"-5m\"}".into(),
            );
        }
        let args = self
            .args
            .into_iter()
            .map(|(k, v)| (k, value_text(v)))
            .collect();
        Ok(Request::Script {
            origin: self
                .name
                .clone()
                .or(self.origin)
                .unwrap_or_else(|| "<flight>".to_string()),
            pxl: self.script,
            name: self.name,
            vis: self.vis,
            args,
            output: self.output,
        })
    }
}

/// A JSON argument as the flag text it stands for.
fn value_text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_ticket() {
        let r = TicketRequest::parse(br#"{"table": "http_events", "start_time": "-5m"}"#).unwrap();
        assert_eq!(
            TicketRequest::parse(br#"{"result": "r1", "output": "o"}"#).unwrap(),
            Request::Result {
                id: "r1".into(),
                output: "o".into()
            }
        );
        assert_eq!(
            r,
            Request::Table {
                table: "http_events".into(),
                start_time: Some("-5m".into()),
                end_time: None
            }
        );
    }

    #[test]
    fn script_ticket_with_typed_args() {
        let r = TicketRequest::parse(
            br#"{"name": "px/http_data", "args": {"start_time": "-2m", "max_num_records": 5, "flag": true}, "output": "x"}"#,
        )
        .unwrap();
        let Request::Script { args, output, .. } = r else {
            panic!("not a script")
        };
        assert_eq!(
            args,
            vec![
                ("start_time".to_string(), "-2m".to_string()),
                ("max_num_records".to_string(), "5".to_string()),
                ("flag".to_string(), "True".to_string())
            ]
        );
        assert_eq!(output.as_deref(), Some("x"));
    }

    #[test]
    fn bad_tickets_say_what_to_send() {
        assert!(TicketRequest::parse(b"nope")
            .unwrap_err()
            .contains("\"table\""));
        assert!(TicketRequest::parse(br#"{"table": "a", "script": "b"}"#)
            .unwrap_err()
            .contains("exactly one"));
        assert!(TicketRequest::parse(br#"{"tabel": "a"}"#).is_err());
    }
}

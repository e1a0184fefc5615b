//! `DnsRecord` → a row of `dns_events`, with Pixie's JSON shapes:
//! - header: `{"txid":…,"qr":…,"opcode":…,"aa":…,"tc":…,"rd":…,"ra":…,"ad":…,
//!   "cd":…,"rcode":…,"num_queries":…,"num_answers":…,"num_auth":…,"num_addl":…}`
//! - request: `{"queries":[{"name":…,"type":…}]}`
//! - response: `{"answers":[{"name":…,"type":"A"|"AAAA","addr":…}|{"name":…,"type":"CNAME","cname":…}]}`

use std::borrow::Cow;
use std::fmt::Write;

use super::types::{DnsAnswerData, DnsHeader, DnsMessage, DnsRecord};
use crate::protocols::rows::{common_cell, Cell, SocketRow, TableRow, Value};
use crate::protocols::RecordCommon;

impl TableRow for DnsRecord {
    const TABLE: &'static str = "dns_events";

    fn cell(column: &str) -> Option<Cell<Self>> {
        let cell: Cell<Self> = match column {
            "req_header" => |r| Value::Str(Cow::Owned(header_json(&r.req.header))),
            "req_body" => |r| Value::Str(Cow::Owned(queries_json(&r.req))),
            "resp_header" => |r| Value::Str(Cow::Owned(header_json(&r.resp.header))),
            "resp_body" => |r| Value::Str(Cow::Owned(answers_json(&r.resp))),
            _ => return common_cell(column),
        };
        Some(cell)
    }
}

impl SocketRow for DnsRecord {
    fn common(&self) -> &RecordCommon {
        &self.common
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

pub fn header_json(h: &DnsHeader) -> String {
    format!(
        concat!(
            r#"{{"txid":{},"qr":{},"opcode":{},"aa":{},"tc":{},"rd":{},"ra":{},"ad":{},"cd":{},"#,
            r#""rcode":{},"num_queries":{},"num_answers":{},"num_auth":{},"num_addl":{}}}"#
        ),
        h.txid,
        h.qr(),
        h.opcode(),
        h.aa(),
        h.tc(),
        h.rd(),
        h.ra(),
        h.ad(),
        h.cd(),
        h.rcode(),
        h.num_queries,
        h.num_answers,
        h.num_auth,
        h.num_addl
    )
}

pub fn queries_json(m: &DnsMessage) -> String {
    let mut out = String::from(r#"{"queries":["#);
    for (i, q) in m.queries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"name":{},"type":{}}}"#,
            json_str(&q.name),
            json_str(&q.qtype)
        );
    }
    out.push_str("]}");
    out
}

pub fn answers_json(m: &DnsMessage) -> String {
    let mut out = String::from(r#"{"answers":["#);
    for (i, a) in m.answers.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let name = json_str(&a.name);
        let _ = match &a.data {
            DnsAnswerData::A(ip) => write!(out, r#"{{"name":{name},"type":"A","addr":"{ip}"}}"#),
            DnsAnswerData::Aaaa(ip) => {
                write!(out, r#"{{"name":{name},"type":"AAAA","addr":"{ip}"}}"#)
            }
            DnsAnswerData::Cname(c) => write!(
                out,
                r#"{{"name":{name},"type":"CNAME","cname":{}}}"#,
                json_str(c)
            ),
        };
    }
    out.push_str("]}");
    out
}

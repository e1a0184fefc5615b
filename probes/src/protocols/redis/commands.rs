//! Redis command names and how their arguments become `req_args` JSON.
//!
//! Pixie renders the arguments of a known command as a JSON object keyed
//! by the argument names of the Redis command reference (`GET foo` →
//! `{"key":"foo"}`, `LPUSH k a b` → `{"key":"k","element":["a","b"]}`), and
//! anything it cannot describe as a JSON array of the words. scry does the
//! same for the commands in [`SPECS`] (the common ones); other commands get
//! the array form. Argument specs use a small notation:
//! `name` (required), `[name]` (optional), `name...` (one or more),
//! `a+b...` (one or more groups of `a b`, rendered as Pixie does:
//! `"a b":[{"a":…},{"b":…},…]`).

use std::sync::OnceLock;

/// Commands whose first argument is a sub-command (`CONFIG GET`).
const CONTAINERS: &[&str] = &[
    "ACL", "CLIENT", "CLUSTER", "COMMAND", "CONFIG", "DEBUG", "FUNCTION", "LATENCY", "MEMORY",
    "MODULE", "OBJECT", "PUBSUB", "SCRIPT", "SLOWLOG", "XGROUP", "XINFO",
];

/// Command → argument spec. Special formats: `SET`, `EVAL`, `EVALSHA`, `AUTH`.
const SPECS: &[(&str, &str)] = &[
    // strings
    ("GET", "key"),
    ("GETDEL", "key"),
    ("GETSET", "key value"),
    ("SETNX", "key value"),
    ("SETEX", "key seconds value"),
    ("PSETEX", "key milliseconds value"),
    ("MGET", "key..."),
    ("MSET", "key+value..."),
    ("MSETNX", "key+value..."),
    ("APPEND", "key value"),
    ("STRLEN", "key"),
    ("INCR", "key"),
    ("DECR", "key"),
    ("INCRBY", "key increment"),
    ("DECRBY", "key decrement"),
    ("INCRBYFLOAT", "key increment"),
    ("GETRANGE", "key start end"),
    ("SETRANGE", "key offset value"),
    // keys
    ("DEL", "key..."),
    ("UNLINK", "key..."),
    ("EXISTS", "key..."),
    ("TOUCH", "key..."),
    ("EXPIRE", "key seconds [condition]"),
    ("PEXPIRE", "key milliseconds [condition]"),
    ("EXPIREAT", "key unix-time-seconds [condition]"),
    ("PEXPIREAT", "key unix-time-milliseconds [condition]"),
    ("TTL", "key"),
    ("PTTL", "key"),
    ("PERSIST", "key"),
    ("TYPE", "key"),
    ("RENAME", "key newkey"),
    ("RENAMENX", "key newkey"),
    ("KEYS", "pattern"),
    ("DUMP", "key"),
    ("WATCH", "key..."),
    // hashes
    ("HGET", "key field"),
    ("HSET", "key field+value..."),
    ("HMSET", "key field+value..."),
    ("HSETNX", "key field value"),
    ("HMGET", "key field..."),
    ("HDEL", "key field..."),
    ("HGETALL", "key"),
    ("HKEYS", "key"),
    ("HVALS", "key"),
    ("HLEN", "key"),
    ("HEXISTS", "key field"),
    ("HINCRBY", "key field increment"),
    ("HINCRBYFLOAT", "key field increment"),
    ("HSTRLEN", "key field"),
    // lists
    ("LPUSH", "key element..."),
    ("RPUSH", "key element..."),
    ("LPUSHX", "key element..."),
    ("RPUSHX", "key element..."),
    ("LPOP", "key [count]"),
    ("RPOP", "key [count]"),
    ("LLEN", "key"),
    ("LRANGE", "key start stop"),
    ("LINDEX", "key index"),
    ("LSET", "key index element"),
    ("LREM", "key count element"),
    ("LTRIM", "key start stop"),
    ("BLPOP", "key... timeout"),
    ("BRPOP", "key... timeout"),
    ("RPOPLPUSH", "source destination"),
    ("BRPOPLPUSH", "source destination timeout"),
    // sets
    ("SADD", "key member..."),
    ("SREM", "key member..."),
    ("SMEMBERS", "key"),
    ("SISMEMBER", "key member"),
    ("SMISMEMBER", "key member..."),
    ("SCARD", "key"),
    ("SPOP", "key [count]"),
    ("SRANDMEMBER", "key [count]"),
    ("SINTER", "key..."),
    ("SUNION", "key..."),
    ("SDIFF", "key..."),
    // sorted sets
    ("ZADD", "key score+member..."),
    ("ZREM", "key member..."),
    ("ZSCORE", "key member"),
    ("ZCARD", "key"),
    ("ZINCRBY", "key increment member"),
    ("ZRANK", "key member"),
    ("ZREVRANK", "key member"),
    ("ZCOUNT", "key min max"),
    ("ZPOPMIN", "key [count]"),
    ("ZPOPMAX", "key [count]"),
    // pub/sub
    ("PUBLISH", "channel message"),
    ("SPUBLISH", "shardchannel message"),
    ("SUBSCRIBE", "channel..."),
    ("PSUBSCRIBE", "pattern..."),
    ("SSUBSCRIBE", "shardchannel..."),
    ("UNSUBSCRIBE", "channel..."),
    ("PUNSUBSCRIBE", "pattern..."),
    ("SUNSUBSCRIBE", "shardchannel..."),
    // streams
    ("XLEN", "key"),
    ("XRANGE", "key start end"),
    ("XREVRANGE", "key end start"),
    ("XDEL", "key id..."),
    ("XACK", "key group id..."),
    // connection and server
    ("PING", "[message]"),
    ("ECHO", "message"),
    ("SELECT", "index"),
    ("SWAPDB", "index1 index2"),
    ("INFO", "section..."),
    ("CLIENT SETNAME", "connection-name"),
    ("CLIENT SETINFO", "attr value"),
    ("CLIENT KILL", "ip:port"),
    ("CONFIG GET", "parameter..."),
    ("CONFIG SET", "parameter+value..."),
    ("OBJECT ENCODING", "key"),
    ("MEMORY USAGE", "key"),
    ("SCRIPT LOAD", "script"),
    ("SCRIPT EXISTS", "sha1..."),
];

/// Commands recognised without an argument spec (inference, inline resync).
const OTHER_COMMANDS: &[&str] = &[
    "SET",
    "EVAL",
    "EVALSHA",
    "AUTH",
    "HELLO",
    "QUIT",
    "RESET",
    "MULTI",
    "EXEC",
    "DISCARD",
    "UNWATCH",
    "DBSIZE",
    "FLUSHDB",
    "FLUSHALL",
    "RANDOMKEY",
    "SCAN",
    "SSCAN",
    "HSCAN",
    "ZSCAN",
    "ZRANGE",
    "ZRANGEBYSCORE",
    "ZREVRANGE",
    "XADD",
    "XREAD",
    "XREADGROUP",
    "MONITOR",
    "SAVE",
    "BGSAVE",
    "LASTSAVE",
    "TIME",
    "ROLE",
    "REPLCONF",
    "PSYNC",
    "SYNC",
    "WAIT",
    "SORT",
    "OBJECT",
    "GETEX",
    "SETBIT",
    "GETBIT",
    "BITCOUNT",
    "PFADD",
    "PFCOUNT",
    "GEOADD",
    "GEORADIUS",
    "GEOSEARCH",
    "LMOVE",
    "BLMOVE",
    "LPOS",
    "SMOVE",
    "ZUNIONSTORE",
    "ZINTERSTORE",
    "COPY",
    "MOVE",
    "RESTORE",
    "MIGRATE",
    "EXPIRETIME",
    "FCALL",
    "SHUTDOWN",
    "LOLWUT",
];

#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Fixed(&'static str),
    Opt(&'static str),
    /// JSON key, sub-field names.
    List(&'static str, Vec<&'static str>),
}

/// [`SPECS`] parsed, sorted by command for binary search (looked up for
/// every request: cheaper than hashing the name).
fn specs() -> &'static [(&'static str, Vec<Arg>)] {
    static SPECS_SORTED: OnceLock<Vec<(&'static str, Vec<Arg>)>> = OnceLock::new();
    SPECS_SORTED.get_or_init(|| {
        let mut v: Vec<(&'static str, Vec<Arg>)> = SPECS
            .iter()
            .map(|&(cmd, spec)| {
                let args = spec
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(|tok| {
                        if let Some(list) = tok.strip_suffix("...") {
                            let subs: Vec<&'static str> = list.split('+').collect();
                            let key = if subs.len() == 1 { list } else { "" };
                            Arg::List(key, subs)
                        } else if let Some(opt) =
                            tok.strip_prefix('[').and_then(|t| t.strip_suffix(']'))
                        {
                            Arg::Opt(opt)
                        } else {
                            Arg::Fixed(tok)
                        }
                    })
                    .collect();
                (cmd, args)
            })
            .collect();
        v.sort_by_key(|(cmd, _)| *cmd);
        v
    })
}

fn spec(cmd: &str) -> Option<&'static [Arg]> {
    let specs = specs();
    specs
        .binary_search_by_key(&cmd, |(c, _)| *c)
        .ok()
        .map(|i| specs[i].1.as_slice())
}

/// Every command name scry knows (specs, containers, others), sorted.
fn known_commands() -> &'static [&'static str] {
    static KNOWN: OnceLock<Vec<&'static str>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let mut v: Vec<&'static str> = SPECS
            .iter()
            .map(|(c, _)| *c)
            .chain(CONTAINERS.iter().copied())
            .chain(OTHER_COMMANDS.iter().copied())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    })
}

/// True if `word` (any case) names a command scry knows.
pub fn is_known_command(word: &[u8]) -> bool {
    // Upper-cased on the stack: called for every request the tracer sees.
    // Command names are short ASCII words; anything else is not one.
    let mut buf = [0u8; 32];
    if word.len() > buf.len() || !word.is_ascii() {
        return false;
    }
    let upper = &mut buf[..word.len()];
    upper.copy_from_slice(word);
    upper.make_ascii_uppercase();
    let Ok(upper) = std::str::from_utf8(upper) else {
        return false;
    };
    known_commands().binary_search(&upper).is_ok()
}

/// Splits a request's words into the command (upper case; two words for
/// container commands) and its arguments.
pub fn split_command<S: AsRef<str>>(words: &[S]) -> (String, &[S]) {
    let Some(first) = words.first() else {
        return (String::new(), words);
    };
    let first = first.as_ref().to_ascii_uppercase();
    if CONTAINERS.contains(&first.as_str()) {
        if let Some(second) = words.get(1) {
            return (
                format!("{first} {}", second.as_ref().to_ascii_uppercase()),
                &words[2..],
            );
        }
    }
    (first, &words[1..])
}

/// `req_args` for `cmd` with `args`.
pub fn format_args<S: AsRef<str>>(cmd: &str, args: &[S]) -> String {
    let special = match cmd {
        "SET" => format_set(args),
        "EVAL" => format_eval("script", args),
        "EVALSHA" => format_eval("sha1", args),
        "AUTH" => match args {
            [password] => Some(Obj::new().kv("password", password.as_ref()).finish()),
            [user, password] => Some(
                Obj::new()
                    .kv("username", user.as_ref())
                    .kv("password", password.as_ref())
                    .finish(),
            ),
            _ => None,
        },
        _ => spec(cmd).and_then(|spec| format_by_spec(spec, args)),
    };
    special.unwrap_or_else(|| json_array(args))
}

fn format_by_spec<S: AsRef<str>>(spec: &[Arg], args: &[S]) -> Option<String> {
    if spec.is_empty() {
        return None;
    }
    let mut obj = Obj::new();
    let mut rest = args;
    for (i, arg) in spec.iter().enumerate() {
        let required_after = spec[i + 1..]
            .iter()
            .filter(|a| matches!(a, Arg::Fixed(_)))
            .count();
        match arg {
            Arg::Fixed(name) => {
                let (v, r) = rest.split_first()?;
                obj = obj.kv(name, v.as_ref());
                rest = r;
            }
            Arg::Opt(name) => {
                if rest.len() > required_after {
                    let (v, r) = rest.split_first()?;
                    obj = obj.kv(name, v.as_ref());
                    rest = r;
                }
            }
            Arg::List(key, subs) => {
                let n = rest.len().checked_sub(required_after)?;
                if n == 0 || n % subs.len() != 0 {
                    return None;
                }
                let (items, r) = rest.split_at(n);
                obj = if subs.len() == 1 {
                    obj.raw(key, &json_array(items))
                } else {
                    obj.raw(&subs.join(" "), &repeated_kvs(subs, items))
                };
                rest = r;
            }
        }
    }
    if !rest.is_empty() {
        return None;
    }
    Some(obj.finish())
}

/// `SET key value [EX s|PX ms|EXAT t|PXAT t|KEEPTTL] [NX|XX] [GET]`:
/// `{"key":…,"value":…,"options":[…]}`, an expiry kept with its amount.
fn format_set<S: AsRef<str>>(args: &[S]) -> Option<String> {
    let [key, value, opts @ ..] = args else {
        return None;
    };
    let mut obj = Obj::new()
        .kv("key", key.as_ref())
        .kv("value", value.as_ref());
    // The options array, written in place.
    obj.key("options");
    obj.0.push('[');
    let mut i = 0;
    while i < opts.len() {
        if i > 0 {
            obj.0.push(',');
        }
        let o = opts[i].as_ref();
        if ["EX", "PX", "EXAT", "PXAT"]
            .iter()
            .any(|t| o.eq_ignore_ascii_case(t))
        {
            let amount = opts.get(i + 1)?.as_ref();
            push_json_str(&mut obj.0, &format!("{o} {amount}"));
            i += 2;
        } else {
            push_json_str(&mut obj.0, o);
            i += 1;
        }
    }
    obj.0.push(']');
    Some(obj.finish())
}

/// `EVAL script numkeys key... arg...`: `{"script":…,"numkeys":…,"key":[…],"value":[…]}`.
fn format_eval<S: AsRef<str>>(first: &str, args: &[S]) -> Option<String> {
    let [script, numkeys, rest @ ..] = args else {
        return None;
    };
    let n: usize = numkeys.as_ref().parse().ok()?;
    if n > rest.len() {
        return None;
    }
    let (keys, values) = rest.split_at(n);
    Some(
        Obj::new()
            .kv(first, script.as_ref())
            .kv("numkeys", numkeys.as_ref())
            .raw("key", &json_array(keys))
            .raw("value", &json_array(values))
            .finish(),
    )
}

pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_json_str(&mut out, s);
    out
}

/// Appends `s` as a JSON string, escaped exactly as `serde_json` does (`"`,
/// `\`, and control characters; everything else verbatim), without the
/// intermediate `String` per value: every Redis request renders its
/// arguments, so this is on the tracer's hot path.
pub fn push_json_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    // Nearly every string needs no escape. This check has no early exit,
    // so it compiles to a few vector instructions, not a loop per byte.
    let needs_escape = s.bytes().fold(false, |any, b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if !needs_escape {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.push_str(&s[start..i]);
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
        // Escaped bytes are ASCII, so i + 1 is a char boundary.
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

pub fn json_array<S: AsRef<str>>(items: &[S]) -> String {
    let mut out =
        String::with_capacity(2 + items.iter().map(|s| s.as_ref().len() + 3).sum::<usize>());
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(&mut out, s.as_ref());
    }
    out.push(']');
    out
}

/// Pixie's repeated key-values: `[{"a":v1},{"b":v2},{"a":v3},…]`.
fn repeated_kvs<S: AsRef<str>>(subs: &[&str], items: &[S]) -> String {
    let mut out = String::from("[");
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let key = subs[i % subs.len()];
        out.push('{');
        push_json_str(&mut out, key);
        out.push(':');
        push_json_str(&mut out, v.as_ref());
        out.push('}');
    }
    out.push(']');
    out
}

/// A JSON object written in insertion order.
struct Obj(String);

impl Obj {
    fn new() -> Obj {
        // Room for a typical request's arguments: growing a String from
        // one byte reallocates several times per request.
        let mut s = String::with_capacity(96);
        s.push('{');
        Obj(s)
    }
    fn key(&mut self, key: &str) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        push_json_str(&mut self.0, key);
        self.0.push(':');
    }
    fn raw(mut self, key: &str, json: &str) -> Obj {
        self.key(key);
        self.0.push_str(json);
        self
    }
    fn kv(mut self, key: &str, value: &str) -> Obj {
        self.key(key);
        push_json_str(&mut self.0, value);
        self
    }
    fn finish(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_match_serde_json() {
        for s in [
            "",
            "plain",
            "quote \" and \\ backslash",
            "nl\n cr\r tab\t bs\u{8} ff\u{c} nul\u{0} us\u{1f} del\u{7f}",
            "ünïcødé ✓ 🦀",
            "\u{1}\u{2}x\"",
        ] {
            assert_eq!(json_str(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    fn fmt(s: &str) -> (String, String) {
        let w = words(s);
        let (cmd, args) = split_command(&w);
        let a = format_args(&cmd, args);
        (cmd, a)
    }

    #[test]
    fn pixie_shapes() {
        assert_eq!(fmt("get foo"), ("GET".into(), r#"{"key":"foo"}"#.into()));
        assert_eq!(
            fmt("LPUSH foo bar0 bar1"),
            (
                "LPUSH".into(),
                r#"{"key":"foo","element":["bar0","bar1"]}"#.into()
            )
        );
        assert_eq!(
            fmt("HSET foo field val"),
            (
                "HSET".into(),
                r#"{"key":"foo","field value":[{"field":"field"},{"value":"val"}]}"#.into()
            )
        );
        assert_eq!(
            fmt("SET k v EX 10 NX"),
            (
                "SET".into(),
                r#"{"key":"k","value":"v","options":["EX 10","NX"]}"#.into()
            )
        );
        assert_eq!(
            fmt("config get maxmemory"),
            ("CONFIG GET".into(), r#"{"parameter":["maxmemory"]}"#.into())
        );
        assert_eq!(
            fmt("CLIENT SETNAME app"),
            (
                "CLIENT SETNAME".into(),
                r#"{"connection-name":"app"}"#.into()
            )
        );
        assert_eq!(
            fmt("EVALSHA abc 1 k v"),
            (
                "EVALSHA".into(),
                r#"{"sha1":"abc","numkeys":"1","key":["k"],"value":["v"]}"#.into()
            )
        );
        assert_eq!(
            fmt("ZPOPMAX foo 10"),
            ("ZPOPMAX".into(), r#"{"key":"foo","count":"10"}"#.into())
        );
        assert_eq!(
            fmt("ZPOPMAX foo"),
            ("ZPOPMAX".into(), r#"{"key":"foo"}"#.into())
        );
        assert_eq!(
            fmt("BLPOP a b 5"),
            ("BLPOP".into(), r#"{"key":["a","b"],"timeout":"5"}"#.into())
        );
        assert_eq!(fmt("PING"), ("PING".into(), "{}".into()));
        assert_eq!(fmt("MULTI"), ("MULTI".into(), "[]".into()));
        // Arguments that do not fit the spec fall back to the array form.
        assert_eq!(fmt("GET a b"), ("GET".into(), r#"["a","b"]"#.into()));
        assert_eq!(
            fmt("CLIENT NO-EVICT on"),
            ("CLIENT NO-EVICT".into(), r#"["on"]"#.into())
        );
    }

    #[test]
    fn known_commands() {
        assert!(is_known_command(b"get"));
        assert!(is_known_command(b"CONFIG"));
        assert!(is_known_command(b"set"));
        assert!(!is_known_command(b"hello world"));
        assert!(!is_known_command(b"\xff"));
    }
}
